// Every page renders in English and French, escapes what it is given, is well-formed enough (lang,
// title, labelled inputs, unique ids) and stays inside the strict CSP (no inline script or style,
// only /assets/ resources whose integrity matches).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ASSETS,
  ASSET_CACHE_CONTROL,
  assetHeaders,
  findAsset,
  html,
  PAGE_NAMES,
  pickLocale,
  raw,
  renderPage,
  safeHref,
  securityHeaders,
  STYLESHEET,
  type PageData,
  type PageName,
} from '../../src/pages/index.js';
import { MESSAGE_KEYS, messagesOf } from '../../src/pages/i18n.js';

const EVIL = '<script>alert(1)</script>"\'&';

/** Sample data for every page; `v` fills every free-text value. */
function samples(v: (field: string) => string): { [N in PageName]: PageData[N] } {
  const base = { publicName: v('publicName'), domain: 'alice.localhost' };
  return {
    login: { ...base, salt: v('salt'), iterations: 650000, csrfToken: v('csrf'), redirect: v('redirect'), emailVerifiedCode: v('evc'), oidcUrl: '/oidc/start', error: v('error') },
    twofactor: { ...base, twoFactorToken: v('tft'), redirect: v('redirect'), longRunSession: true, state: v('state'), clientId: v('clientId'), confirm: true, error: v('error') },
    authorize: {
      ...base,
      clientName: v('clientName'),
      clientId: v('clientId'),
      editor: v('editor'),
      redirectUri: `https://app.example/cb?x=${v('redirectUri')}`,
      state: v('state'),
      scope: `io.cozy.files:GET ${v('scope')} *`,
      codeChallenge: v('challenge'),
      codeChallengeMethod: 'S256',
      csrfToken: v('csrf'),
      error: v('error'),
    },
    confirm_flagship: { ...base, clientId: v('clientId'), clientName: v('clientName'), token: v('token'), reloadUrl: `/auth/authorize?state=${v('state')}`, error: v('error') },
    onboarding: { ...base, registerToken: v('registerToken'), salt: v('salt'), redirection: v('redirection'), error: v('error') },
    passphrase_reset: { ...base, csrfToken: v('csrf'), redirect: v('redirect'), from: v('from'), error: v('error') },
    passphrase_reset_requested: { ...base },
    passphrase_renew: { ...base, csrfToken: v('csrf'), resetToken: v('resetToken'), salt: v('salt'), from: v('from'), error: v('error') },
    clients_limit_exceeded: { ...base, limit: 3, manageUrl: `https://settings.alice.localhost/#/connectedDevices?${v('manage')}`, premiumUrl: 'https://manager.example/premium' },
    install_flagship_app: { ...base, storeUrl: 'https://play.google.com/store/apps/details?id=io.cozy.flagship.mobile&hl=en', skipUrl: `https://home.alice.localhost/?${v('skip')}` },
    need_onboarding: { ...base, canResend: true },
    instance_blocked: { ...base, reason: 'LOGIN_FAILED', supportAddress: 'support@example.net' },
    error: { ...base, title: v('title'), message: v('message'), status: 400, backUrl: '/auth/login' },
    magic_link_sent: { ...base },
    magic_link_twofactor: { ...base, magicCode: v('magicCode'), salt: v('salt'), iterations: 650000, csrfToken: v('csrf'), redirect: v('redirect'), error: v('error') },
    hint_sent: { ...base },
    new_app_available: { ...base, appName: v('appName'), storeUrls: { android: 'https://play.google.com/x', iphone: 'https://apps.apple.com/x', [v('platform')]: 'https://example.net/x' } },
  };
}

const PLAIN = samples((f) => `value-${f}`);

/** A crude but strict structural check of a rendered page. */
function checkPage(page: string, lang: string): void {
  expect(page.startsWith('<!DOCTYPE html>\n')).toBe(true);
  expect(page).toContain(`<html lang="${lang}">`);
  expect(page).toMatch(/<title>[^<]+<\/title>/);
  expect(page).toContain('<meta charset="utf-8">');
  expect(page.trimEnd().endsWith('</html>')).toBe(true);

  // Balanced containers.
  for (const tag of ['html', 'head', 'body', 'main', 'form', 'ul', 'div', 'p', 'h1', 'label', 'a', 'button']) {
    const open = (page.match(new RegExp(`<${tag}[\\s>]`, 'g')) ?? []).length;
    const close = (page.match(new RegExp(`</${tag}>`, 'g')) ?? []).length;
    expect(close, `<${tag}> balanced`).toBe(open);
  }

  // Strict CSP: no inline script, no inline style, no event handler, no external resource.
  expect(page).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
  expect(page).not.toMatch(/\sstyle=/);
  expect(page).not.toMatch(/<style[\s>]/);
  expect(page).not.toMatch(/\son[a-z]+=/i);
  for (const m of page.matchAll(/<(?:script|link)[^>]*\s(?:src|href)="([^"]+)"[^>]*>/g)) {
    const url = m[1]!;
    if (url === 'data:,') continue;
    expect(url.startsWith('/assets/'), url).toBe(true);
    const asset = findAsset(url)!;
    expect(asset, url).toBeDefined();
    expect(url).toBe(asset.url);
    expect(m[0]).toContain(`integrity="${asset.integrity}"`);
  }

  // Unique ids; every visible input has a label.
  const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  expect(new Set(ids).size).toBe(ids.length);
  for (const m of page.matchAll(/<input\b[^>]*>/g)) {
    const tag = m[0];
    if (/type="hidden"/.test(tag)) {
      expect(tag).toMatch(/\sname="[^"]+"/);
      continue;
    }
    const id = /\sid="([^"]+)"/.exec(tag)?.[1];
    expect(id, tag).toBeDefined();
    expect(page, `label for ${id}`).toContain(`<label for="${id}">`);
    if (/type="password"/.test(tag)) expect(tag).toMatch(/autocomplete="(current|new)-password"/);
  }
  // Forms post to this origin; a form with visible fields has the aria-live error region.
  for (const m of page.matchAll(/<form\b[^>]*>/g)) {
    expect(m[0]).toMatch(/method="post"/);
    expect(m[0]).toMatch(/action="\/[^/]/);
  }
  if (/type="(password|text)"[^>]*required/.test(page)) {
    expect(page).toContain('role="alert" aria-live="assertive"');
  }
}

describe('renderPage', () => {
  it('knows the 17 pages', () => {
    expect([...PAGE_NAMES].sort()).toEqual(
      [
        'authorize',
        'clients_limit_exceeded',
        'confirm_flagship',
        'error',
        'hint_sent',
        'install_flagship_app',
        'instance_blocked',
        'login',
        'magic_link_sent',
        'magic_link_twofactor',
        'need_onboarding',
        'new_app_available',
        'onboarding',
        'passphrase_renew',
        'passphrase_reset',
        'passphrase_reset_requested',
        'twofactor',
      ].sort(),
    );
  });

  for (const name of PAGE_NAMES) {
    for (const locale of ['en', 'fr'] as const) {
      it(`${name} (${locale}) is well-formed and CSP-clean`, () => {
        const page = renderPage(name, PLAIN[name] as never, { locale });
        checkPage(page, locale);
        expect(page).toContain('value-publicName');
      });
    }

    it(`${name} escapes every value`, () => {
      const data = samples((f) => `${f}${EVIL}`);
      for (const locale of ['en', 'fr']) {
        const page = renderPage(name, data[name] as never, { locale });
        expect(page).not.toContain('<script>alert');
        expect(page).not.toContain(`"'&`);
        expect(page).toContain('publicName&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
        checkPage(page, locale);
      }
    });
  }

  it('chooses the locale: fr, fr-FR, fr_CA → French; others → English', () => {
    expect(pickLocale('fr')).toBe('fr');
    expect(pickLocale('fr-FR')).toBe('fr');
    expect(pickLocale('FR_ca')).toBe('fr');
    expect(pickLocale('de')).toBe('en');
    expect(pickLocale(undefined)).toBe('en');
    expect(renderPage('login', PLAIN.login, { locale: 'fr-FR' })).toContain('<title>Connexion · value-publicName</title>');
    expect(renderPage('login', PLAIN.login, { locale: 'de' })).toContain('<title>Sign in · value-publicName</title>');
    expect(renderPage('login', PLAIN.login)).toContain('<html lang="en">');
  });

  it('has every string in French, with the same placeholders', () => {
    const en = messagesOf('en');
    const fr = messagesOf('fr');
    for (const key of MESSAGE_KEYS) {
      expect(fr[key], key).toBeTruthy();
      const ph = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(ph(fr[key]), key).toEqual(ph(en[key]));
    }
  });

  it('login carries salt, iterations, CSRF token, redirect and long-run-session for the script', () => {
    const page = renderPage('login', PLAIN.login, { locale: 'en' });
    expect(page).toContain('data-salt="value-salt"');
    expect(page).toContain('data-iterations="650000"');
    expect(page).toContain('<input type="hidden" name="csrf_token" value="value-csrf">');
    expect(page).toContain('<input type="hidden" name="redirect" value="value-redirect">');
    expect(page).toContain('name="long-run-session" value="true"');
    expect(page).toContain('<input type="hidden" name="email_verified_code" value="value-evc">');
    // The clear password field has no name: it is never submitted as is.
    expect(page).toMatch(/<input type="password" id="passphrase" autocomplete="current-password"(?![^>]*name=)[^>]*>/);
    expect(page).toContain('<script src="/assets/login.js?v=');
    expect(page).toContain('value-error');
  });

  it('login in magic-link mode posts to /auth/magic_link without a password', () => {
    const page = renderPage('login', { ...PLAIN.login, magicLink: true }, { locale: 'fr' });
    expect(page).toContain('action="/auth/magic_link"');
    expect(page).not.toContain('type="password"');
    checkPage(page, 'fr');
  });

  it('twofactor keeps long-run-session in the query string and offers the trusted-device checkbox', () => {
    const page = renderPage('twofactor', PLAIN.twofactor, { locale: 'en' });
    expect(page).toContain('action="/auth/twofactor?long-run-session=true"');
    expect(page).toContain('name="two-factor-token" value="value-tft"');
    expect(page).toContain('name="two-factor-generate-trusted-device-token"');
    expect(page).toContain('autocomplete="one-time-code"');
    const without = renderPage('twofactor', { twoFactorToken: 't', trustedDeviceCheckbox: false }, {});
    expect(without).not.toContain('trusted-device-token"');
    expect(without).toContain('action="/auth/twofactor"');
  });

  it('authorize has the consent form with every OAuth field', () => {
    const page = renderPage('authorize', PLAIN.authorize, { locale: 'en' });
    for (const f of ['csrf_token', 'client_id', 'state', 'redirect_uri', 'scope', 'response_type', 'code_challenge', 'code_challenge_method']) {
      expect(page).toContain(`<input type="hidden" name="${f}"`);
    }
    expect(page).toContain('name="response_type" value="code"');
    expect(page).toContain('<code>io.cozy.files</code><span class="access">read</span>');
    expect(page).toContain('Full access to all your data');
    expect(page).toContain('href="https://app.example/cb?x=value-redirectUri&amp;error=access_denied&amp;state=value-state"');
    expect(page).toContain('sent to app.example.');
  });

  it('confirm_flagship posts the code and token to the client route and knows where to go next', () => {
    const page = renderPage('confirm_flagship', { ...PLAIN.confirm_flagship, clientId: 'a/b c' }, { locale: 'fr' });
    expect(page).toContain('action="/auth/clients/a%2Fb%20c/flagship"');
    expect(page).toContain('<input type="hidden" name="token" value="value-token">');
    expect(page).toContain('name="code"');
    expect(page).toContain('data-reload-url="/auth/authorize?state=value-state"');
  });

  it('onboarding and renew carry what the choose-password script needs', () => {
    const ob = renderPage('onboarding', PLAIN.onboarding, { locale: 'en' });
    expect(ob).toContain('action="/settings/passphrase"');
    expect(ob).toContain('data-iterations="650000"');
    expect(ob).toContain('name="register_token" value="value-registerToken"');
    expect(ob).toContain('name="redirection" value="value-redirection"');
    expect(ob).toContain('autocomplete="new-password"');
    const renew = renderPage('passphrase_renew', { ...PLAIN.passphrase_renew, iterations: 50000 }, { locale: 'en' });
    expect(renew).toContain('action="/auth/passphrase_renew"');
    expect(renew).toContain('data-iterations="50000"');
    expect(renew).toContain('name="passphrase_reset_token" value="value-resetToken"');
    expect(renew).toContain('name="csrf_token" value="value-csrf"');
  });

  it('clients_limit_exceeded refreshes itself with a meta refresh', () => {
    const page = renderPage('clients_limit_exceeded', PLAIN.clients_limit_exceeded, { locale: 'en' });
    expect(page).toContain('<meta http-equiv="refresh" content="20">');
    expect(page).toContain('limit of 3 connected');
  });

  it('neutralises script URLs in links', () => {
    const page = renderPage('install_flagship_app', { storeUrl: 'javascript:alert(1)', skipUrl: ' JaVaScRiPt:alert(1)' }, {});
    expect(page).not.toMatch(/href="\s*javascript:/i);
    expect(safeHref('java\tscript:x')).toBe('#');
    expect(safeHref('data:text/html,x')).toBe('#');
    expect(safeHref('cozydrive://callback')).toBe('cozydrive://callback');
    expect(safeHref('/auth/login')).toBe('/auth/login');
  });

  it('instance_blocked explains the reason', () => {
    expect(renderPage('instance_blocked', { reason: 'LOGIN_FAILED', publicName: 'Alice' }, { locale: 'en' })).toContain('too many failed attempts');
    expect(renderPage('instance_blocked', { reason: 'weird' }, { locale: 'fr' })).toContain('est bloqué');
  });
});

describe('html tag', () => {
  it('escapes values, keeps nested templates, skips null/false, joins arrays', () => {
    const items = ['<a>', 'b&'];
    const out = html`<p title="${'"x"'}">${items.map((i) => html`<i>${i}</i>`)}${null}${false}${undefined}${raw('<br>')}${0}</p>`;
    expect(out.toString()).toBe('<p title="&quot;x&quot;"><i>&lt;a&gt;</i><i>b&amp;</i><br>0</p>');
  });
});

describe('securityHeaders', () => {
  it('sends the strict CSP and the other headers', () => {
    const h = securityHeaders();
    const csp = h['Content-Security-Policy']!;
    for (const d of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp).toContain(d);
    }
    expect(csp).not.toContain('unsafe-inline');
    expect(h['X-Content-Type-Options']).toBe('nosniff');
    expect(h['Referrer-Policy']).toBe('same-origin');
    expect(h['X-Frame-Options']).toBe('DENY');
    expect(securityHeaders({ formAction: ['https://app.example'] })['Content-Security-Policy']).toContain(
      "form-action 'self' https://app.example;",
    );
  });
});

describe('assets', () => {
  it('exports every asset with its sha256, integrity and a versioned URL', () => {
    expect([...ASSETS.keys()].sort()).toEqual(
      [
        '/assets/authorize.js',
        '/assets/confirm_flagship.js',
        '/assets/hearth.css',
        '/assets/hearth.js',
        '/assets/login.js',
        '/assets/magic_link_twofactor.js',
        '/assets/onboarding.js',
        '/assets/passphrase_renew.js',
        '/assets/twofactor.js',
      ].sort(),
    );
    for (const a of ASSETS.values()) {
      const d = createHash('sha256').update(a.body).digest();
      expect(a.sha256).toBe(d.toString('hex'));
      expect(a.integrity).toBe(`sha256-${d.toString('base64')}`);
      expect(a.url).toBe(`${a.path}?v=${a.sha256.slice(0, 16)}`);
      expect(findAsset(a.url)).toBe(a);
      expect(findAsset(a.path)).toBe(a);
      // Assets never reach outside: no URL to another origin, no @import.
      expect(a.body).not.toMatch(/https?:\/\//);
      expect(a.body).not.toContain('@import');
    }
    expect(findAsset('/assets/nope.js')).toBeUndefined();
    const h = assetHeaders(STYLESHEET);
    expect(h['Cache-Control']).toBe(ASSET_CACHE_CONTROL);
    expect(h['Content-Type']).toBe('text/css; charset=utf-8');
    expect(h.ETag).toMatch(/^"[0-9a-f]{32}"$/);
  });
});
