// The admin API (admin.yaml): every operation, by area.
import type { AdminHandlers } from '../../generated/admin-operations.gen.js';
import type { AdminContext } from '../../http/apps.js';
import { adminAppHandlers } from './apps.js';
import { adminClientHandlers } from './clients.js';
import { adminCodeHandlers } from './codes.js';
import { adminInstanceHandlers } from './instances.js';
import { adminTokenHandlers } from './tokens.js';

export const adminHandlers: AdminHandlers<AdminContext> = {
  ...adminInstanceHandlers,
  ...adminTokenHandlers,
  ...adminClientHandlers,
  ...adminAppHandlers,
  ...adminCodeHandlers,
};
