import type { Handlers } from '../generated/public-operations.gen.js';
import type { RequestContext } from '../http/context.js';
import { notImplementedAll } from './not-implemented.js';

type Ops = 'createNotification';

export const notificationsHandlers: Pick<Handlers<RequestContext>, Ops> = {
  ...notImplementedAll([
    'createNotification',
  ] as const),
};
