/** Public API of the Hearth security primitives (pure functions: no database, no HTTP). */
export { createLimiter, type Limiter } from './limiter.js';
export {
  configureHashing,
  hashingStats,
  runHashing,
  DEFAULT_HASHING_CONCURRENCY,
  type HashingOptions,
} from './hashing.js';
export type { Now } from './time.js';
export {
  hashPassphrase,
  verifyPassphrase,
  parseScryptHash,
  SCRYPT_N,
  SCRYPT_R,
  SCRYPT_P,
  SCRYPT_SALT_LENGTH,
  SCRYPT_KEY_LENGTH,
  type VerifyResult,
} from './passwords.js';
export {
  deriveClientHash,
  deriveClientKeys,
  saltFor,
  validateIterations,
  DEFAULT_ITERATIONS,
  MIN_ITERATIONS,
  MAX_ITERATIONS,
  type ClientKeys,
} from './kdf.js';
export { randomAlnum, randomHex, randomBase64Url, newId, newSecret } from './random.js';
export {
  encodeAuthMessage,
  decodeAuthMessage,
  MAC_LENGTH,
  MIN_MAC_KEY_LENGTH,
  DEFAULT_MAC_MAX_LENGTH,
  type AuthMessage,
} from './mac.js';
export {
  signJwt,
  verifyJwt,
  peekJwt,
  pickJwtKey,
  isAudience,
  tokenLifetimeSeconds,
  AUDIENCES,
  JWT_SIGNING_KEY,
  type Audience,
  type JwtKeyKind,
  type JwtClaims,
  type JwtClaimsInput,
  type VerifyJwtOptions,
  type VerifyJwtResult,
  type PeekedJwt,
} from './jwt.js';
export {
  encodeSessionCookie,
  decodeSessionCookie,
  sessionCookieName,
  sessionSecretKey,
  serializeCookie,
  serializeSessionCookie,
  clearCookie,
  cookieDomain,
  sessionMaxAge,
  SessionDuration,
  SESSION_MAX_AGE,
  SESSION_COOKIE_MAX_LENGTH,
  type SerializeCookieOptions,
} from './cookies.js';
export {
  totp,
  hotp,
  verifyTotp,
  createTwoFactorToken,
  verifyTwoFactor,
  createTrustedDeviceToken,
  verifyTrustedDeviceToken,
  activationCode,
  verifyActivationCode,
  createConfirmFlagship,
  verifyConfirmFlagship,
  TWO_FACTOR_TOTP,
  CONFIRM_FLAGSHIP_TOTP,
  type TotpAlgorithm,
  type TotpOptions,
} from './twofactor.js';
export {
  parseScope,
  serializeScope,
  appSlugFromScope,
  isMaximal,
  maximalSet,
  allowWholeType,
  allowId,
  permissionsFromManifest,
  isVerb,
  InvalidScopeError,
  VERBS,
  MAXIMAL_TYPE,
  type Verb,
  type PermissionRule,
  type PermissionSet,
  type ManifestPermission,
} from './permissions.js';
export { verifyPkceS256, createPkcePair, pkceChallengeS256 } from './pkce.js';
