// GET/POST /auth/login (reference §3.6, §3.7, §0.8 auth counter, §0.9 CSRF) and the logout routes
// DELETE /auth/login and /auth/login/others (§3.9), as a browser would use them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLoginPage, login, logout, logoutOtherSessions } from '@hearth/client';
import { installApp } from '../../../src/repositories/apps.js';
import { updateInstance } from '../../../src/repositories/instances.js';
import { listLoginHistory } from '../../../src/repositories/login-history.js';
import { hitRateLimit, RATE_LIMITS } from '../../../src/repositories/rate-limits.js';
import { getSession, listSessions } from '../../../src/repositories/sessions.js';
import { updateSettings } from '../../../src/repositories/settings.js';
import { hashPassphrase as serverHash } from '../../../src/security/index.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { cookiePair, cookies, formHeaders, hashFor, ITERATIONS, openLoginPage, PASSWORD, setCookie, UA } from './helpers.js';

const CONFIG = `
contexts:
  oidcctx:
    disable_password_authentication: true
authentication:
  oidcctx:
    oidc:
      client_id: hearth
      client_secret: secret
      authorize_url: https://idp.example.net/authorize
      token_url: https://idp.example.net/token
      userinfo_url: https://idp.example.net/userinfo
      logout_url: https://idp.example.net/logout
`;

describe.each(testEngines)('browser login (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine, configYaml: CONFIG });
  });
  afterAll(() => server.stop());

  const create = (name: string, input: Parameters<TestServer['createInstance']>[1] = {}) =>
    server.createInstance(name, { passphrase: PASSWORD, kdf_iterations: ITERATIONS, ...input });
  const home = (name: string) => `http://home.${name}.test:${server.port}/`;

  /** POST /auth/login with the CSRF cookie and token of a fresh login page. */
  async function postLogin(domain: string, body: Record<string, string>, opts: { accept?: string; cookie?: string; csrf?: boolean } = {}) {
    const page = await openLoginPage(server, domain);
    const csrf = opts.csrf === false ? {} : { csrf_token: page.csrfToken };
    return login({
      client: server.client(domain),
      body: { ...csrf, ...body } as never,
      headers: formHeaders(cookies(page.csrfCookie, opts.cookie), opts.accept ?? 'text/html'),
      parseAs: 'text',
    });
  }

  describe('GET /auth/login', () => {
    it('renders the form with the CSRF cookie, the salt and the iterations', async () => {
      const instance = await create('page1');
      const res = await getLoginPage({ client: server.client(instance.domain, { headers: { Accept: 'text/html' } }), parseAs: 'text' });
      expect(res.response.status).toBe(200);
      expect(res.response.headers.get('content-type')).toMatch(/^text\/html/);
      const header = setCookie(res.response, '_csrf')!;
      expect(header).toMatch(/^_csrf=[A-Za-z0-9]{32}; Path=\/auth; Max-Age=3600; HttpOnly; SameSite=Strict$/);
      const html = res.data as unknown as string;
      expect(html).toContain(`name="csrf_token" value="${header.slice(6, 38)}"`);
      expect(html).toContain('data-salt="me@page1.test"');
      expect(html).toContain(`data-iterations="${ITERATIONS}"`);
      expect(html).toContain('action="/auth/login"');
      expect(html).not.toContain('action="/auth/magic_link"');
    });

    it('keeps the value of a valid _csrf cookie (several tabs)', async () => {
      const instance = await create('page2');
      const first = await openLoginPage(server, instance.domain);
      const second = await openLoginPage(server, instance.domain, { cookie: first.csrfCookie });
      expect(second.csrfToken).toBe(first.csrfToken);
    });

    it('offers the magic link form when the instance uses magic links, unless an email_verified_code is given', async () => {
      const instance = await create('page3', { magic_link: true });
      const page = await openLoginPage(server, instance.domain);
      expect(page.html).toContain('action="/auth/magic_link"');
      expect(page.html).not.toContain('action="/auth/login"');
      const withCode = await openLoginPage(server, instance.domain, { query: { email_verified_code: 'MgA1hwmvu9wdC02J4GTBZAsPca4VyHBc' } });
      expect(withCode.html).toContain('action="/auth/login"');
      expect(withCode.html).toContain('name="email_verified_code" value="MgA1hwmvu9wdC02J4GTBZAsPca4VyHBc"');
    });

    it('sends a logged-in browser to the redirect (303), or to the default redirection', async () => {
      const instance = await create('page4');
      const { cookie } = await server.login(instance);
      const client = server.client(instance.domain, { cookie, headers: { Accept: 'text/html' } });
      const plain = await getLoginPage({ client });
      expect(plain.response.status).toBe(303);
      expect(plain.response.headers.get('location')).toBe(home('page4'));
      const drive = `http://drive.page4.test:${server.port}/#/folder`;
      const withRedirect = await getLoginPage({ client, query: { redirect: drive } });
      expect(withRedirect.response.status).toBe(303);
      expect(withRedirect.response.headers.get('location')).toBe(drive);
    });

    it('replaces the fragment of a redirect on the instance domain by "=", and forces /move/vault on import_vault', async () => {
      const instance = await create('page5');
      const { cookie } = await server.login(instance);
      const client = server.client(instance.domain, { cookie, headers: { Accept: 'text/html' } });
      const own = await getLoginPage({ client, query: { redirect: `http://page5.test:${server.port}/auth/authorize?x=1#secret` } });
      expect(own.response.headers.get('location')).toBe(`http://page5.test:${server.port}/auth/authorize?x=1#=`);
      await updateSettings(server.hearth.services.db, instance.id, (doc) => ({ ...doc, import_vault: true }));
      const forced = await getLoginPage({ client, query: { redirect: `http://drive.page5.test:${server.port}/` } });
      expect(forced.response.headers.get('location')).toBe(`http://page5.test:${server.port}/move/vault`);
    });

    it('reads a redirect without scheme as slug/path#fragment of an installed app', async () => {
      const instance = await create('page6');
      await installApp(server.hearth.services.db, { instanceId: instance.id, slug: 'drive', type: 'webapp' });
      const { cookie } = await server.login(instance);
      const client = server.client(instance.domain, { cookie, headers: { Accept: 'text/html' } });
      const ok = await getLoginPage({ client, query: { redirect: 'drive/#/folder' } });
      expect(ok.response.status).toBe(303);
      expect(ok.response.headers.get('location')).toBe(`http://drive.page6.test:${server.port}/#/folder`);
      const notInstalled = await getLoginPage({ client, query: { redirect: 'photos/' } });
      expect(notInstalled.response.status).toBe(400);
    });

    it('rejects bad redirects with 400, negotiated on Accept', async () => {
      const instance = await create('page7');
      const json = server.client(instance.domain);
      const cases: [string, string][] = [
        ['ftp://page7.test/', 'bad url: bad scheme'],
        [`http://evil.example.net:${server.port}/`, 'bad url: should be subdomain'],
        [`http://page7.test.evil.net:${server.port}/`, 'bad url: should be subdomain'],
        [`http://a.b.page7.test:${server.port}/`, 'bad url: should be subdomain'],
        ['http://[::1/', 'bad url: could not parse'],
      ];
      for (const [redirect, error] of cases) {
        const res = await getLoginPage({ client: json, query: { redirect } });
        expect(res.response.status, redirect).toBe(400);
        expect(res.error).toEqual({ error });
      }
      const html = await getLoginPage({ client: server.client(instance.domain, { headers: { Accept: 'text/html' } }), query: { redirect: 'ftp://x/' }, parseAs: 'text' });
      expect(html.response.status).toBe(400);
      expect(html.response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html.error as unknown as string).toContain('bad url: bad scheme');
      const text = await getLoginPage({ client: server.client(instance.domain, { headers: { Accept: '*/*' } }), query: { redirect: 'ftp://x/' }, parseAs: 'text' });
      expect(text.response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(text.error as unknown as string).toBe('bad url: bad scheme');
    });

    it('shows the need-onboarding page for an instance without a passphrase', async () => {
      const instance = await server.createInstance('page8');
      const res = await getLoginPage({ client: server.client(instance.domain, { headers: { Accept: 'text/html' } }), parseAs: 'text' });
      expect(res.response.status).toBe(200);
      expect(res.data as unknown as string).not.toContain('action="/auth/login"');
      expect(res.data as unknown as string).toMatch(/not been activated|activate/i);
    });

    it('sends a forced-OIDC context to /oidc/start, or to the logout URL once after a logout', async () => {
      const instance = await create('page9', { context: 'oidcctx' });
      const client = server.client(instance.domain, { headers: { Accept: 'text/html' } });
      const res = await getLoginPage({ client, query: { redirect: `http://drive.page9.test:${server.port}/` } });
      expect(res.response.status).toBe(303);
      expect(res.response.headers.get('location')).toBe(
        `http://page9.test:${server.port}/oidc/start?redirect=${encodeURIComponent(`http://drive.page9.test:${server.port}/`)}`,
      );
      const after = await getLoginPage({ client, headers: { Cookie: 'logout=1' } });
      expect(after.response.status).toBe(303);
      expect(after.response.headers.get('location')).toBe('https://idp.example.net/logout');
      expect(setCookie(after.response, 'logout')).toMatch(/^logout=; Path=\/; Domain=\.page9\.test; Max-Age=0/);
    });

    it('answers 404 for an unknown host', async () => {
      const res = await getLoginPage({ client: server.client(`nobody.test:${server.port}`) });
      expect(res.response.status).toBe(404);
    });
  });

  describe('POST /auth/login', () => {
    it('logs in: 303 to the default redirection with a browser-session cookie and a login entry', async () => {
      const instance = await create('log1');
      const res = await postLogin(instance.domain, { passphrase: await hashFor(instance) });
      expect(res.response.status).toBe(303);
      expect(res.response.headers.get('location')).toBe(home('log1'));
      const header = setCookie(res.response, 'cozysessid')!;
      expect(header).toMatch(/^cozysessid=[A-Za-z0-9_-]{96}; Path=\/; Domain=\.log1\.test; HttpOnly; SameSite=Lax$/);
      const history = await listLoginHistory(server.hearth.services.db, instance.id);
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ method: 'password', clientRegistration: false, os: 'Linux', browser: 'Chrome' });
      // The cookie is a working session: the login page now redirects.
      const again = await getLoginPage({ client: server.client(instance.domain, { cookie: header.split(';')[0], headers: { Accept: 'text/html' } }) });
      expect(again.response.status).toBe(303);
    });

    it('answers 200 {redirect} to a JSON client (Accept exactly application/json), with the cookie', async () => {
      const instance = await create('log2');
      const redirect = `http://drive.log2.test:${server.port}/#/files`;
      const res = await postLogin(instance.domain, { passphrase: await hashFor(instance), redirect }, { accept: 'application/json' });
      expect(res.response.status).toBe(200);
      expect(JSON.parse(res.data as unknown as string)).toEqual({ redirect });
      expect(cookiePair(res.response, 'cozysessid')).toBeDefined();
    });

    it('opens a long-run session with long-run-session=true', async () => {
      const instance = await create('log3');
      const res = await postLogin(instance.domain, { passphrase: await hashFor(instance), 'long-run-session': 'true' });
      expect(setCookie(res.response, 'cozysessid')).toContain('Max-Age=315360000');
      const sessions = await listSessions(server.hearth.services.db, instance.id);
      expect(sessions.map((s) => s.longRun)).toEqual([true]);
    });

    it('opens a short-run session (client registration) towards the instance authorize page, not for scope login', async () => {
      const instance = await create('log4');
      const authorize = `http://log4.test:${server.port}/auth/authorize?client_id=abc&scope=io.cozy.files`;
      const res = await postLogin(instance.domain, { passphrase: await hashFor(instance), redirect: authorize });
      expect(res.response.status).toBe(303);
      expect(res.response.headers.get('location')).toBe(`${authorize}#=`);
      expect(setCookie(res.response, 'cozysessid')).toContain('Max-Age=300');
      const history = await listLoginHistory(server.hearth.services.db, instance.id);
      expect(history[0]).toMatchObject({ clientRegistration: true });
      const loginScope = await postLogin(instance.domain, { passphrase: await hashFor(instance), redirect: `http://log4.test:${server.port}/auth/authorize?scope=login` });
      expect(setCookie(loginScope.response, 'cozysessid')).not.toContain('Max-Age');
    });

    it('takes the redirect from the query string when the form has none', async () => {
      const instance = await create('log5');
      const page = await openLoginPage(server, instance.domain);
      const redirect = `http://drive.log5.test:${server.port}/`;
      const { rawRequest } = await import('../account/helpers.js');
      const res = await rawRequest(server, instance.domain, `/auth/login?redirect=${encodeURIComponent(redirect)}`, {
        method: 'POST',
        headers: { ...formHeaders(page.csrfCookie), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf_token: page.csrfToken, passphrase: await hashFor(instance) }).toString(),
      });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(redirect);
    });

    it('does not open a second session for a browser already logged in', async () => {
      const instance = await create('log6');
      const { cookie } = await server.login(instance);
      const res = await postLogin(instance.domain, { passphrase: 'whatever' }, { cookie });
      expect(res.response.status).toBe(303);
      expect(setCookie(res.response, 'cozysessid')).toBeUndefined();
      expect(await listSessions(server.hearth.services.db, instance.id)).toHaveLength(1);
    });

    it('checks the CSRF token: missing field → 400, different or no cookie → 403', async () => {
      const instance = await create('log7');
      const passphrase = await hashFor(instance);
      const missing = await postLogin(instance.domain, { passphrase }, { csrf: false, accept: 'application/json' });
      expect(missing.response.status).toBe(400);
      expect(missing.error).toEqual({ error: 'missing csrf token in the form parameter' });
      const page = await openLoginPage(server, instance.domain);
      const other = await login({
        client: server.client(instance.domain),
        body: { csrf_token: 'A'.repeat(32), passphrase },
        headers: formHeaders(page.csrfCookie, 'application/json'),
      });
      expect(other.response.status).toBe(403);
      expect(other.error).toEqual({ error: 'invalid csrf token' });
      const noCookie = await login({ client: server.client(instance.domain), body: { csrf_token: page.csrfToken, passphrase }, headers: formHeaders(undefined, 'application/json') });
      expect(noCookie.response.status).toBe(403);
      expect(await listSessions(server.hearth.services.db, instance.id)).toHaveLength(0);
    });

    it('answers 401 to a wrong passphrase: JSON, or the login page again with the message', async () => {
      const instance = await create('log8');
      const wrong = await hashFor(instance, 'wrong password');
      const json = await postLogin(instance.domain, { passphrase: wrong }, { accept: 'application/json' });
      expect(json.response.status).toBe(401);
      expect(json.error).toEqual({ error: 'The password you entered is incorrect, please try again.' });
      const html = await postLogin(instance.domain, { passphrase: wrong, redirect: `http://drive.log8.test:${server.port}/` });
      expect(html.response.status).toBe(401);
      expect(html.response.headers.get('content-type')).toMatch(/^text\/html/);
      const body = html.error as unknown as string;
      expect(body).toContain('The password you entered is incorrect, please try again.');
      expect(body).toContain('action="/auth/login"');
      expect(body).toContain(`name="redirect" value="http://drive.log8.test:${server.port}/"`);
      expect(await listSessions(server.hearth.services.db, instance.id)).toHaveLength(0);
      const empty = await postLogin(instance.domain, {}, { accept: 'application/json' });
      expect(empty.response.status).toBe(401);
    });

    it('shows the need-onboarding page to a POST on an instance without a passphrase', async () => {
      const instance = await server.createInstance('log9');
      // The need-onboarding page also sets the CSRF cookie: use it.
      const first = await getLoginPage({ client: server.client(instance.domain, { headers: { Accept: 'text/html' } }), parseAs: 'text' });
      const csrf = cookiePair(first.response, '_csrf')!;
      const res = await login({
        client: server.client(instance.domain),
        body: { csrf_token: csrf.slice(6), passphrase: 'x' },
        headers: formHeaders(csrf, 'application/json'),
        parseAs: 'text',
      });
      expect(res.response.status).toBe(200);
      expect(res.response.headers.get('content-type')).toMatch(/^text\/html/);
    });

    it('rejects a bad redirect with 400 before checking the passphrase', async () => {
      const instance = await create('log10');
      const res = await postLogin(instance.domain, { passphrase: await hashFor(instance), redirect: 'https://evil.example.net/' }, { accept: 'application/json' });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual({ error: 'bad url: should be subdomain' });
      expect(await listSessions(server.hearth.services.db, instance.id)).toHaveLength(0);
    });

    it('migrates a legacy passphrase (stored iterations 0) to client-side hashing', async () => {
      const instance = await create('log11');
      await updateInstance(server.hearth.services.db, instance.id, { passphraseHash: await serverHash('legacy secret'), passphraseKdfIterations: 0 });
      const res = await postLogin(instance.domain, { passphrase: 'legacy secret' });
      expect(res.response.status).toBe(303);
      const after = await server.instance(instance.domain);
      expect(after.passphraseKdfIterations).toBe(650_000);
      expect(after.vaultKey).toMatch(/^0\./);
      expect(after.sessionSecret).toBe(instance.sessionSecret);
      // The session opened by that login still works.
      const cookie = cookiePair(res.response, 'cozysessid');
      const again = await getLoginPage({ client: server.client(instance.domain, { cookie, headers: { Accept: 'text/html' } }) });
      expect(again.response.status).toBe(303);
    }, 30_000);

    it('does not accept a session cookie of another instance', async () => {
      const a = await create('log12a');
      const b = await create('log12b');
      const { cookie } = await server.login(a);
      const res = await getLoginPage({ client: server.client(b.domain, { cookie, headers: { Accept: 'text/html' } }) });
      expect(res.response.status).toBe(200);
    });
  });

  describe('the auth counter', () => {
    it('blocks the instance on the 1001st failed login of the hour; every /auth page then answers 503', async () => {
      const instance = await create('block1');
      const { windowMs } = RATE_LIMITS.auth;
      for (let i = 0; i < 999; i++) await hitRateLimit(server.hearth.services.db, instance.id, 'auth', windowMs);
      const wrong = await hashFor(instance, 'nope');
      const thousandth = await postLogin(instance.domain, { passphrase: wrong }, { accept: 'application/json' });
      expect(thousandth.response.status).toBe(401);
      expect((await server.instance(instance.domain)).blocked).toBe(false);
      const over = await postLogin(instance.domain, { passphrase: wrong }, { accept: 'application/json' });
      expect(over.response.status).toBe(401);
      const blocked = await server.instance(instance.domain);
      expect(blocked).toMatchObject({ blocked: true, blockingReason: 'LOGIN_FAILED' });
      const page = await getLoginPage({ client: server.client(instance.domain), parseAs: 'text' });
      expect(page.response.status).toBe(503);
      expect(page.response.headers.get('content-type')).toMatch(/^text\/html/);
      // Even the right passphrase cannot log in any more.
      const right = await login({
        client: server.client(instance.domain),
        body: { csrf_token: 'A'.repeat(32), passphrase: await hashFor(instance) },
        headers: formHeaders(`_csrf=${'A'.repeat(32)}`, 'application/json'),
        parseAs: 'text',
      });
      expect(right.response.status).toBe(503);
    });
  });

  describe('logout', () => {
    async function appToken(name: string) {
      const instance = await create(name);
      await installApp(server.hearth.services.db, { instanceId: instance.id, slug: 'settings', type: 'webapp' });
      const session = await server.login(instance);
      const token = await server.token(instance, 'app', { sub: 'settings', session_id: session.sessionId });
      return { instance, session, token };
    }

    it('DELETE /auth/login deletes the session of a webapp token bound to the cookie, with CORS', async () => {
      const { instance, session, token } = await appToken('out1');
      const origin = `http://settings.out1.test:${server.port}`;
      const res = await logout({
        client: server.client(instance.domain),
        headers: { Authorization: `Bearer ${token}`, Cookie: session.cookie, Origin: origin },
      });
      expect(res.response.status).toBe(204);
      expect(res.response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.response.headers.get('access-control-allow-credentials')).toBe('true');
      expect(setCookie(res.response, 'cozysessid')).toMatch(/^cozysessid=; Path=\/; Domain=\.out1\.test; Max-Age=0/);
      expect(setCookie(res.response, 'logout')).toBeUndefined();
      expect(await getSession(server.hearth.services.db, instance.id, session.sessionId)).toBeNull();
    });

    it('sets the logout=1 cookie when the context has an OIDC logout_url', async () => {
      const instance = await create('out2', { context: 'oidcctx' });
      await installApp(server.hearth.services.db, { instanceId: instance.id, slug: 'home', type: 'webapp' });
      const session = await server.login(instance);
      const token = await server.token(instance, 'app', { sub: 'home', session_id: session.sessionId });
      const res = await logout({ client: server.client(instance.domain), headers: { Authorization: `Bearer ${token}`, Cookie: session.cookie } });
      expect(res.response.status).toBe(204);
      expect(setCookie(res.response, 'logout')).toMatch(/^logout=1; Path=\/; Domain=\.out2\.test; Max-Age=10; HttpOnly; SameSite=Lax$/);
    });

    it('answers 401 without a webapp token bound to the session of the cookie', async () => {
      const { instance, session, token } = await appToken('out3');
      const expected = { error: 'The user can logout only from client-side apps' };
      const client = server.client(instance.domain);
      const noToken = await logout({ client, headers: { Cookie: session.cookie } });
      expect(noToken.response.status).toBe(401);
      expect(noToken.error).toEqual(expected);
      const noCookie = await logout({ client, headers: { Authorization: `Bearer ${token}` } });
      expect(noCookie.response.status).toBe(401);
      expect(noCookie.error).toEqual(expected);
      const other = await server.login(instance);
      const wrongSession = await logout({ client, headers: { Authorization: `Bearer ${token}`, Cookie: other.cookie } });
      expect(wrongSession.response.status).toBe(401);
      const cli = await server.token(instance, 'cli', { scope: '*' });
      const notApp = await logout({ client, headers: { Authorization: `Bearer ${cli}`, Cookie: session.cookie } });
      expect(notApp.response.status).toBe(401);
      const garbage = await logout({ client, headers: { Authorization: 'Bearer not.a.jwt', Cookie: session.cookie } });
      expect(garbage.response.status).toBe(401);
      expect(garbage.error).toEqual(expected);
      // Another instance's token and cookie.
      const stranger = await appToken('out3b');
      const cross = await logout({ client, headers: { Authorization: `Bearer ${stranger.token}`, Cookie: stranger.session.cookie } });
      expect(cross.response.status).toBe(401);
      expect(await getSession(server.hearth.services.db, instance.id, session.sessionId)).not.toBeNull();
      expect(await getSession(server.hearth.services.db, stranger.instance.id, stranger.session.sessionId)).not.toBeNull();
    });

    it('DELETE /auth/login/others deletes every other session and keeps the current one', async () => {
      const { instance, session, token } = await appToken('out4');
      const other1 = await server.login(instance);
      const other2 = await server.login(instance);
      const stranger = await create('out4b');
      const strangerSession = await server.login(stranger);
      const origin = `http://settings.out4.test:${server.port}`;
      const res = await logoutOtherSessions({
        client: server.client(instance.domain),
        headers: { Authorization: `Bearer ${token}`, Cookie: session.cookie, Origin: origin },
      });
      expect(res.response.status).toBe(204);
      expect(res.response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(setCookie(res.response, 'cozysessid')).toBeUndefined();
      const left = await listSessions(server.hearth.services.db, instance.id);
      expect(left.map((s) => s.id)).toEqual([session.sessionId]);
      expect(await getSession(server.hearth.services.db, instance.id, other1.sessionId)).toBeNull();
      expect(await getSession(server.hearth.services.db, instance.id, other2.sessionId)).toBeNull();
      expect(await getSession(server.hearth.services.db, stranger.id, strangerSession.sessionId)).not.toBeNull();
    });

    it('DELETE /auth/login/others answers 401 without a webapp token, or without a session', async () => {
      const { instance, session, token } = await appToken('out5');
      const client = server.client(instance.domain);
      const noToken = await logoutOtherSessions({ client, headers: { Cookie: session.cookie } });
      expect(noToken.response.status).toBe(401);
      expect(noToken.error).toEqual({ error: 'The user can logout only from client-side apps' });
      const noSession = await logoutOtherSessions({ client, headers: { Authorization: `Bearer ${token}` } });
      expect(noSession.response.status).toBe(401);
      expect(noSession.error).toEqual({ error: 'Could not retrieve session' });
      const unknown = await logoutOtherSessions({ client: server.client(`nobody.test:${server.port}`), headers: { Authorization: `Bearer ${token}` } });
      expect(unknown.response.status).toBe(404);
    });

    it('lets a preflight through for the logout route', async () => {
      const instance = await create('out6');
      const { rawRequest } = await import('../account/helpers.js');
      const res = await rawRequest(server, instance.domain, '/auth/login', {
        method: 'OPTIONS',
        headers: { Origin: `http://settings.out6.test:${server.port}`, 'Access-Control-Request-Method': 'DELETE', 'User-Agent': UA },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-methods')).toContain('DELETE');
    });
  });
});
