// POST /notifications (reference §4.1): thin handler, the logic lives in src/domain/notifications.ts
// and the delivery in src/push/router.ts.
import type { Handlers } from '../generated/public-operations.gen.js';
import type { RequestContext } from '../http/context.js';
import { jsonApiError } from '../http/errors.js';
import { checkTosDeadline, createNotification, type NotificationInput } from '../domain/notifications.js';
import { nextRev } from '../db/util.js';

type Ops = 'createNotification';

export const notificationsHandlers: Pick<Handlers<RequestContext>, Ops> = {
  async createNotification(request, ctx) {
    const redirect = await checkTosDeadline(ctx.services, ctx.instance, ctx.now, ctx.req.headers.accept);
    if (redirect) return { status: 302, headers: { Location: redirect } };
    const perm = await ctx.auth.permission();
    if (perm.kind !== 'app' && perm.kind !== 'konnector' && perm.kind !== 'oauth') {
      throw jsonApiError(403, 'Not authorized to send notification');
    }
    const attributes = (request.body?.value as { data?: { attributes?: unknown } } | undefined)?.data?.attributes;
    if (!attributes || typeof attributes !== 'object') {
      throw jsonApiError(400, 'JSON input is malformed or is missing a required attribute');
    }
    const created = await createNotification(ctx.services, ctx.instance, perm, attributes as NotificationInput, ctx.now);
    const attrs = created.attributes as never;
    if (!created.stored) {
      return { status: 201, type: 'application/vnd.api+json', body: { data: { type: 'io.cozy.notifications', attributes: attrs, meta: {} as Record<string, never> } } };
    }
    const id = created.stored.id;
    return {
      status: 201,
      type: 'application/vnd.api+json',
      body: {
        data: {
          type: 'io.cozy.notifications',
          id,
          attributes: attrs,
          meta: { rev: nextRev(null, { id, ...created.stored.doc }) },
          links: { self: `/notifications/${id}` },
        },
      },
    };
  },
};
