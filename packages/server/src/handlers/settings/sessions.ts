import type { components } from '../../generated/public-api.gen.js';
import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import { jsonApiError, negotiatedError, tokenErrors } from '../../http/errors.js';
import { mediaTypeOf } from '../../http/dispatch.js';
import { isMobileUserAgent } from '../../domain/sessions.js';
import {
  activeSessions,
  clientsLimitOf,
  clientsOverLimit,
  clientsPage,
  connectedDevicesUrl,
  defaultRedirection,
  deleteAvatar,
  featureFlagsOf,
  finishOnboarding,
  flagshipStoreUrl,
  markSynchronized,
  onboardedRedirection,
  premiumUrl,
  revokeClient,
  sessionResource,
  storeAvatar,
} from '../../domain/settings-sessions.js';
import { getSettings } from '../../repositories/settings.js';
import { renderPage } from '../../pages/index.js';

type Ops = 'listSessions' | 'getCurrentSession' | 'listOAuthClients' | 'revokeOAuthClient' | 'getClientsLimitExceededPage' | 'markClientSynchronized' | 'finishOnboarding' | 'getInstallFlagshipAppPage' | 'uploadAvatar' | 'deleteAvatar';

/** The display name of the instance for the HTML pages. */
async function pageBase(ctx: RequestContext) {
  const doc = (await getSettings(ctx.services.db, ctx.instance.id))?.doc ?? {};
  const publicName = typeof doc.public_name === 'string' && doc.public_name ? doc.public_name : undefined;
  return { publicName, domain: ctx.instance.domain };
}

export const settingsSessionsHandlers: Pick<Handlers<RequestContext>, Ops> = {
  async listSessions(_request, ctx) {
    await ctx.auth.requireWholeType('GET', 'io.cozy.sessions');
    const sessions = await activeSessions(ctx.services, ctx.instance, ctx.now);
    return {
      status: 200,
      type: 'application/vnd.api+json',
      body: { data: sessions.map(sessionResource), meta: { count: sessions.length } },
    };
  },

  async getCurrentSession(_request, ctx) {
    const session = await ctx.auth.session();
    if (!session) throw jsonApiError(404, 'no current session');
    return { status: 200, type: 'application/vnd.api+json', body: { data: sessionResource(session) } };
  },

  async listOAuthClients(request, ctx) {
    await ctx.auth.requireWholeType('GET', 'io.cozy.oauth.clients');
    const page = await clientsPage(ctx.services, ctx.instance, {
      limit: request.query['page[limit]'],
      cursor: request.query['page[cursor]'],
    });
    // The attributes are the stored client document (free-form metadata): the contract checks them.
    return { status: 200, type: 'application/vnd.api+json', body: page as components['schemas']['OAuthClientList'] };
  },

  async revokeOAuthClient(request, ctx) {
    await ctx.auth.requireWholeType('DELETE', 'io.cozy.oauth.clients');
    const deleted = await revokeClient(ctx.services, ctx.instance, request.path.clientId, ctx.now);
    if (!deleted) throw jsonApiError(404, 'missing', { title: 'not_found' });
    return { status: 204 };
  },

  async getClientsLimitExceededPage(request, ctx) {
    const session = await ctx.auth.session();
    if (!session) throw negotiatedError(401, 'Error Must be authenticated');
    const redirect = request.query.redirect || (await defaultRedirection(ctx.services, ctx.instance, ctx.contextConfig.defaultRedirection));
    const flags = await featureFlagsOf(ctx.services, ctx.instance, { now: ctx.now, logger: ctx.logger });
    const limit = clientsLimitOf(flags['cozy.oauthclients.max']);
    const count = limit === null ? null : await clientsOverLimit(ctx.services, ctx.instance, limit);
    if (limit === null || count === null) return { status: 302, headers: { Location: redirect } };
    let premium: string | undefined;
    if (ctx.contextConfig.enablePremiumLinks) {
      const iapEnabled = flags['flagship.iap.enabled'] === true;
      if (!request.query.isFlagship || (iapEnabled && request.query.isIapAvailable)) premium = premiumUrl(ctx.contextConfig.managerUrl, ctx.instance);
    }
    return {
      status: 200,
      type: 'text/html',
      body: renderPage(
        'clients_limit_exceeded',
        { ...(await pageBase(ctx)), limit, manageUrl: connectedDevicesUrl(ctx.services.config, ctx.instance), premiumUrl: premium },
        { locale: ctx.instance.locale },
      ),
    };
  },

  async markClientSynchronized(_request, ctx) {
    const claims = await ctx.auth.verifiedClaims();
    if (!claims.sub || !(await markSynchronized(ctx.services, ctx.instance, claims.sub, ctx.now))) throw tokenErrors.invalid();
    return { status: 204 };
  },

  async finishOnboarding(request, ctx) {
    const session = await ctx.auth.session();
    if (!session) return { status: 303, headers: { Location: `${ctx.baseUrl}/auth/login` } };
    await finishOnboarding(ctx.services, ctx.instance, ctx.now);
    const location = isMobileUserAgent(request.headers['user-agent'])
      ? `${ctx.baseUrl}/settings/install_flagship_app`
      : onboardedRedirection(ctx.services, ctx.instance, ctx.contextConfig.onboardedRedirection);
    return { status: 303, headers: { Location: location } };
  },

  async getInstallFlagshipAppPage(request, ctx) {
    const flags = await featureFlagsOf(ctx.services, ctx.instance, { now: ctx.now, logger: ctx.logger });
    const storeUrl = flagshipStoreUrl(request.headers['user-agent'], ctx.instance.locale, {
      appstoreId: flags['flagship.appstore_id'],
      playstoreId: flags['flagship.playstore_id'],
    });
    const skipUrl = onboardedRedirection(ctx.services, ctx.instance, ctx.contextConfig.onboardedRedirection);
    return {
      status: 200,
      type: 'text/html',
      body: renderPage('install_flagship_app', { ...(await pageBase(ctx)), storeUrl, skipUrl }, { locale: ctx.instance.locale }),
    };
  },

  async uploadAvatar(request, ctx) {
    await ctx.auth.requireWholeType('PUT', 'io.cozy.settings');
    const body = request.body;
    const contentType = mediaTypeOf(request.headers['content-type']) ?? body.type;
    await storeAvatar(ctx.services, ctx.instance, contentType, body.value as unknown as Buffer, ctx.now);
    return { status: 204 };
  },

  async deleteAvatar(_request, ctx) {
    await ctx.auth.requireWholeType('PUT', 'io.cozy.settings');
    await deleteAvatar(ctx.services, ctx.instance);
    return { status: 204 };
  },
};
