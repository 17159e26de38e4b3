import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import { notImplementedAll } from '../not-implemented.js';

type Ops = 'getLoginPage' | 'login' | 'logout' | 'logoutOtherSessions' | 'getTwoFactorPage' | 'submitTwoFactor' | 'sendMagicLink' | 'openMagicLink' | 'submitMagicLinkTwoFactor' | 'getOnboardingPage' | 'getPassphraseResetPage' | 'requestPassphraseReset' | 'getPassphraseRenewPage' | 'renewPassphrase' | 'sendHint';

export const loginHandlers: Pick<Handlers<RequestContext>, Ops> = {
  ...notImplementedAll([
    'getLoginPage',
    'login',
    'logout',
    'logoutOtherSessions',
    'getTwoFactorPage',
    'submitTwoFactor',
    'sendMagicLink',
    'openMagicLink',
    'submitMagicLinkTwoFactor',
    'getOnboardingPage',
    'getPassphraseResetPage',
    'requestPassphraseReset',
    'getPassphraseRenewPage',
    'renewPassphrase',
    'sendHint',
  ] as const),
};
