import type { AdminHandlers } from '../../generated/admin-operations.gen.js';
import type { AdminContext } from '../../http/apps.js';
import { notImplementedAll } from '../not-implemented.js';

export const adminHandlers: AdminHandlers<AdminContext> = {
  ...notImplementedAll([
    'checkSessionCode',
    'createEmailVerifiedCode',
    'createInstance',
    'createMagicLinkCode',
    'createOAuthClient',
    'createOidcDelegatedCode',
    'createSessionCodeAdmin',
    'createToken',
    'deleteInstance',
    'getAdminStatus',
    'getInstance',
    'installApp',
    'listInstances',
    'listMails',
    'updateInstance',
    'updateOAuthClientFlags',
  ] as const),
};
