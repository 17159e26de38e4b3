// The repositories: plain functions over a Kysely database or transaction, returning domain
// objects (camelCase, real booleans, parsed JSON, epoch-ms numbers).

export * from './errors.js';
export * from './instances.js';
export * from './settings.js';
export * from './sessions.js';
export * from './login-history.js';
export * from './oauth-clients.js';
export * from './access-codes.js';
export * from './codes.js';
export * from './rate-limits.js';
export * from './apps.js';
export * from './avatars.js';
export * from './notifications.js';
export * from './feature-flags.js';
