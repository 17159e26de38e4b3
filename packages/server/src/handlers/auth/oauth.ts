// OAuth routes (reference §3.1, §3.2, §3.12–§3.14): dynamic registration and its
// registration-token CRUD, the authorize page and form, the token endpoint.
import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import { htmlError } from '../../http/errors.js';
import { deprecatedApp } from '../../config/config.js';
import { issueCsrf, verifyCsrf } from '../../domain/csrf.js';
import {
  authorizeRedirect,
  checkAuthorizeParams,
  checkScopeParses,
  clientOsOf,
  clientsLimitReached,
  deleteClient,
  exchangeToken,
  grantAccessCode,
  linkedAppGrant,
  oauthClientJson,
  registerClient,
  registeredClient,
  sendConfirmFlagshipCode,
  updateClient,
  useSessionCode,
  type AuthorizeParams,
  type CheckedAuthorize,
  type ClientMetadataInput,
  type ClientUpdateInput,
  type TokenRequest,
} from '../../domain/oauth.js';
import { publicNameOf } from '../../domain/flagship-auth.js';
import { settingsAppUrl } from '../../domain/apps-urls.js';
import { renderPage } from '../../pages/index.js';

type Ops = 'registerOAuthClient' | 'getOAuthClientRegistration' | 'updateOAuthClientRegistration' | 'deleteOAuthClientRegistration' | 'getAuthorizePage' | 'authorize' | 'createAccessToken';

/** "wantsJSON" of the auth handlers: the Accept header is exactly application/json. */
function wantsJson(ctx: RequestContext): boolean {
  return (ctx.req.headers.accept ?? '').trim() === 'application/json';
}

/** The query string of the request without `session_code` (original order kept). */
function queryWithout(ctx: RequestContext, name: string): string {
  const url = ctx.req.originalUrl;
  const idx = url.indexOf('?');
  if (idx < 0) return '';
  const params = new URLSearchParams(url.slice(idx + 1));
  params.delete(name);
  const s = params.toString();
  return s ? `?${s}` : '';
}

type Headers = Record<string, string | string[]>;

function redirect<S extends 302 | 303>(status: S, location: string, cookies: string[] = []): { status: S; headers: Headers } {
  const headers: Headers = { Location: location };
  if (cookies.length) headers['Set-Cookie'] = cookies;
  return { status, headers };
}

/** The absolute authorize URL of this request (for the login redirect and the confirm page reload). */
function authorizeUrl(ctx: RequestContext): string {
  return `${ctx.baseUrl}/auth/authorize${queryWithout(ctx, 'session_code')}`;
}

/** The confirm-flagship page (§3.3): a new code is mailed at each rendering. */
async function confirmFlagshipPage(ctx: RequestContext, checked: CheckedAuthorize, cookies: Record<string, string>, reloadUrl?: string) {
  const { token, publicName } = await sendConfirmFlagshipCode(ctx, checked.client);
  const csrf = issueCsrf(ctx.services.config, cookies);
  return {
    status: 200 as const,
    type: 'text/html' as const,
    headers: { 'Set-Cookie': [csrf.cookie] } as Headers,
    body: renderPage(
      'confirm_flagship',
      { clientId: checked.clientId, clientName: checked.client.clientName, token, reloadUrl, publicName, domain: ctx.instance.domain },
      { locale: ctx.instance.locale },
    ),
  };
}

export const oauthHandlers: Pick<Handlers<RequestContext>, Ops> = {
  async registerOAuthClient(request, ctx) {
    const body = await registerClient(ctx, (request.body.value ?? {}) as ClientMetadataInput);
    return { status: 201, type: 'application/json', body: body as never };
  },

  async getOAuthClientRegistration(request, ctx) {
    const client = await registeredClient(ctx, request.path.clientId);
    return { status: 200, type: 'application/json', body: oauthClientJson(client) as never };
  },

  async updateOAuthClientRegistration(request, ctx) {
    const body = await updateClient(ctx, request.path.clientId, (request.body.value ?? {}) as ClientUpdateInput);
    return { status: 200, type: 'application/json', body: body as never };
  },

  async deleteOAuthClientRegistration(request, ctx) {
    await deleteClient(ctx, request.path.clientId);
    return { status: 204 };
  },

  async getAuthorizePage(request, ctx) {
    const { services, instance, now } = ctx;
    const q = request.query;
    // 1. session_code: always consumed; opens a short-run session for a browser not logged in.
    if (q.session_code !== undefined) {
      const cookie = await useSessionCode(ctx, q.session_code);
      if (cookie) return redirect(303, authorizeUrl(ctx), [cookie]);
    }
    // 2–3. Parameters, scope.
    const checked = await checkAuthorizeParams(services, instance, q as AuthorizeParams);
    const session = await ctx.auth.session();
    const loginRedirect = () => redirect(303, `${ctx.baseUrl}/auth/login?${new URLSearchParams({ redirect: authorizeUrl(ctx) }).toString()}`);
    if (checked.needsFlagshipConfirmation) {
      if (!session) return loginRedirect();
      return confirmFlagshipPage(ctx, checked, request.cookies, authorizeUrl(ctx));
    }
    // 4. A deprecated app.
    const deprecated = deprecatedApp(services.config, checked.client.softwareId);
    if (deprecated) {
      return {
        status: 200,
        type: 'text/html',
        body: renderPage(
          'new_app_available',
          { appName: deprecated.name, storeUrls: deprecated.storeUrls, publicName: await publicNameOf(services, instance), domain: instance.domain },
          { locale: instance.locale },
        ),
      };
    }
    // 5. Not logged in.
    if (!session) return loginRedirect();
    // 6. Scope login: a code with an empty scope, no consent.
    if (checked.scope === 'login') {
      const code = await grantAccessCode(services, instance, checked.client, { scope: '', now });
      return redirect(302, authorizeRedirect(checked.redirectUri, code.code, checked.state));
    }
    // 7. The connected clients limit.
    const limit = await clientsLimitReached(ctx, checked.client);
    if (limit !== null) {
      return {
        status: 200,
        type: 'text/html',
        body: renderPage(
          'clients_limit_exceeded',
          { limit, manageUrl: settingsAppUrl(services.config, instance.domain), publicName: await publicNameOf(services, instance), domain: instance.domain },
          { locale: instance.locale },
        ),
      };
    }
    // 8. The scope must parse.
    checkScopeParses(checked.scope);
    // 9. A client created at onboarding: the code at once.
    if (checked.client.createdAtOnboarding) {
      const code = await grantAccessCode(services, instance, checked.client, { scope: checked.scope, codeChallenge: checked.codeChallenge, now });
      const location = authorizeRedirect(checked.redirectUri, code.code, checked.state);
      if (wantsJson(ctx)) return { status: 200, type: 'application/json', body: { deeplink: location } };
      return redirect(302, location);
    }
    // 10. The consent page.
    const csrf = issueCsrf(services.config, request.cookies);
    return {
      status: 200,
      type: 'text/html',
      headers: { 'Set-Cookie': [csrf.cookie] } as Headers,
      body: renderPage(
        'authorize',
        {
          clientName: checked.client.clientName,
          clientId: checked.clientId,
          editor: checked.client.clientKind ?? undefined,
          redirectUri: checked.redirectUri,
          state: checked.state,
          scope: checked.scope,
          responseType: 'code',
          codeChallenge: checked.codeChallenge || undefined,
          codeChallengeMethod: checked.codeChallengeMethod || undefined,
          csrfToken: csrf.token,
          publicName: await publicNameOf(services, instance),
          domain: instance.domain,
        },
        { locale: instance.locale },
      ),
    };
  },

  async authorize(request, ctx) {
    const { services, instance, now } = ctx;
    const form = (request.body.value ?? {}) as AuthorizeParams & { csrf_token?: string };
    verifyCsrf(request.cookies, form.csrf_token);
    const checked = await checkAuthorizeParams(services, instance, form);
    if (!(await ctx.auth.session())) throw htmlError(401, 'You must be authenticated');
    if (checked.needsFlagshipConfirmation) return confirmFlagshipPage(ctx, checked, request.cookies);
    checkScopeParses(checked.scope);
    let scope = checked.scope;
    const extra: Record<string, string> = {};
    if (checked.linkedSlug) {
      const linked = linkedAppGrant(ctx, checked);
      scope = linked.scope;
      if (linked.fallback) extra.fallback = linked.fallback;
    }
    const code = await grantAccessCode(services, instance, checked.client, {
      scope: scope === 'login' ? '' : scope,
      codeChallenge: checked.codeChallenge,
      clientOs: clientOsOf(ctx.req),
      now,
    });
    const location = authorizeRedirect(checked.redirectUri, code.code, checked.state, extra);
    if (wantsJson(ctx)) return { status: 200, type: 'application/json', body: { deeplink: location } };
    return redirect(302, location);
  },

  async createAccessToken(request, ctx) {
    const tokens = await exchangeToken(ctx, (request.body?.value ?? {}) as TokenRequest);
    return { status: 200, type: 'application/json', body: tokens };
  },
};
