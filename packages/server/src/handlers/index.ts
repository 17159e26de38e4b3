// The handler maps. The generated types require one handler per operationId of each document:
// an operation of the contract with no handler is a compile error. Each area module owns its
// operations (every operation of both documents has a real handler).
import type { Handlers } from '../generated/public-operations.gen.js';
import type { RequestContext } from '../http/context.js';
import { statusHandlers } from './status.js';
import { capabilitiesHandlers } from './settings/capabilities.js';
import { settingsAccountHandlers } from './settings/account.js';
import { settingsInstanceHandlers } from './settings/instance.js';
import { settingsSessionsHandlers } from './settings/sessions.js';
import { oauthHandlers } from './auth/oauth.js';
import { flagshipHandlers } from './auth/flagship.js';
import { loginHandlers } from './auth/login.js';
import { notificationsHandlers } from './notifications.js';
export { adminHandlers } from './admin/index.js';

export const publicHandlers: Handlers<RequestContext> = {
  ...statusHandlers,
  ...capabilitiesHandlers,
  ...settingsAccountHandlers,
  ...settingsInstanceHandlers,
  ...settingsSessionsHandlers,
  ...oauthHandlers,
  ...flagshipHandlers,
  ...loginHandlers,
  ...notificationsHandlers,
};
