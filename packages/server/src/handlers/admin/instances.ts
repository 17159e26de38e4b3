// Admin API: health, and creating, listing, reading, changing and deleting instances.
import type { AdminHandlers } from '../../generated/admin-operations.gen.js';
import type { AdminContext } from '../../http/apps.js';
import { plainError } from '../../http/errors.js';
import {
  checkCreateInstanceInput,
  createInstance,
  instanceView,
  InstanceExistsError,
  updateInstance,
} from '../../domain/instances.js';
import { deleteInstance, listInstances } from '../../repositories/instances.js';
import { instanceOr404 } from './common.js';

type Ops = 'getAdminStatus' | 'createInstance' | 'listInstances' | 'getInstance' | 'updateInstance' | 'deleteInstance';

export const adminInstanceHandlers: Pick<AdminHandlers<AdminContext>, Ops> = {
  async getAdminStatus(_request, ctx) {
    try {
      await ctx.services.database.ping();
      return { status: 200, type: 'application/json', body: { status: 'OK', database: 'healthy' } };
    } catch (err) {
      ctx.services.logger.error({ err }, 'admin status: the database does not answer');
      return { status: 503, type: 'application/json', body: { status: 'KO', database: 'unhealthy' } };
    }
  },

  async createInstance(request, ctx) {
    const input = request.body.value;
    checkCreateInstanceInput(input);
    try {
      const instance = await createInstance(ctx.services, input);
      ctx.services.logger.info({ instance: instance.domain }, 'admin: instance created');
      return { status: 201, type: 'application/json', body: await instanceView(ctx.services, instance) };
    } catch (err) {
      if (err instanceof InstanceExistsError) throw plainError(409, 'instance already exists');
      throw err;
    }
  },

  async listInstances(_request, ctx) {
    const instances = await listInstances(ctx.services.db);
    const views = [];
    for (const instance of instances) views.push(await instanceView(ctx.services, instance));
    return { status: 200, type: 'application/json', body: { count: views.length, instances: views } };
  },

  async getInstance(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    return { status: 200, type: 'application/json', body: await instanceView(ctx.services, instance) };
  },

  async updateInstance(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    const updated = await updateInstance(ctx.services, instance, request.body.value);
    ctx.services.logger.info({ instance: instance.domain, fields: Object.keys(request.body.value) }, 'admin: instance changed');
    return { status: 200, type: 'application/json', body: await instanceView(ctx.services, updated) };
  },

  async deleteInstance(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    if (!(await deleteInstance(ctx.services.db, instance.id))) throw plainError(404, 'instance not found');
    ctx.services.logger.info({ instance: instance.domain }, 'admin: instance deleted');
    return { status: 204 };
  },
};
