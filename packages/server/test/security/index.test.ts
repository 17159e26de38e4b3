import { describe, expect, it } from 'vitest';
import * as security from '../../src/security/index.js';

describe('security index', () => {
  it('re-exports the public API', () => {
    for (const name of [
      'createLimiter',
      'configureHashing',
      'hashPassphrase',
      'verifyPassphrase',
      'deriveClientHash',
      'saltFor',
      'validateIterations',
      'randomAlnum',
      'randomHex',
      'randomBase64Url',
      'newId',
      'newSecret',
      'signJwt',
      'verifyJwt',
      'peekJwt',
      'encodeSessionCookie',
      'decodeSessionCookie',
      'serializeCookie',
      'clearCookie',
      'cookieDomain',
      'totp',
      'createTwoFactorToken',
      'verifyTwoFactor',
      'createTrustedDeviceToken',
      'verifyTrustedDeviceToken',
      'activationCode',
      'verifyActivationCode',
      'createConfirmFlagship',
      'verifyConfirmFlagship',
      'parseScope',
      'isMaximal',
      'allowWholeType',
      'allowId',
      'permissionsFromManifest',
      'serializeScope',
      'verifyPkceS256',
      'createPkcePair',
    ]) {
      expect(typeof (security as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(security.DEFAULT_ITERATIONS).toBe(650_000);
    expect(security.SessionDuration.LongRun).toBe('LongRun');
  });
});
