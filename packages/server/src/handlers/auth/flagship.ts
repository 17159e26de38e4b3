import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import { notImplementedAll } from '../not-implemented.js';

type Ops = 'createAttestationChallenge' | 'submitAttestation' | 'confirmFlagshipCode' | 'getPrelogin' | 'loginFlagship' | 'loginMagicLinkFlagship' | 'exchangeOidcToken' | 'createSessionCode' | 'createKonnectorToken' | 'getAppOpenParameters';

export const flagshipHandlers: Pick<Handlers<RequestContext>, Ops> = {
  ...notImplementedAll([
    'createAttestationChallenge',
    'submitAttestation',
    'confirmFlagshipCode',
    'getPrelogin',
    'loginFlagship',
    'loginMagicLinkFlagship',
    'exchangeOidcToken',
    'createSessionCode',
    'createKonnectorToken',
    'getAppOpenParameters',
  ] as const),
};
