import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import { capabilitiesOf } from '../../domain/capabilities.js';

export const capabilitiesHandlers: Pick<Handlers<RequestContext>, 'getCapabilities'> = {
  async getCapabilities(_request, ctx) {
    await ctx.auth.permission();
    return {
      status: 200,
      type: 'application/vnd.api+json',
      body: {
        data: {
          type: 'io.cozy.settings',
          id: 'io.cozy.settings.capabilities',
          attributes: capabilitiesOf(ctx.services.config, ctx.instance),
          meta: {},
          links: { self: '/settings/capabilities' },
        },
      },
    };
  },
};
