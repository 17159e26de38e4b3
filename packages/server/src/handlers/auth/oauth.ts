import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import { notImplementedAll } from '../not-implemented.js';

type Ops = 'registerOAuthClient' | 'getOAuthClientRegistration' | 'updateOAuthClientRegistration' | 'deleteOAuthClientRegistration' | 'getAuthorizePage' | 'authorize' | 'createAccessToken';

export const oauthHandlers: Pick<Handlers<RequestContext>, Ops> = {
  ...notImplementedAll([
    'registerOAuthClient',
    'getOAuthClientRegistration',
    'updateOAuthClientRegistration',
    'deleteOAuthClientRegistration',
    'getAuthorizePage',
    'authorize',
    'createAccessToken',
  ] as const),
};
