// @hearth/client: the SDK generated from the public contract, plus hand-written helpers.
export * from './generated/public/index.js';
export { client } from './generated/public/client.gen.js';
export { createClient, createConfig } from './generated/public/client/index.js';
export * as schemas from './generated/public/zod.gen.js';
export * from './helpers/passphrase.js';
export * from './helpers/pkce.js';
export * from './helpers/authorize.js';
export * from './helpers/flows.js';
