// @hearth/client/admin: the SDK generated from the admin contract (operators, the CLI, test harnesses).
export * from './generated/admin/index.js';
export { client } from './generated/admin/client.gen.js';
export { createClient, createConfig } from './generated/admin/client/index.js';
export * as schemas from './generated/admin/zod.gen.js';
