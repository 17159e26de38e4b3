// Browser login routes (reference §3.6–§3.10, §3.19): the login page and form, logout, the
// two-factor step, magic links, the onboarding page, passphrase reset / renew and the hint mail.
// The flows live in src/domain/login.ts; the redirect rules in src/domain/login-redirect.ts.
import { timingSafeEqual } from 'node:crypto';
import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import type { Permission } from '../../http/auth.js';
import { htmlError, plainError } from '../../http/errors.js';
import { issueCsrf, verifyCsrf } from '../../domain/csrf.js';
import { checkPassphraseCounted, publicNameOf, twoFactorActive } from '../../domain/flagship-auth.js';
import {
  afterRenewUrl,
  checkResetToken,
  defaultRedirect,
  forcedOidc,
  formOrQuery,
  isOnboarded,
  isTrue,
  loginMessage,
  loginRedirect,
  magicCodeValid,
  oidcLogoutUrl,
  openLoginSession,
  passwordLogin,
  renewPassphrase,
  requestPassphraseReset,
  saltOf,
  sendHint,
  sendMagicLink,
  submitTwoFactor,
  wantsJson,
  type LoginForm,
  type RenewForm,
  type TwoFactorForm,
} from '../../domain/login.js';
import { isAuthorizeRedirect } from '../../domain/login-redirect.js';
import { closeSession } from '../../domain/sessions.js';
import { deleteOtherSessions } from '../../repositories/sessions.js';
import { clearCookie, cookieDomain, DEFAULT_ITERATIONS, serializeCookie } from '../../security/index.js';
import { renderPage, type PageData, type PageName } from '../../pages/index.js';

type Ops =
  | 'getLoginPage'
  | 'login'
  | 'logout'
  | 'logoutOtherSessions'
  | 'getTwoFactorPage'
  | 'submitTwoFactor'
  | 'sendMagicLink'
  | 'openMagicLink'
  | 'submitMagicLinkTwoFactor'
  | 'getOnboardingPage'
  | 'getPassphraseResetPage'
  | 'requestPassphraseReset'
  | 'getPassphraseRenewPage'
  | 'renewPassphrase'
  | 'sendHint';

type Headers = Record<string, string | string[]>;

function cookieHeaders(cookies: (string | null | undefined)[]): Headers {
  const list = cookies.filter((c): c is string => typeof c === 'string' && c !== '');
  return list.length ? { 'Set-Cookie': list } : {};
}

function see(location: string, cookies: (string | null | undefined)[] = []) {
  return { status: 303 as const, headers: { Location: location, ...cookieHeaders(cookies) } };
}

/** A page of the instance, with its display name. */
async function page<N extends PageName>(ctx: RequestContext, name: N, data: Omit<PageData[N], 'publicName' | 'domain'>): Promise<string> {
  const publicName = await publicNameOf(ctx.services, ctx.instance);
  return renderPage(name, { ...data, publicName, domain: ctx.instance.domain } as PageData[N], { locale: ctx.instance.locale });
}

function needOnboardingPage(ctx: RequestContext): Promise<string> {
  return page(ctx, 'need_onboarding', {});
}

/** The form body of a request (form routes), or an empty object. */
function formOf<T>(body: { value: unknown } | undefined): T {
  return (body?.value ?? {}) as T;
}

/** The login page (also re-rendered with a 401 after a wrong passphrase). */
async function loginPage(ctx: RequestContext, csrfToken: string, opts: { redirect?: string; emailVerifiedCode?: string; error?: string }) {
  const { instance } = ctx;
  return page(ctx, 'login', {
    salt: saltOf(instance),
    iterations: instance.passphraseKdfIterations,
    csrfToken,
    redirect: opts.redirect,
    magicLink: instance.magicLink && !opts.emailVerifiedCode,
    emailVerifiedCode: opts.emailVerifiedCode,
    error: opts.error,
  });
}

/**
 * The permission of a logout request: a webapp token bound to the session of the cookie. Anything
 * else → 401 `The user can logout only from client-side apps`.
 */
async function webappPermission(ctx: RequestContext): Promise<Permission> {
  const notFromApp = () => plainError(401, 'The user can logout only from client-side apps');
  let perm: Permission;
  try {
    perm = await ctx.auth.permission();
  } catch {
    throw notFromApp();
  }
  if (perm.kind !== 'app' || !perm.claims?.session_id) throw notFromApp();
  return perm;
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function corsHeaders(ctx: RequestContext): Headers {
  const origin = ctx.req.headers.origin;
  return origin ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' } : {};
}

export const loginHandlers: Pick<Handlers<RequestContext>, Ops> = {
  async getLoginPage(request, ctx) {
    const { services, instance } = ctx;
    const csrf = issueCsrf(services.config, request.cookies);
    if (!isOnboarded(instance)) return { status: 200, type: 'text/html', body: await needOnboardingPage(ctx), headers: cookieHeaders([csrf.cookie]) };
    const redirect = await loginRedirect(ctx, request.query.redirect);
    if (await ctx.auth.session()) return see(redirect);
    const oidc = forcedOidc(ctx);
    if (oidc) {
      if (request.cookies.logout === '1' && oidc.logoutUrl) {
        return see(oidc.logoutUrl, [clearCookie('logout', { domain: cookieDomain(instance.domain, { flatSubdomains: services.config.subdomains === 'flat' }), secure: services.config.secureCookies })]);
      }
      const q = request.query.redirect ? `?${new URLSearchParams({ redirect }).toString()}` : '';
      return see(`${ctx.baseUrl}/oidc/start${q}`);
    }
    const body = await loginPage(ctx, csrf.token, { redirect: request.query.redirect, emailVerifiedCode: request.query.email_verified_code });
    return { status: 200, type: 'text/html', body, headers: cookieHeaders([csrf.cookie]) };
  },

  async login(request, ctx) {
    const form = formOf<LoginForm & { csrf_token?: string }>(request.body);
    verifyCsrf(request.cookies, form.csrf_token);
    if (!isOnboarded(ctx.instance)) return { status: 200, type: 'text/html', body: await needOnboardingPage(ctx) };
    const redirectValue = formOrQuery(ctx, form as Record<string, unknown>, 'redirect');
    const outcome = await passwordLogin(ctx, form, redirectValue);
    const json = wantsJson(ctx.req);
    switch (outcome.kind) {
      case 'wrongPassphrase': {
        const error = loginMessage(ctx.instance, 'wrongPassphrase');
        if (json) throw plainError(401, error);
        const csrf = issueCsrf(ctx.services.config, request.cookies);
        const body = await loginPage(ctx, csrf.token, { redirect: redirectValue, emailVerifiedCode: form.email_verified_code, error });
        return { status: 401, type: 'text/html', body, headers: cookieHeaders([csrf.cookie]) };
      }
      case 'twoFactor':
        if (json) return { status: 200, type: 'application/json', body: { redirect: outcome.redirect } };
        return see(outcome.redirect);
      case 'loggedIn':
        if (json) return { status: 200, type: 'application/json', body: { redirect: outcome.redirect }, headers: cookieHeaders([outcome.cookie]) };
        return see(outcome.redirect, [outcome.cookie]);
    }
  },

  async logout(_request, ctx) {
    const { services, instance } = ctx;
    const perm = await webappPermission(ctx);
    const session = await ctx.auth.session();
    if (!session || session.id !== perm.claims?.session_id) throw plainError(401, 'The user can logout only from client-side apps');
    const cookies = [await closeSession(services.db, services.config, instance, session.id)];
    if (oidcLogoutUrl(ctx)) {
      cookies.push(
        serializeCookie('logout', '1', {
          maxAge: 10,
          httpOnly: true,
          secure: services.config.secureCookies,
          sameSite: 'Lax',
          domain: cookieDomain(instance.domain, { flatSubdomains: services.config.subdomains === 'flat' }),
        }),
      );
    }
    ctx.logger.info({ nspace: 'loginaudit', session_id: session.id }, 'logout');
    return { status: 204, headers: { ...corsHeaders(ctx), 'Set-Cookie': cookies } };
  },

  async logoutOtherSessions(_request, ctx) {
    const perm = await webappPermission(ctx);
    const session = await ctx.auth.session();
    if (!session) throw plainError(401, 'Could not retrieve session');
    if (session.id !== perm.claims?.session_id) throw plainError(401, 'The user can logout only from client-side apps');
    const n = await deleteOtherSessions(ctx.services.db, ctx.instance.id, session.id);
    ctx.logger.info({ nspace: 'loginaudit', session_id: session.id, deleted: n }, 'logout of the other sessions');
    return { status: 204, headers: corsHeaders(ctx) };
  },

  async getTwoFactorPage(request, ctx) {
    const q = request.query;
    if (!q.two_factor_token) return { status: 400, type: 'application/json', body: 'Missing twoFactorToken' };
    const redirect = await loginRedirect(ctx, q.redirect);
    const body = await page(ctx, 'twofactor', {
      twoFactorToken: q.two_factor_token,
      redirect: q.redirect,
      longRunSession: isTrue(q['long-run-session']) || isTrue(q.long_run_session),
      trustedDeviceCheckbox: q.trusted_device_checkbox !== 'false' && !isAuthorizeRedirect(ctx.instance, redirect),
    });
    return { status: 200, type: 'text/html', body };
  },

  async submitTwoFactor(request, ctx) {
    const form = formOf<TwoFactorForm>(request.body);
    const outcome = await submitTwoFactor(ctx, form, request.query['long-run-session']);
    const json = wantsJson(ctx.req);
    if (outcome.kind === 'wrong') {
      if (json) throw plainError(401, outcome.message);
      const body = await page(ctx, 'twofactor', {
        twoFactorToken: outcome.token,
        redirect: form.redirect,
        longRunSession: isTrue(request.query['long-run-session']),
        error: outcome.message,
        confirm: isTrue(form.confirm),
        state: form.state,
        clientId: form.client_id,
      });
      return { status: 401, type: 'text/html', body };
    }
    if (json || outcome.jsonOnly) {
      const body: { redirect: string; two_factor_trusted_device_token?: string } = { redirect: outcome.redirect };
      if (outcome.trustedDeviceToken) body.two_factor_trusted_device_token = outcome.trustedDeviceToken;
      return { status: 200, type: 'application/json', body, headers: cookieHeaders([outcome.cookie]) };
    }
    return see(outcome.redirect, [outcome.cookie]);
  },

  async sendMagicLink(request, ctx) {
    const form = formOf<{ redirect?: string; csrf_token?: string }>(request.body);
    verifyCsrf(request.cookies, form.csrf_token);
    await sendMagicLink(ctx, formOrQuery(ctx, form, 'redirect'));
    return { status: 200, type: 'text/html', body: await page(ctx, 'magic_link_sent', {}) };
  },

  async openMagicLink(request, ctx) {
    const { instance } = ctx;
    const q = request.query;
    const redirect = await loginRedirect(ctx, q.redirect);
    if (await ctx.auth.session()) return see(redirect);
    const code = q.code || q.magic_code;
    if (!(await magicCodeValid(ctx, code))) throw htmlError(400, loginMessage(instance, 'invalidMagicLink'));
    if (twoFactorActive(instance)) {
      const csrf = issueCsrf(ctx.services.config, request.cookies);
      const body = await page(ctx, 'magic_link_twofactor', {
        magicCode: code!,
        salt: saltOf(instance),
        iterations: instance.passphraseKdfIterations,
        csrfToken: csrf.token,
        redirect: q.redirect,
      });
      return { status: 200, type: 'text/html', body, headers: cookieHeaders([csrf.cookie]) };
    }
    const cookie = await openLoginSession(ctx, instance, redirect, false, 'magic_link');
    return see(redirect, [cookie]);
  },

  async submitMagicLinkTwoFactor(request, ctx) {
    const form = formOf<{ magic_code?: string; passphrase?: string; redirect?: string; csrf_token?: string }>(request.body);
    verifyCsrf(request.cookies, form.csrf_token);
    if (!(await magicCodeValid(ctx, form.magic_code))) throw plainError(401, loginMessage(ctx.instance, 'invalidMagicLink'));
    if (!(await checkPassphraseCounted(ctx.services, ctx.instance, form.passphrase, ctx.now))) throw plainError(401, loginMessage(ctx.instance, 'wrongPassphrase'));
    const redirect = await loginRedirect(ctx, formOrQuery(ctx, form, 'redirect'));
    const cookie = await openLoginSession(ctx, ctx.instance, redirect, false, 'magic_link');
    return { status: 200, type: 'application/json', body: { redirect }, headers: cookieHeaders([cookie]) };
  },

  async getOnboardingPage(request, ctx) {
    const { instance } = ctx;
    if (isOnboarded(instance)) return see(await defaultRedirect(ctx));
    const token = request.query.registerToken;
    const valid = typeof token === 'string' && /^[0-9a-f]{32}$/i.test(token) && instance.registerToken !== null && sameString(token.toLowerCase(), instance.registerToken);
    if (!valid) return { status: 200, type: 'text/html', body: await needOnboardingPage(ctx) };
    const body = await page(ctx, 'onboarding', {
      registerToken: instance.registerToken!,
      salt: saltOf(instance),
      iterations: DEFAULT_ITERATIONS,
      redirection: request.query.redirection,
    });
    return { status: 200, type: 'text/html', body };
  },

  async getPassphraseResetPage(request, ctx) {
    const { instance } = ctx;
    if (!isOnboarded(instance)) return { status: 200, type: 'text/html', body: await needOnboardingPage(ctx) };
    const csrf = issueCsrf(ctx.services.config, request.cookies);
    const body = await page(ctx, 'passphrase_reset', {
      csrfToken: csrf.token,
      redirect: request.query.redirect,
      from: request.query.from,
      hideBackButton: request.query.hideBackButton === 'true',
      showHintForm: Boolean(instance.passphraseHint),
    });
    return { status: 200, type: 'text/html', body, headers: cookieHeaders([csrf.cookie]) };
  },

  async requestPassphraseReset(request, ctx) {
    const form = formOf<{ csrf_token?: string; redirect?: string; from?: string }>(request.body);
    verifyCsrf(request.cookies, form.csrf_token);
    const cleared = await requestPassphraseReset(ctx, form.from || undefined);
    return { status: 200, type: 'text/html', body: await page(ctx, 'passphrase_reset_requested', {}), headers: cookieHeaders([cleared]) };
  },

  async getPassphraseRenewPage(request, ctx) {
    const { instance } = ctx;
    if (await ctx.auth.session()) return see(await defaultRedirect(ctx));
    const token = request.query.token;
    const check = checkResetToken(ctx, token);
    if (check === 'invalid') throw htmlError(400, loginMessage(instance, 'invalidResetLink'));
    if (check === 'mismatch') throw plainError(400, 'invalid_token');
    const csrf = issueCsrf(ctx.services.config, request.cookies);
    const from = new URLSearchParams(ctx.req.originalUrl.split('?')[1] ?? '').get('from') ?? undefined;
    const body = await page(ctx, 'passphrase_renew', {
      csrfToken: csrf.token,
      resetToken: token,
      salt: saltOf(instance),
      iterations: DEFAULT_ITERATIONS,
      from,
    });
    return { status: 200, type: 'text/html', body, headers: cookieHeaders([csrf.cookie]) };
  },

  async renewPassphrase(request, ctx) {
    const form = formOf<RenewForm & { csrf_token?: string }>(request.body);
    verifyCsrf(request.cookies, form.csrf_token);
    const json = wantsJson(ctx.req);
    if (await ctx.auth.session()) {
      const target = await defaultRedirect(ctx);
      return json ? { status: 200, type: 'application/json', body: { redirect: target } } : see(target);
    }
    const check = checkResetToken(ctx, form.passphrase_reset_token);
    if (check === 'invalid') {
      if (json) throw plainError(401, 'Invalid reset token');
      throw htmlError(400, loginMessage(ctx.instance, 'invalidResetLink'));
    }
    if (check === 'mismatch') throw plainError(400, 'invalid_token');
    await renewPassphrase(ctx, form);
    const target = afterRenewUrl(ctx, form.from);
    return json ? { status: 200, type: 'application/json', body: { redirect: target } } : see(target);
  },

  async sendHint(_request, ctx) {
    await sendHint(ctx);
    return { status: 200, type: 'text/html', body: await page(ctx, 'hint_sent', {}) };
  },
};
