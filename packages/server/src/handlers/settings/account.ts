import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import { notImplementedAll } from '../not-implemented.js';

type Ops = 'getPassphraseParameters' | 'registerPassphrase' | 'registerPassphraseFlagship' | 'updatePassphrase' | 'checkPassphrase' | 'getHint' | 'updateHint' | 'initVault' | 'requestEmailUpdate' | 'cancelEmailUpdate' | 'resendEmailUpdate' | 'confirmEmailUpdate';

export const settingsAccountHandlers: Pick<Handlers<RequestContext>, Ops> = {
  ...notImplementedAll([
    'getPassphraseParameters',
    'registerPassphrase',
    'registerPassphraseFlagship',
    'updatePassphrase',
    'checkPassphrase',
    'getHint',
    'updateHint',
    'initVault',
    'requestEmailUpdate',
    'cancelEmailUpdate',
    'resendEmailUpdate',
    'confirmEmailUpdate',
  ] as const),
};
