// /settings/instance and the instance-level settings routes (reference §2.1, §2.2, §2.11, §2.12).
import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import { jsonApiError, tokenErrors } from '../../http/errors.js';
import { allowId, allowWholeType } from '../../security/index.js';
import { BrokerError, publishJson } from '../../domain/amqp.js';
import { computeFeatureFlags } from '../../domain/flags.js';
import {
  SETTINGS_INSTANCE_ID,
  changeAuthMode,
  clearMovedFrom,
  clientsUsageOf,
  contextAttributes,
  diskUsageOf,
  readInstanceSettings,
  signTos,
  warningsOf,
  writeInstanceSettings,
} from '../../domain/instance-settings.js';
import { externalTies, managerPremiumPage, managerUrlOf, requestDeletionAtCloudery, UpstreamError } from '../../domain/manager.js';

type Ops =
  | 'getInstanceSettings'
  | 'updateInstanceSettings'
  | 'updateAuthMode'
  | 'signTos'
  | 'clearMovedFrom'
  | 'requestInstanceDeletion'
  | 'forceInstanceDeletion'
  | 'getContext'
  | 'getFeatureFlags'
  | 'getWarnings'
  | 'getExternalTies'
  | 'redirectToPremium'
  | 'getDiskUsage'
  | 'getClientsUsage';

const JSONAPI = 'application/vnd.api+json' as const;
const SETTINGS = 'io.cozy.settings';

/** An upstream failure (manager, cloudery) as the contract's 502. */
function badGateway(err: unknown): never {
  if (err instanceof UpstreamError) throw jsonApiError(502, `request failed: ${err.message}`);
  throw err;
}

/** Routes where any token failure, or no token, is a plain 403 (reference §6 item 25). */
async function anyTokenOr403(ctx: RequestContext) {
  try {
    return await ctx.auth.permission();
  } catch {
    throw tokenErrors.forbidden();
  }
}

export const settingsInstanceHandlers: Pick<Handlers<RequestContext>, Ops> = {
  async getInstanceSettings(_request, ctx) {
    await ctx.auth.permission();
    const { attributes, rev } = await readInstanceSettings(ctx.services, ctx.instance);
    return {
      status: 200,
      type: JSONAPI,
      body: {
        data: {
          type: SETTINGS,
          id: SETTINGS_INSTANCE_ID,
          attributes: attributes as never,
          meta: { rev },
          links: { self: '/settings/instance' },
        },
      },
    };
  },

  async updateInstanceSettings(request, ctx) {
    const perm = await ctx.auth.requireTypeOrId('PUT', SETTINGS, SETTINGS_INSTANCE_ID);
    const data = request.body.value.data;
    const { attributes, rev } = await writeInstanceSettings(ctx.services, ctx.instance, perm, {
      attributes: data.attributes as Record<string, unknown>,
      rev: data.meta?.rev,
      now: ctx.now,
      logger: ctx.logger,
    });
    return {
      status: 200,
      type: JSONAPI,
      body: {
        data: {
          type: SETTINGS,
          id: SETTINGS_INSTANCE_ID,
          attributes: attributes as never,
          meta: { rev },
          links: { self: '/settings/instance' },
        },
      },
    };
  },

  async updateAuthMode(request, ctx) {
    await ctx.auth.requireWholeType('PUT', SETTINGS);
    const { auth_mode, two_factor_activation_code } = request.body.value;
    await changeAuthMode(ctx.services, ctx.instance, auth_mode, two_factor_activation_code, ctx.now);
    return { status: 204 };
  },

  async signTos(_request, ctx) {
    const perm = await ctx.auth.permission();
    if (perm.kind !== 'oauth' && perm.kind !== 'cli') throw tokenErrors.forbidden();
    await signTos(ctx.services, ctx.instance, ctx.now).catch(badGateway);
    return { status: 204 };
  },

  async clearMovedFrom(_request, ctx) {
    if (!(await ctx.auth.session())) throw tokenErrors.forbidden();
    await clearMovedFrom(ctx.services, ctx.instance);
    return { status: 204 };
  },

  async requestInstanceDeletion(_request, ctx) {
    await ctx.auth.requireSettingsApp();
    try {
      await requestDeletionAtCloudery(ctx.services.config, ctx.instance);
    } catch (err) {
      if (err instanceof UpstreamError) {
        ctx.logger.warn({ reason: err.message }, 'the cloudery refused the deletion request');
        throw jsonApiError(502, 'the cloudery could not delete the instance');
      }
      throw err;
    }
    return { status: 204 };
  },

  async forceInstanceDeletion(_request, ctx) {
    await ctx.auth.requireSettingsApp();
    try {
      await publishJson(ctx.services.config, 'auth', 'user.deletion.requested', {
        workplaceFqdn: ctx.instance.domain,
        reason: 'user_request',
        requestedBy: 'cozy-stack',
        requestedAt: ctx.now,
      });
    } catch (err) {
      if (err instanceof BrokerError) {
        if (err.notConfigured) throw jsonApiError(503, 'no message broker is configured');
        ctx.logger.warn({ reason: err.message }, 'the deletion request could not be published');
        throw jsonApiError(503, 'the deletion request could not be published');
      }
      throw err;
    }
    return { status: 204 };
  },

  async getContext(_request, ctx) {
    await anyTokenOr403(ctx);
    return {
      status: 200,
      type: JSONAPI,
      body: {
        data: {
          type: SETTINGS,
          id: 'io.cozy.settings.context',
          attributes: contextAttributes(ctx.services.config, ctx.instance),
          meta: {},
          links: { self: '/settings/context' },
        },
      },
    };
  },

  async getFeatureFlags(request, ctx) {
    await anyTokenOr403(ctx);
    const { flags, sources } = await computeFeatureFlags(ctx.services, ctx.instance, { now: ctx.now, logger: ctx.logger });
    const include = request.query.include;
    return {
      status: 200,
      type: JSONAPI,
      body: {
        data: { type: SETTINGS, id: 'io.cozy.settings.flags', attributes: flags, meta: {}, links: { self: '/settings/flags' } },
        ...(include
          ? { included: sources.map((s) => ({ type: SETTINGS, id: s.id, attributes: s.attributes, meta: {}, links: { self: '/settings/flags' as const } })) }
          : {}),
      },
    };
  },

  async getWarnings(_request, ctx) {
    await ctx.auth.permission();
    const warnings = await warningsOf(ctx.services, ctx.instance, ctx.now);
    const first = warnings[0];
    if (!first) return { status: 404, type: JSONAPI, body: { errors: [] } };
    return { status: first.status === '410' ? 410 : 402, type: JSONAPI, body: { errors: warnings } };
  },

  async getExternalTies(_request, ctx) {
    if (!(await ctx.auth.session()) && !(await ctx.auth.hasWebappToken())) throw tokenErrors.forbidden();
    const ties = await externalTies(ctx.services.config, ctx.instance).catch(badGateway);
    return {
      status: 200,
      type: JSONAPI,
      body: {
        data: { type: SETTINGS, id: 'io.cozy.settings.external-ties', attributes: ties, meta: {}, links: { self: '/settings/external-ties' } },
      },
    };
  },

  async redirectToPremium(_request, ctx) {
    if (!(await ctx.auth.session())) throw tokenErrors.forbidden();
    const base = managerUrlOf(ctx.services.config, ctx.instance);
    if (!base || !ctx.instance.uuid) throw jsonApiError(404, 'This instance has no manager');
    let location: string;
    try {
      location = managerPremiumPage(base, ctx.instance.uuid);
    } catch (err) {
      throw jsonApiError(400, (err as Error).message);
    }
    return { status: 301, headers: { Location: location } };
  },

  async getDiskUsage(request, ctx) {
    const perm = await ctx.auth.permission();
    const allowed =
      allowWholeType(perm.rules, 'GET', SETTINGS) ||
      allowId(perm.rules, 'GET', SETTINGS, 'io.cozy.settings.disk-usage') ||
      (perm.kind === 'app' && (await isOwnSession(ctx, perm.claims?.session_id))) ||
      perm.rules.some((r) => r.type === 'io.cozy.files' && (r.verbs === 'ALL' || r.verbs.length === 0 || r.verbs.includes('POST')));
    if (!allowed) throw tokenErrors.forbidden();
    const attributes = diskUsageOf(ctx.instance, request.query.include === 'trash');
    return {
      status: 200,
      type: JSONAPI,
      body: { data: { type: SETTINGS, id: 'io.cozy.settings.disk-usage', attributes, meta: {}, links: { self: '/settings/disk-usage' } } },
    };
  },

  async getClientsUsage(_request, ctx) {
    await ctx.auth.requireTypeOrId('GET', SETTINGS, 'io.cozy.settings.clients-usage');
    const attributes = await clientsUsageOf(ctx.services, ctx.instance, { now: ctx.now, logger: ctx.logger });
    return {
      status: 200,
      type: JSONAPI,
      body: { data: { type: SETTINGS, id: 'io.cozy.settings.clients-usage', attributes, meta: {}, links: { self: '/settings/clients-usage' } } },
    };
  },
};

/** A logged-in session, the one the webapp token was issued for when it names one. */
async function isOwnSession(ctx: RequestContext, tokenSessionId: string | undefined): Promise<boolean> {
  const session = await ctx.auth.session();
  return session !== null && (!tokenSessionId || tokenSessionId === session.id);
}
