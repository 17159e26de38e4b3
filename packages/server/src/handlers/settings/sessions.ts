import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import { notImplementedAll } from '../not-implemented.js';

type Ops = 'listSessions' | 'getCurrentSession' | 'listOAuthClients' | 'revokeOAuthClient' | 'getClientsLimitExceededPage' | 'markClientSynchronized' | 'finishOnboarding' | 'getInstallFlagshipAppPage' | 'uploadAvatar' | 'deleteAvatar';

export const settingsSessionsHandlers: Pick<Handlers<RequestContext>, Ops> = {
  ...notImplementedAll([
    'listSessions',
    'getCurrentSession',
    'listOAuthClients',
    'revokeOAuthClient',
    'getClientsLimitExceededPage',
    'markClientSynchronized',
    'finishOnboarding',
    'getInstallFlagshipAppPage',
    'uploadAvatar',
    'deleteAvatar',
  ] as const),
};
