// Admin API: installing a webapp or a konnector from a minimal manifest.
import type { AdminHandlers } from '../../generated/admin-operations.gen.js';
import type { components } from '../../generated/admin-api.gen.js';
import type { AdminContext } from '../../http/apps.js';
import { plainError } from '../../http/errors.js';
import { installApp, type App } from '../../repositories/apps.js';
import { ConflictError } from '../../repositories/errors.js';
import { instanceOr404, isoTime } from './common.js';

type AdminApp = components['schemas']['AdminApp'];

export function appView(app: App): AdminApp {
  const view: AdminApp = {
    slug: app.slug,
    type: app.type,
    name: app.name,
    state: 'ready',
    permissions: app.permissions as AdminApp['permissions'],
    notifications: app.notifications as AdminApp['notifications'],
    installed_at: isoTime(app.createdAt),
  };
  if (app.editor !== null) view.editor = app.editor;
  return view;
}

export const adminAppHandlers: Pick<AdminHandlers<AdminContext>, 'installApp'> = {
  async installApp(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    const body = request.body.value;
    try {
      const app = await installApp(ctx.services.db, {
        instanceId: instance.id,
        slug: body.slug,
        type: body.type,
        name: body.name,
        editor: body.editor ?? null,
        permissions: body.permissions ?? {},
        notifications: body.notifications ?? {},
        now: ctx.now,
      });
      ctx.services.logger.info({ instance: instance.domain, slug: app.slug, type: app.type }, 'admin: app installed');
      return { status: 201, type: 'application/json', body: appView(app) };
    } catch (err) {
      if (err instanceof ConflictError) throw plainError(409, 'app already installed');
      throw err;
    }
  },
};
