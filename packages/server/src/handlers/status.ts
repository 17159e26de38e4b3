import type { Handlers } from '../generated/public-operations.gen.js';
import type { RequestContext } from '../http/context.js';

export const statusHandlers: Pick<Handlers<RequestContext>, 'getStatus'> = {
  async getStatus(_request, ctx) {
    try {
      const latency = await ctx.services.database.ping();
      return {
        status: 200,
        type: 'application/json',
        body: { status: 'OK', message: 'OK', database: 'healthy', database_latency_ms: Math.round(latency) },
      };
    } catch (err) {
      ctx.logger.error({ err }, 'status: the database does not answer');
      return {
        status: 503,
        type: 'application/json',
        body: { status: 'KO', message: 'the database does not answer', database: 'unhealthy' },
      };
    }
  },
};
