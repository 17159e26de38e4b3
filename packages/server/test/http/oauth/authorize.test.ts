// GET and POST /auth/authorize: every step of reference §3.12 / §3.13.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, createAccessToken, createPkce, getCapabilities, getOAuthClientRegistration, registerOAuthClient } from '@hearth/client';
import { settingsAppUrl } from '../../../src/domain/apps-urls.js';
import { CODE_TTL_MS, getCode, putCode } from '../../../src/repositories/codes.js';
import { updateOAuthClient } from '../../../src/repositories/oauth-clients.js';
import { sessionSecretKey, verifyConfirmFlagship } from '../../../src/security/index.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { authorizePage, hiddenField, register, setCookies, type AuthorizeQuery } from './helpers.js';

const CONFIG = `
deprecated_apps:
  apps:
    - software_id: io.cozy.old.mobile
      name: Old Drive
      store_urls:
        android: https://play.google.com/store/apps/details?id=io.cozy.drive.mobile
flagship:
  contexts:
    cozy_beta:
      skip_certification: true
`;

describe.each(testEngines)('OAuth authorize (%s)', (engine) => {
  let server: TestServer;
  let domain: string;
  let cookie: string;
  beforeAll(async () => {
    server = await startTestServer({ engine, configYaml: CONFIG });
    const alice = await server.createInstance('alice');
    domain = alice.domain;
    cookie = (await server.login(alice)).cookie;
  });
  afterAll(() => server.stop());

  const db = () => server.hearth.services.db;
  const instanceId = async (d = domain) => (await server.instance(d)).id;
  const query = (clientId: string, extra: Partial<AuthorizeQuery> = {}): AuthorizeQuery => ({
    client_id: clientId,
    redirect_uri: 'http://localhost:4000/cb',
    state: 'xyz',
    response_type: 'code',
    scope: 'io.cozy.files',
    ...extra,
  });

  describe('GET /auth/authorize', () => {
    it('answers the 400 HTML error page for each parameter check', async () => {
      const c = await register(server, domain, { client_name: 'Params' });
      const cases: [Partial<AuthorizeQuery>, string][] = [
        [{ state: undefined }, 'The state parameter is missing'],
        [{ client_id: undefined }, 'The client_id parameter is missing'],
        [{ redirect_uri: undefined }, 'The redirect_uri parameter is missing'],
        [{ response_type: 'token' }, 'Invalid response type'],
        [{ code_challenge: 'abc' }, 'Invalid code challenge method'],
        [{ code_challenge_method: 'S256' }, 'No challenge code'],
        [{ client_id: '0123456789abcdef0123456789abcdef' }, 'The client must be registered'],
        [{ redirect_uri: 'http://localhost:4000/other' }, 'does not match the registered ones'],
        [{ scope: '*' }, 'No challenge code'],
        [{ scope: '  ' }, 'The scope parameter is missing'],
        [{ scope: 'login' }, 'The login scope is not allowed'],
      ];
      for (const [extra, message] of cases) {
        // Also with Accept: application/json: the answer is the HTML page whatever the Accept.
        const { res, text } = await authorizePage(server, domain, query(c.client_id, extra), cookie, 'application/json');
        expect(res.response.status, message).toBe(400);
        expect(res.response.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(text).toContain(message);
      }
      const invalidScope = await authorizePage(server, domain, query(c.client_id, { scope: 'io.cozy.files:FETCH' }), cookie);
      expect(invalidScope.res.response.status).toBe(400);
      expect(invalidScope.text).toContain('Invalid scope');
    });

    it('redirects a browser that is not logged in to the login page (303)', async () => {
      const c = await register(server, domain, { client_name: 'Anonymous' });
      const { res } = await authorizePage(server, domain, query(c.client_id));
      expect(res.response.status).toBe(303);
      const location = new URL(res.response.headers.get('location')!);
      expect(location.pathname).toBe('/auth/login');
      const back = new URL(location.searchParams.get('redirect')!);
      expect(back.host).toBe(domain);
      expect(back.pathname).toBe('/auth/authorize');
      expect(back.searchParams.get('client_id')).toBe(c.client_id);
      expect(back.searchParams.get('state')).toBe('xyz');
    });

    it('consumes a session_code: short-run session, then 303 to the same URL without it', async () => {
      const c = await register(server, domain, { client_name: 'Webview' });
      const id = await instanceId();
      await putCode(db(), id, 'session_code', 'SessionCode0123456789abcdefghijk', {}, CODE_TTL_MS.session_code);
      const { res } = await authorizePage(server, domain, query(c.client_id, { session_code: 'SessionCode0123456789abcdefghijk' }));
      expect(res.response.status).toBe(303);
      const location = new URL(res.response.headers.get('location')!);
      expect(location.pathname).toBe('/auth/authorize');
      expect(location.searchParams.has('session_code')).toBe(false);
      expect(location.searchParams.get('client_id')).toBe(c.client_id);
      const sessionCookie = res.response.headers.getSetCookie().find((h) => h.startsWith('cozysessid='))!;
      expect(sessionCookie).toContain('Max-Age=300');
      expect(await getCode(db(), id, 'session_code', 'SessionCode0123456789abcdefghijk')).toBeNull();

      // The new session reaches the consent page.
      const pair = `cozysessid=${setCookies(res.response).cozysessid}`;
      const page = await authorizePage(server, domain, query(c.client_id), pair);
      expect(page.res.response.status).toBe(200);
      expect(hiddenField(page.text, 'client_id')).toBe(c.client_id);

      // Used once: without a session, the same code now leads to the login page.
      const again = await authorizePage(server, domain, query(c.client_id, { session_code: 'SessionCode0123456789abcdefghijk' }));
      expect(again.res.response.status).toBe(303);
      expect(new URL(again.res.response.headers.get('location')!).pathname).toBe('/auth/login');
    });

    it('consumes a session_code even for a logged-in browser, and goes on', async () => {
      const c = await register(server, domain, { client_name: 'Logged webview' });
      const id = await instanceId();
      await putCode(db(), id, 'session_code', 'AnotherCode0123456789abcdefghijk', {}, CODE_TTL_MS.session_code);
      const page = await authorizePage(server, domain, query(c.client_id, { session_code: 'AnotherCode0123456789abcdefghijk' }), cookie);
      expect(page.res.response.status).toBe(200);
      expect(await getCode(db(), id, 'session_code', 'AnotherCode0123456789abcdefghijk')).toBeNull();
    });

    it('gives a client created at onboarding its code without consent (deeplink or 302)', async () => {
      const c = await register(server, domain, { client_name: 'Onboarding app', redirect_uris: ['cozy://flagship'] });
      await updateOAuthClient(db(), await instanceId(), c.client_id, { createdAtOnboarding: true, flagship: true });
      const pkce = await createPkce();
      const q = query(c.client_id, { redirect_uri: 'cozy://flagship', scope: '*', code_challenge: pkce.codeChallenge, code_challenge_method: 'S256' });
      const json = await authorizePage(server, domain, q, cookie, 'application/json');
      expect(json.res.response.status).toBe(200);
      const deeplink = (JSON.parse(json.text) as { deeplink: string }).deeplink;
      expect(deeplink).toMatch(/^cozy:\/\/flagship\?access_code=[0-9a-f]{32}&code=[0-9a-f]{32}&state=xyz#$/);
      const code = new URL(deeplink).searchParams.get('access_code')!;
      const reg = await getOAuthClientRegistration({ client: server.client(domain, { token: c.registration_access_token }), path: { clientId: c.client_id } });
      expect(reg.data).not.toHaveProperty('pending');

      const html = await authorizePage(server, domain, q, cookie, 'text/html');
      expect(html.res.response.status).toBe(302);
      expect(html.res.response.headers.get('location')).toMatch(/^cozy:\/\/flagship\?access_code=[0-9a-f]{32}&code=[0-9a-f]{32}&state=xyz#$/);

      const tokens = await createAccessToken({
        client: server.client(domain),
        body: { grant_type: 'authorization_code', client_id: c.client_id, client_secret: c.client_secret, code, code_verifier: pkce.codeVerifier },
      });
      expect(tokens.data?.scope).toBe('*');
      const caps = await getCapabilities({ client: server.client(domain, { token: tokens.data!.access_token }) });
      expect(caps.response.status).toBe(200);
    });

    it('renders the confirm-flagship page for scope * and a client that is not flagship, mailing a code', async () => {
      const c = await register(server, domain, { client_name: 'Uncertified', redirect_uris: ['cozy://flagship'] });
      const pkce = await createPkce();
      const q = query(c.client_id, { redirect_uri: 'cozy://flagship', scope: '*', code_challenge: pkce.codeChallenge, code_challenge_method: 'S256' });
      const anonymous = await authorizePage(server, domain, q);
      expect(anonymous.res.response.status).toBe(303);
      const instance = await server.instance(domain);
      const mailsBefore = (await server.mails(instance)).length;
      const page = await authorizePage(server, domain, q, cookie);
      expect(page.res.response.status).toBe(200);
      expect(page.text).toContain(`/auth/clients/${c.client_id}/flagship`);
      const token = hiddenField(page.text, 'token')!;
      expect(token).toHaveLength(96);
      const mails = await server.mails(instance);
      expect(mails).toHaveLength(mailsBefore + 1);
      const mail = mails[mails.length - 1]!;
      expect(mail.template).toBe('confirm_flagship');
      const code = /\b(\d{6})\b/.exec(mail.text)![1]!;
      expect(verifyConfirmFlagship(sessionSecretKey(instance.sessionSecret), c.client_id, token, code)).toBe(true);

      // Once certified, the consent page is shown.
      await updateOAuthClient(db(), instance.id, c.client_id, { flagship: true });
      const consent = await authorizePage(server, domain, q, cookie);
      expect(consent.res.response.status).toBe(200);
      expect(hiddenField(consent.text, 'scope')).toBe('*');
    });

    it('skips the certification in a skip_certification context', async () => {
      const beta = await server.createInstance('beta', { context: 'cozy_beta' });
      const betaCookie = (await server.login(beta)).cookie;
      const c = await register(server, beta.domain, { client_name: 'Beta app' });
      const pkce = await createPkce();
      const page = await authorizePage(server, beta.domain, query(c.client_id, { scope: '*', code_challenge: pkce.codeChallenge, code_challenge_method: 'S256' }), betaCookie);
      expect(page.res.response.status).toBe(200);
      expect(hiddenField(page.text, 'csrf_token')).toBeTruthy();
    });

    it('answers 429 after 30 confirm-flagship pages in the hour, without mail', async () => {
      const busy = await server.createInstance('busyflag');
      const busyCookie = (await server.login(busy)).cookie;
      const c = await register(server, busy.domain, { client_name: 'Spammy' });
      const pkce = await createPkce();
      const q = query(c.client_id, { scope: '*', code_challenge: pkce.codeChallenge, code_challenge_method: 'S256' });
      for (let i = 0; i < 30; i++) expect((await authorizePage(server, busy.domain, q, busyCookie)).res.response.status).toBe(200);
      const limited = await authorizePage(server, busy.domain, q, busyCookie);
      expect(limited.res.response.status).toBe(429);
      expect(limited.res.response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await server.mails(busy)).toHaveLength(30);
    });

    it('issues a code without consent for the login scope (302)', async () => {
      const instance = await server.instance(domain);
      const cli = await server.token(instance, 'cli', { scope: 'io.cozy.oauth.clients' });
      const reg = await registerOAuthClient({
        client: server.client(domain, { token: cli }),
        body: { redirect_uris: ['http://localhost:4000/cb'], client_name: 'Login scope', software_id: 'cli', allow_login_scope: true },
      });
      const c = reg.data!;
      const { res } = await authorizePage(server, domain, query(c.client_id, { scope: 'login' }), cookie);
      expect(res.response.status).toBe(302);
      const location = res.response.headers.get('location')!;
      expect(location).toMatch(/^http:\/\/localhost:4000\/cb\?access_code=[0-9a-f]{32}&code=[0-9a-f]{32}&state=xyz#$/);
      const tokens = await createAccessToken({
        client: server.client(domain),
        body: { grant_type: 'authorization_code', client_id: c.client_id, client_secret: c.client_secret, code: new URL(location).searchParams.get('code')! },
      });
      expect(tokens.response.status).toBe(200);
      expect(tokens.data?.scope).toBe('');
    });

    it('shows the clients limit page when cozy.oauthclients.max is reached', async () => {
      const small = await server.createInstance('small', { feature_flags: { 'cozy.oauthclients.max': 1 } });
      const smallCookie = (await server.login(small)).cookie;
      const first = await register(server, small.domain, { client_name: 'First', client_kind: 'desktop' });
      const page1 = await authorizePage(server, small.domain, query(first.client_id), smallCookie);
      expect(page1.res.response.status).toBe(200);
      expect(page1.text).toContain(settingsAppUrl(server.config, small.domain));
      expect(hiddenField(page1.text, 'csrf_token')).toBeUndefined();
      // A flagship client is never limited.
      await updateOAuthClient(db(), small.id, first.client_id, { flagship: true });
      const page2 = await authorizePage(server, small.domain, query(first.client_id), smallCookie);
      expect(hiddenField(page2.text, 'csrf_token')).toBeTruthy();
      // Below the limit, the consent page.
      const other = await server.createInstance('roomy', { feature_flags: { 'cozy.oauthclients.max': 5 } });
      const c = await register(server, other.domain, { client_name: 'Roomy', client_kind: 'desktop' });
      const page3 = await authorizePage(server, other.domain, query(c.client_id), (await server.login(other)).cookie);
      expect(hiddenField(page3.text, 'csrf_token')).toBeTruthy();
    });

    it('shows the new-app page for a deprecated app, logged in or not', async () => {
      const c = await register(server, domain, { client_name: 'Legacy', software_id: 'io.cozy.old.mobile' });
      const { res, text } = await authorizePage(server, domain, query(c.client_id));
      expect(res.response.status).toBe(200);
      expect(text).toContain('Old Drive');
      expect(text).toContain('https://play.google.com/store/apps/details?id=io.cozy.drive.mobile');
    });

    it('answers 404 for an unknown host', async () => {
      const { res } = await authorizePage(server, `nobody.test:${server.port}`, query('0123456789abcdef0123456789abcdef'), undefined, 'application/json');
      expect(res.response.status).toBe(404);
    });

    it('keeps a valid _csrf cookie across pages', async () => {
      const c = await register(server, domain, { client_name: 'Tabs' });
      const first = await authorizePage(server, domain, query(c.client_id), cookie);
      const csrf = setCookies(first.res.response)._csrf!;
      const second = await authorizePage(server, domain, query(c.client_id), `${cookie}; _csrf=${csrf}`);
      expect(setCookies(second.res.response)._csrf).toBe(csrf);
      expect(hiddenField(second.text, 'csrf_token')).toBe(csrf);
    });
  });

  describe('POST /auth/authorize', () => {
    async function consentForm(clientId: string, extra: Record<string, string> = {}) {
      const page = await authorizePage(server, domain, query(clientId), cookie);
      const csrf = setCookies(page.res.response)._csrf!;
      const form: Record<string, string> = {
        csrf_token: csrf,
        client_id: clientId,
        state: 'xyz',
        redirect_uri: 'http://localhost:4000/cb',
        response_type: 'code',
        scope: 'io.cozy.files',
        ...extra,
      };
      return { csrf, form };
    }

    it('checks the CSRF token: 400 when missing from the form, 403 when different or without cookie', async () => {
      const c = await register(server, domain, { client_name: 'Csrf' });
      const { csrf, form } = await consentForm(c.client_id);
      const { csrf_token: _omit, ...withoutToken } = form;
      const missing = await authorize({ client: server.client(domain, { cookie: `${cookie}; _csrf=${csrf}` }), body: withoutToken as never });
      expect(missing.response.status).toBe(400);
      expect(missing.error).toEqual({ error: 'missing csrf token in the form parameter' });
      const plain = await authorize({ client: server.client(domain, { cookie: `${cookie}; _csrf=${csrf}`, headers: { Accept: 'text/plain' } }), body: withoutToken as never, parseAs: 'text' });
      expect(plain.response.status).toBe(400);
      expect(plain.error).toBe('missing csrf token in the form parameter');
      const mismatch = await authorize({ client: server.client(domain, { cookie: `${cookie}; _csrf=${'x'.repeat(32)}` }), body: form as never });
      expect(mismatch.response.status).toBe(403);
      expect(mismatch.error).toEqual({ error: 'invalid csrf token' });
      const noCookie = await authorize({ client: server.client(domain, { cookie }), body: form as never });
      expect(noCookie.response.status).toBe(403);
      const html = await authorize({ client: server.client(domain, { cookie, headers: { Accept: 'text/html' } }), body: form as never, parseAs: 'text' });
      expect(html.response.status).toBe(403);
      expect(html.response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    });

    it('needs a logged-in browser (401 HTML)', async () => {
      const c = await register(server, domain, { client_name: 'No session' });
      const { csrf, form } = await consentForm(c.client_id);
      const res = await authorize({ client: server.client(domain, { cookie: `_csrf=${csrf}`, headers: { Accept: 'text/html' } }), body: form as never, parseAs: 'text' });
      expect(res.response.status).toBe(401);
      expect(res.response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    });

    it('runs the parameter checks again (400 HTML)', async () => {
      const c = await register(server, domain, { client_name: 'Recheck' });
      const { csrf, form } = await consentForm(c.client_id, { redirect_uri: 'http://evil.example/cb' });
      const res = await authorize({ client: server.client(domain, { cookie: `${cookie}; _csrf=${csrf}` }), body: form as never, parseAs: 'text' });
      expect(res.response.status).toBe(400);
      expect(res.response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(String(res.error)).toContain('does not match the registered ones');
    });

    it('answers the deeplink as JSON when Accept is exactly application/json', async () => {
      const c = await register(server, domain, { client_name: 'Mobile', redirect_uris: ['http://localhost:4000/cb?keep=1'] });
      const page = await authorizePage(server, domain, query(c.client_id, { redirect_uri: 'http://localhost:4000/cb?keep=1' }), cookie);
      const csrf = setCookies(page.res.response)._csrf!;
      const res = await authorize({
        client: server.client(domain, { cookie: `${cookie}; _csrf=${csrf}`, headers: { Accept: 'application/json' } }),
        body: { csrf_token: csrf, client_id: c.client_id, state: 'xyz', redirect_uri: 'http://localhost:4000/cb?keep=1', response_type: 'code', scope: 'io.cozy.files' },
      });
      expect(res.response.status).toBe(200);
      expect(res.data?.deeplink).toMatch(/^http:\/\/localhost:4000\/cb\?access_code=[0-9a-f]{32}&code=[0-9a-f]{32}&keep=1&state=xyz#$/);
    });

    it('re-renders the confirm-flagship page for scope * and an uncertified client', async () => {
      const c = await register(server, domain, { client_name: 'Post uncertified' });
      const pkce = await createPkce();
      const { csrf, form } = await consentForm(c.client_id, { scope: '*', code_challenge: pkce.codeChallenge, code_challenge_method: 'S256' });
      const instance = await server.instance(domain);
      const before = (await server.mails(instance)).length;
      const res = await authorize({ client: server.client(domain, { cookie: `${cookie}; _csrf=${csrf}`, headers: { Accept: 'text/html' } }), body: form as never, parseAs: 'text' });
      expect(res.response.status).toBe(200);
      expect(String(res.data)).toContain(`/auth/clients/${c.client_id}/flagship`);
      const mails = await server.mails(instance);
      expect(mails).toHaveLength(before + 1);
      expect(mails[mails.length - 1]!.template).toBe('confirm_flagship');
    });
  });
});
