// The server-rendered pages. Each page is a function of its data and a translator; the layout adds
// the document shell, the stylesheet and the page's scripts. No inline script, no inline style, no
// external resource: everything passes `default-src 'none'; script-src 'self'; style-src 'self'`.

import { PAGE_SCRIPTS, SHARED_SCRIPT, STYLESHEET, type ScriptedPage } from './assets.js';
import { html, safeHref, type SafeHtml } from './html.js';
import type { Locale, Translate } from './i18n.js';

// ---------------------------------------------------------------------------------------------
// Data of each page

export interface BaseData {
  /** The instance's display name (public_name, else the first label of its domain). */
  publicName?: string;
  /** The instance domain, shown when there is no public name and used as the password-manager username. */
  domain?: string;
}

/** A message shown in the page's error region when it is rendered (e.g. a 401 re-render). */
interface WithError {
  error?: string;
}

export interface LoginData extends BaseData, WithError {
  /** PBKDF2 salt: `me@<domain>` (the old domain when one is set, no port). */
  salt: string;
  /** KDF iterations of the instance (`KdfIterations`). */
  iterations: number;
  csrfToken: string;
  redirect?: string;
  /** Magic-link mode: the page offers to mail a sign-in link instead of asking the password. */
  magicLink?: boolean;
  /** Forwarded as a hidden field when the login URL carries one. */
  emailVerifiedCode?: string;
  /** A link to start OIDC (`/oidc/start?redirect=…`), when the context offers it. */
  oidcUrl?: string;
  /** Show the "forgot your password" link (default true). */
  showPassphraseReset?: boolean;
}

export interface TwoFactorData extends BaseData, WithError {
  twoFactorToken: string;
  redirect?: string;
  /** Put `long-run-session=true` in the form's query string (the server reads it only there). */
  longRunSession?: boolean;
  /** Show the "trust this device" checkbox (default true). */
  trustedDeviceCheckbox?: boolean;
  confirm?: boolean;
  state?: string;
  clientId?: string;
}

export interface AuthorizeData extends BaseData, WithError {
  clientName: string;
  clientId: string;
  /** The editor (client_kind / software publisher), when known. */
  editor?: string;
  redirectUri: string;
  state: string;
  scope: string;
  responseType?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  csrfToken: string;
  /** Where Cancel goes; default `<redirect_uri>?error=access_denied&state=<state>`. */
  cancelUrl?: string;
}

export interface ConfirmFlagshipData extends BaseData, WithError {
  clientId: string;
  clientName?: string;
  /** The 96-character confirm-flagship MAC. */
  token: string;
  /** The authorize URL to load after a successful confirmation (default: reload the page). */
  reloadUrl?: string;
}

export interface OnboardingData extends BaseData, WithError {
  registerToken: string;
  salt: string;
  /** Default 650 000. */
  iterations?: number;
  /** `slug/path#fragment` to go to after onboarding. */
  redirection?: string;
}

export interface PassphraseResetData extends BaseData, WithError {
  csrfToken: string;
  redirect?: string;
  from?: string;
  hideBackButton?: boolean;
  /** Offer to mail the hint (POST /auth/hint; default true). */
  showHintForm?: boolean;
}

export interface PassphraseRenewData extends BaseData, WithError {
  csrfToken: string;
  /** The reset token (hex) from the mailed link. */
  resetToken: string;
  salt: string;
  iterations?: number;
  from?: string;
}

export interface ClientsLimitExceededData extends BaseData {
  limit?: number;
  /** The settings app page listing the connected devices. */
  manageUrl?: string;
  /** Shown when the context enables premium links. */
  premiumUrl?: string;
  /** Seconds between automatic refreshes (default 20). */
  refreshSeconds?: number;
}

export interface InstallFlagshipAppData extends BaseData {
  storeUrl: string;
  skipUrl: string;
}

export interface NeedOnboardingData extends BaseData {
  /** Offer a button that posts to /auth/onboarding/resend. */
  canResend?: boolean;
}

export interface InstanceBlockedData extends BaseData {
  /** `LOGIN_FAILED`, `PAYMENT_FAILED`, `IMPORTING`, `MOVING`, `UNKNOWN`… */
  reason?: string;
  supportAddress?: string;
}

export interface ErrorData extends BaseData {
  title?: string;
  message: string;
  status?: number;
  backUrl?: string;
}

export interface MagicLinkTwoFactorData extends BaseData, WithError {
  magicCode: string;
  salt: string;
  iterations: number;
  csrfToken: string;
  redirect?: string;
}

export interface NewAppAvailableData extends BaseData {
  /** The deprecated app's name. */
  appName: string;
  /** Store links by platform (`android`, `iphone`, …). */
  storeUrls: Record<string, string>;
}

export interface PageData {
  login: LoginData;
  twofactor: TwoFactorData;
  authorize: AuthorizeData;
  confirm_flagship: ConfirmFlagshipData;
  onboarding: OnboardingData;
  passphrase_reset: PassphraseResetData;
  passphrase_reset_requested: BaseData;
  passphrase_renew: PassphraseRenewData;
  clients_limit_exceeded: ClientsLimitExceededData;
  install_flagship_app: InstallFlagshipAppData;
  need_onboarding: NeedOnboardingData;
  instance_blocked: InstanceBlockedData;
  error: ErrorData;
  magic_link_sent: BaseData;
  magic_link_twofactor: MagicLinkTwoFactorData;
  hint_sent: BaseData;
  new_app_available: NewAppAvailableData;
}

export type PageName = keyof PageData;

// ---------------------------------------------------------------------------------------------
// Layout

interface Ctx {
  t: Translate;
  locale: Locale;
  /** The name to show for the instance. */
  name: string;
}

interface PageParts {
  title: string;
  body: SafeHtml;
  script?: ScriptedPage;
  refreshSeconds?: number;
}

function layout(ctx: Ctx, data: BaseData, p: PageParts): SafeHtml {
  const scripts = p.script ? [SHARED_SCRIPT, PAGE_SCRIPTS[p.script]] : [];
  const heading = data.publicName || data.domain;
  return html`<!DOCTYPE html>
<html lang="${ctx.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
${p.refreshSeconds ? html`<meta http-equiv="refresh" content="${p.refreshSeconds}">\n` : ''}<title>${p.title}${heading ? ` · ${heading}` : ''}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${STYLESHEET.url}" integrity="${STYLESHEET.integrity}">
${scripts.map((s) => html`<script src="${s.url}" integrity="${s.integrity}" defer></script>\n`)}</head>
<body>
<a class="skip-link" href="#main">${ctx.t('common.skip')}</a>
<header class="site"><span class="mark" aria-hidden="true"></span>${heading ? html`<span class="instance">${heading}</span>` : html`<span class="instance">${ctx.t('common.brand')}</span>`}</header>
<main id="main">
<div class="card">
${p.body}
</div>
</main>
<footer class="site">${ctx.t('common.brand')}</footer>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// Pieces

function hidden(name: string, value: string | number | boolean | null | undefined): SafeHtml | '' {
  if (value === undefined || value === null) return '';
  return html`<input type="hidden" name="${name}" value="${String(value)}">\n`;
}

/** The error region: announced when the script fills it, also server-filled on a re-render. */
function errorRegion(error?: string): SafeHtml {
  return html`<div id="form-error" class="error" role="alert" aria-live="assertive">${error ?? ''}</div>\n`;
}

function noscript(ctx: Ctx): SafeHtml {
  return html`<noscript><p>${ctx.t('common.noscript')}</p></noscript>\n`;
}

/** Messages the scripts show, as data attributes of the form. */
function messages(ctx: Ctx, extra: Record<string, string> = {}): SafeHtml {
  const all: Record<string, string> = {
    network: ctx.t('common.network'),
    generic: ctx.t('common.generic'),
    ...extra,
  };
  return html`${Object.entries(all).map(([k, v]) => html` data-msg-${k}="${v}"`)}`;
}

/** A username field for password managers (not submitted, hidden from everyone). */
function usernameForManagers(ctx: Ctx, data: BaseData): SafeHtml | '' {
  if (!data.domain) return '';
  return html`<div class="visually-hidden" aria-hidden="true"><label for="username">${ctx.t('common.username')}</label><input type="text" id="username" autocomplete="username" value="${data.domain}" readonly tabindex="-1"></div>\n`;
}

function codeField(ctx: Ctx, id: string, name: string): SafeHtml {
  return html`<div class="field">
<label for="${id}">${ctx.t('common.code_label')}</label>
<input type="text" id="${id}" name="${name}" class="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus data-focus-on-error aria-describedby="${id}-help form-error">
<p class="help" id="${id}-help">${ctx.t('common.code_help')}</p>
</div>
`;
}

function withQuery(base: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${base}${base.includes('?') ? '&' : '?'}${s}` : base;
}

/** What a redirect URI looks like to a person: the host for web URLs, `scheme://host` for apps. */
function displayTarget(uri: string): string {
  try {
    const u = new URL(uri);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.host;
    return `${u.protocol}//${u.host}`;
  } catch {
    return uri;
  }
}

function scopeItems(ctx: Ctx, scope: string): SafeHtml[] {
  const tokens = scope.split(/\s+/).filter((s) => s !== '');
  return tokens.map((tok) => {
    if (tok === '*') return html`<li><span>${ctx.t('authorize.scope_all')}</span></li>\n`;
    const [type = tok, verbs = 'ALL', values] = tok.split(':');
    const access = verbs === 'GET' ? ctx.t('authorize.scope_read') : ctx.t('authorize.scope_write');
    return html`<li><code>${type}${values ? `:${values}` : ''}</code><span class="access">${access}</span></li>\n`;
  });
}

// ---------------------------------------------------------------------------------------------
// Pages

type Renderer<N extends PageName> = (ctx: Ctx, data: PageData[N]) => PageParts;

function passwordField(ctx: Ctx): SafeHtml {
  return html`<div class="field">
<label for="passphrase">${ctx.t('common.password')}</label>
<input type="password" id="passphrase" autocomplete="current-password" required autofocus data-focus-on-error aria-describedby="form-error">
</div>
`;
}

const login: Renderer<'login'> = (ctx, d) => {
  const title = ctx.t('login.title');
  if (d.magicLink) {
    return {
      title,
      body: html`<h1>${ctx.t('login.heading', { name: ctx.name })}</h1>
<p>${ctx.t('login.magic_intro', { name: ctx.name })}</p>
${errorRegion(d.error)}<form id="magic-link-form" method="post" action="/auth/magic_link">
${hidden('csrf_token', d.csrfToken)}${hidden('redirect', d.redirect)}<div class="actions"><button type="submit" class="block">${ctx.t('login.magic_submit')}</button></div>
</form>
${d.oidcUrl ? html`<ul class="links"><li><a href="${safeHref(d.oidcUrl)}">${ctx.t('login.oidc')}</a></li></ul>\n` : ''}`,
    };
  }
  const links: SafeHtml[] = [];
  if (d.showPassphraseReset !== false) {
    links.push(html`<li><a href="${withQuery('/auth/passphrase_reset', { redirect: d.redirect })}">${ctx.t('login.forgot')}</a></li>\n`);
  }
  if (d.oidcUrl) links.push(html`<li><a href="${safeHref(d.oidcUrl)}">${ctx.t('login.oidc')}</a></li>\n`);
  return {
    title,
    script: 'login',
    body: html`<h1>${ctx.t('login.heading', { name: ctx.name })}</h1>
${noscript(ctx)}${errorRegion(d.error)}<form id="login-form" method="post" action="/auth/login" data-salt="${d.salt}" data-iterations="${d.iterations}" data-trusted-device${messages(ctx, { empty: ctx.t('common.empty_password') })}>
${hidden('csrf_token', d.csrfToken)}${hidden('redirect', d.redirect ?? '')}${hidden('email_verified_code', d.emailVerifiedCode)}${usernameForManagers(ctx, d)}${passwordField(ctx)}<div class="check">
<input type="checkbox" id="long-run-session" name="long-run-session" value="true">
<label for="long-run-session">${ctx.t('login.long_run')}</label>
</div>
<div class="actions"><button type="submit" class="block">${ctx.t('login.submit')}</button></div>
</form>
${links.length ? html`<ul class="links">\n${links}</ul>\n` : ''}`,
  };
};

const twofactor: Renderer<'twofactor'> = (ctx, d) => ({
  title: ctx.t('twofactor.title'),
  script: 'twofactor',
  body: html`<h1>${ctx.t('twofactor.title')}</h1>
<p>${ctx.t('twofactor.intro')}</p>
${errorRegion(d.error)}<form id="twofactor-form" method="post" action="${d.longRunSession ? '/auth/twofactor?long-run-session=true' : '/auth/twofactor'}"${messages(ctx, { code: ctx.t('common.code_format') })}>
${hidden('two-factor-token', d.twoFactorToken)}${hidden('redirect', d.redirect ?? '')}${d.confirm ? hidden('confirm', 'true') : ''}${hidden('state', d.state)}${hidden('client_id', d.clientId)}${codeField(ctx, 'two-factor-passcode', 'two-factor-passcode')}${
    d.trustedDeviceCheckbox !== false
      ? html`<div class="check">
<input type="checkbox" id="trusted-device" name="two-factor-generate-trusted-device-token" value="true">
<label for="trusted-device">${ctx.t('twofactor.trust')}</label>
</div>
`
      : ''
  }<div class="actions"><button type="submit" class="block">${ctx.t('twofactor.submit')}</button></div>
</form>
`,
});

function defaultCancelUrl(d: AuthorizeData): string {
  return withQuery(d.redirectUri, { error: 'access_denied', state: d.state });
}

const authorize: Renderer<'authorize'> = (ctx, d) => ({
  title: ctx.t('authorize.title'),
  script: 'authorize',
  body: html`<h1>${ctx.t('authorize.title')}</h1>
<p>${ctx.t('authorize.intro', { client: d.clientName, name: ctx.name })}</p>
${d.editor ? html`<p class="muted">${ctx.t('authorize.editor', { editor: d.editor })}</p>\n` : ''}<h2 id="scopes-title">${ctx.t('authorize.scopes')}</h2>
<ul class="scopes" aria-labelledby="scopes-title">
${scopeItems(ctx, d.scope)}</ul>
<p class="muted">${ctx.t('authorize.redirect', { target: displayTarget(d.redirectUri) })}</p>
${errorRegion(d.error)}<form id="authorize-form" method="post" action="/auth/authorize"${messages(ctx)}>
${hidden('csrf_token', d.csrfToken)}${hidden('client_id', d.clientId)}${hidden('state', d.state)}${hidden('redirect_uri', d.redirectUri)}${hidden('scope', d.scope)}${hidden('response_type', d.responseType ?? 'code')}${hidden('code_challenge', d.codeChallenge)}${hidden('code_challenge_method', d.codeChallengeMethod)}<div class="actions">
<button type="submit">${ctx.t('authorize.accept')}</button>
<a class="button secondary" href="${safeHref(d.cancelUrl ?? defaultCancelUrl(d))}">${ctx.t('authorize.cancel')}</a>
</div>
</form>
`,
});

const confirmFlagship: Renderer<'confirm_flagship'> = (ctx, d) => ({
  title: ctx.t('confirm_flagship.title'),
  script: 'confirm_flagship',
  body: html`<h1>${ctx.t('confirm_flagship.title')}</h1>
<p>${ctx.t('confirm_flagship.intro', { client: d.clientName ?? 'Cozy', name: ctx.name })}</p>
${noscript(ctx)}${errorRegion(d.error)}<form id="confirm-flagship-form" method="post" action="/auth/clients/${encodeURIComponent(d.clientId)}/flagship"${d.reloadUrl ? html` data-reload-url="${safeHref(d.reloadUrl)}"` : ''}${messages(ctx, { code: ctx.t('common.code_format') })}>
${hidden('token', d.token)}${codeField(ctx, 'code', 'code')}<div class="actions"><button type="submit" class="block">${ctx.t('confirm_flagship.submit')}</button></div>
</form>
`,
});

/** The two password fields and the hint of the onboarding and renew forms. */
function chooseFields(ctx: Ctx): SafeHtml {
  return html`<div class="field">
<label for="new-passphrase">${ctx.t('choose.new_password')}</label>
<input type="password" id="new-passphrase" autocomplete="new-password" required autofocus data-focus-on-error aria-describedby="form-error">
</div>
<div class="field">
<label for="confirm-passphrase">${ctx.t('choose.confirm_password')}</label>
<input type="password" id="confirm-passphrase" autocomplete="new-password" required aria-describedby="form-error">
</div>
<div class="field">
<label for="hint">${ctx.t('choose.hint')}</label>
<input type="text" id="hint" name="hint" autocomplete="off" aria-describedby="hint-help">
<p class="help" id="hint-help">${ctx.t('choose.hint_help')}</p>
</div>
`;
}

function chooseMessages(ctx: Ctx): SafeHtml {
  return messages(ctx, {
    empty: ctx.t('common.empty_password'),
    mismatch: ctx.t('choose.mismatch'),
    hint: ctx.t('choose.hint_is_password'),
  });
}

const onboarding: Renderer<'onboarding'> = (ctx, d) => ({
  title: ctx.t('onboarding.title'),
  script: 'onboarding',
  body: html`<h1>${ctx.t('onboarding.title')}</h1>
<p>${ctx.t('onboarding.intro', { name: ctx.name })}</p>
${noscript(ctx)}${errorRegion(d.error)}<form id="passphrase-form" method="post" action="/settings/passphrase" data-salt="${d.salt}" data-iterations="${d.iterations ?? 650000}"${chooseMessages(ctx)}>
${hidden('register_token', d.registerToken)}${hidden('redirection', d.redirection)}${usernameForManagers(ctx, d)}${chooseFields(ctx)}<div class="actions"><button type="submit" class="block">${ctx.t('onboarding.submit')}</button></div>
</form>
`,
});

const passphraseRenew: Renderer<'passphrase_renew'> = (ctx, d) => ({
  title: ctx.t('passphrase_renew.title'),
  script: 'passphrase_renew',
  body: html`<h1>${ctx.t('passphrase_renew.title')}</h1>
<p>${ctx.t('passphrase_renew.intro', { name: ctx.name })}</p>
${noscript(ctx)}${errorRegion(d.error)}<form id="passphrase-form" method="post" action="/auth/passphrase_renew" data-salt="${d.salt}" data-iterations="${d.iterations ?? 650000}"${chooseMessages(ctx)}>
${hidden('csrf_token', d.csrfToken)}${hidden('passphrase_reset_token', d.resetToken)}${hidden('from', d.from)}${usernameForManagers(ctx, d)}${chooseFields(ctx)}<div class="actions"><button type="submit" class="block">${ctx.t('passphrase_renew.submit')}</button></div>
</form>
`,
});

const passphraseReset: Renderer<'passphrase_reset'> = (ctx, d) => ({
  title: ctx.t('passphrase_reset.title'),
  body: html`<h1>${ctx.t('passphrase_reset.title')}</h1>
<p>${ctx.t('passphrase_reset.intro')}</p>
<p class="notice">${ctx.t('passphrase_reset.warning')}</p>
${errorRegion(d.error)}<form id="passphrase-reset-form" method="post" action="/auth/passphrase_reset">
${hidden('csrf_token', d.csrfToken)}${hidden('redirect', d.redirect)}${hidden('from', d.from)}<div class="actions"><button type="submit" class="block">${ctx.t('passphrase_reset.submit')}</button></div>
</form>
${
  d.showHintForm !== false
    ? html`<hr>
<p>${ctx.t('passphrase_reset.hint_intro')}</p>
<form id="hint-form" method="post" action="/auth/hint">
<div class="actions"><button type="submit" class="secondary block">${ctx.t('passphrase_reset.hint_submit')}</button></div>
</form>
`
    : ''
}${d.hideBackButton ? '' : html`<ul class="links"><li><a href="${withQuery('/auth/login', { redirect: d.redirect })}">${ctx.t('common.back_to_login')}</a></li></ul>\n`}`,
});

function message(ctx: Ctx, titleKey: Parameters<Translate>[0], text: string, extra: SafeHtml | '' = ''): PageParts {
  const title = ctx.t(titleKey);
  return { title, body: html`<h1>${title}</h1>\n<p>${text}</p>\n${extra}` };
}

const passphraseResetRequested: Renderer<'passphrase_reset_requested'> = (ctx) =>
  message(
    ctx,
    'passphrase_reset_requested.title',
    ctx.t('passphrase_reset_requested.message', { name: ctx.name }),
    html`<ul class="links"><li><a href="/auth/login">${ctx.t('common.back_to_login')}</a></li></ul>\n`,
  );

const clientsLimitExceeded: Renderer<'clients_limit_exceeded'> = (ctx, d) => {
  const links: SafeHtml[] = [];
  if (d.manageUrl) links.push(html`<li><a href="${safeHref(d.manageUrl)}">${ctx.t('clients_limit_exceeded.manage')}</a></li>\n`);
  if (d.premiumUrl) links.push(html`<li><a href="${safeHref(d.premiumUrl)}">${ctx.t('clients_limit_exceeded.premium')}</a></li>\n`);
  const text =
    d.limit !== undefined
      ? ctx.t('clients_limit_exceeded.message', { limit: d.limit })
      : ctx.t('clients_limit_exceeded.message_nolimit');
  return {
    ...message(ctx, 'clients_limit_exceeded.title', text, links.length ? html`<ul class="links">\n${links}</ul>\n` : ''),
    refreshSeconds: d.refreshSeconds ?? 20,
  };
};

const installFlagshipApp: Renderer<'install_flagship_app'> = (ctx, d) =>
  message(
    ctx,
    'install_flagship_app.title',
    ctx.t('install_flagship_app.message', { name: ctx.name }),
    html`<div class="actions">
<a class="button" href="${safeHref(d.storeUrl)}">${ctx.t('install_flagship_app.store')}</a>
<a class="button secondary" href="${safeHref(d.skipUrl)}">${ctx.t('install_flagship_app.skip')}</a>
</div>
`,
  );

const needOnboarding: Renderer<'need_onboarding'> = (ctx, d) =>
  message(
    ctx,
    'need_onboarding.title',
    ctx.t('need_onboarding.message', { name: ctx.name }),
    d.canResend
      ? html`<form id="resend-form" method="post" action="/auth/onboarding/resend">
<div class="actions"><button type="submit" class="secondary">${ctx.t('need_onboarding.resend')}</button></div>
</form>
`
      : '',
  );

const BLOCKING_REASONS = ['LOGIN_FAILED', 'PAYMENT_FAILED', 'IMPORTING', 'MOVING'] as const;

const instanceBlocked: Renderer<'instance_blocked'> = (ctx, d) => {
  const reason = (BLOCKING_REASONS as readonly string[]).includes(d.reason ?? '')
    ? (d.reason as (typeof BLOCKING_REASONS)[number])
    : 'UNKNOWN';
  return message(
    ctx,
    'instance_blocked.title',
    ctx.t(`instance_blocked.${reason}`, { name: ctx.name }),
    d.supportAddress
      ? html`<p>${ctx.t('instance_blocked.contact', { address: '' })}<a href="mailto:${d.supportAddress}">${d.supportAddress}</a></p>\n`
      : '',
  );
};

const errorPage: Renderer<'error'> = (ctx, d) => {
  const title = d.title ?? ctx.t('error.title');
  return {
    title,
    body: html`${d.status ? html`<p class="status">${ctx.t('error.status', { status: d.status })}</p>\n` : ''}<h1>${title}</h1>
<p>${d.message}</p>
${d.backUrl ? html`<ul class="links"><li><a href="${safeHref(d.backUrl)}">${ctx.t('error.back')}</a></li></ul>\n` : ''}`,
  };
};

const magicLinkSent: Renderer<'magic_link_sent'> = (ctx) =>
  message(ctx, 'magic_link_sent.title', ctx.t('magic_link_sent.message', { name: ctx.name }));

const magicLinkTwoFactor: Renderer<'magic_link_twofactor'> = (ctx, d) => ({
  title: ctx.t('magic_link_twofactor.title'),
  script: 'magic_link_twofactor',
  body: html`<h1>${ctx.t('magic_link_twofactor.title')}</h1>
<p>${ctx.t('magic_link_twofactor.intro', { name: ctx.name })}</p>
${noscript(ctx)}${errorRegion(d.error)}<form id="magic-link-twofactor-form" method="post" action="/auth/magic_link/twofactor" data-salt="${d.salt}" data-iterations="${d.iterations}"${messages(ctx, { empty: ctx.t('common.empty_password') })}>
${hidden('csrf_token', d.csrfToken)}${hidden('magic_code', d.magicCode)}${hidden('redirect', d.redirect ?? '')}${usernameForManagers(ctx, d)}${passwordField(ctx)}<div class="actions"><button type="submit" class="block">${ctx.t('magic_link_twofactor.submit')}</button></div>
</form>
`,
});

const hintSent: Renderer<'hint_sent'> = (ctx) =>
  message(
    ctx,
    'hint_sent.title',
    ctx.t('hint_sent.message', { name: ctx.name }),
    html`<ul class="links"><li><a href="/auth/login">${ctx.t('common.back_to_login')}</a></li></ul>\n`,
  );

const newAppAvailable: Renderer<'new_app_available'> = (ctx, d) => {
  const links = Object.entries(d.storeUrls).map(([platform, url]) => {
    const label =
      platform === 'android'
        ? ctx.t('new_app_available.store_android')
        : platform === 'iphone' || platform === 'ios'
          ? ctx.t('new_app_available.store_iphone')
          : ctx.t('new_app_available.store_other', { platform });
    return html`<li><a href="${safeHref(url)}">${label}</a></li>\n`;
  });
  return message(
    ctx,
    'new_app_available.title',
    ctx.t('new_app_available.message', { app: d.appName, name: ctx.name }),
    links.length ? html`<ul class="links">\n${links}</ul>\n` : '',
  );
};

const RENDERERS: { [N in PageName]: Renderer<N> } = {
  login,
  twofactor,
  authorize,
  confirm_flagship: confirmFlagship,
  onboarding,
  passphrase_reset: passphraseReset,
  passphrase_reset_requested: passphraseResetRequested,
  passphrase_renew: passphraseRenew,
  clients_limit_exceeded: clientsLimitExceeded,
  install_flagship_app: installFlagshipApp,
  need_onboarding: needOnboarding,
  instance_blocked: instanceBlocked,
  error: errorPage,
  magic_link_sent: magicLinkSent,
  magic_link_twofactor: magicLinkTwoFactor,
  hint_sent: hintSent,
  new_app_available: newAppAvailable,
};

export const PAGE_NAMES = Object.keys(RENDERERS) as PageName[];

export function renderWith<N extends PageName>(name: N, data: PageData[N], t: Translate, locale: Locale): string {
  const base: BaseData = data;
  const ctx: Ctx = { t, locale, name: base.publicName || base.domain || t('common.brand') };
  const renderer = RENDERERS[name] as Renderer<N>;
  return layout(ctx, base, renderer(ctx, data)).value;
}
