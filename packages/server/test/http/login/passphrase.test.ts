// Passphrase reset and renew, the hint mail and the onboarding page (reference §3.19):
// GET/POST /auth/passphrase_reset, GET/POST /auth/passphrase_renew, POST /auth/hint, GET /auth/passphrase.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getLoginPage,
  getOnboardingPage,
  getPassphraseRenewPage,
  getPassphraseResetPage,
  login,
  renewPassphrase,
  requestPassphraseReset,
  sendHint,
} from '@hearth/client';
import { updateInstance, type Instance } from '../../../src/repositories/instances.js';
import { getSession } from '../../../src/repositories/sessions.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { cookiePair, cookies, csrfTokenOf, formHeaders, hashFor, hiddenField, ITERATIONS, lastLink, mailsOf, openLoginPage, PASSWORD, setCookie } from './helpers.js';

describe.each(testEngines)('passphrase reset, renew, hint, onboarding page (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine });
  });
  afterAll(() => server.stop());

  const create = (name: string, input: Parameters<TestServer['createInstance']>[1] = {}) =>
    server.createInstance(name, { passphrase: PASSWORD, kdf_iterations: ITERATIONS, ...input });

  /** GET /auth/passphrase_reset like a browser: the CSRF cookie and token. */
  async function resetPage(instance: Instance, query: Record<string, string> = {}) {
    const res = await getPassphraseResetPage({
      client: server.client(instance.domain, { headers: { Accept: 'text/html' } }),
      query: query as never,
      parseAs: 'text',
    });
    const html = res.data as unknown as string;
    return { res, html, csrfCookie: cookiePair(res.response, '_csrf'), csrfToken: csrfTokenOf(html) };
  }

  async function askReset(instance: Instance, body: Record<string, string> = {}, sessionCookie?: string) {
    const page = await resetPage(instance);
    return requestPassphraseReset({
      client: server.client(instance.domain),
      body: { csrf_token: page.csrfToken!, ...body },
      headers: formHeaders(cookies(page.csrfCookie, sessionCookie)),
      parseAs: 'text',
    });
  }

  /** The renew page of the last reset mail: its CSRF cookie and token, and the reset token. */
  async function renewPage(instance: Instance) {
    const link = await lastLink(server, instance, 'passphrase_reset', '/auth/passphrase_renew?');
    const url = new URL(link);
    const res = await getPassphraseRenewPage({
      client: server.client(instance.domain, { headers: { Accept: 'text/html' } }),
      query: Object.fromEntries(url.searchParams) as never,
      parseAs: 'text',
    });
    const html = res.data as unknown as string;
    return { res, html, link, token: url.searchParams.get('token')!, csrfCookie: cookiePair(res.response, '_csrf')!, csrfToken: csrfTokenOf(html)! };
  }

  async function postRenew(instance: Instance, csrfCookie: string, body: Record<string, string>, accept = 'application/json') {
    return renewPassphrase({ client: server.client(instance.domain), body: body as never, headers: formHeaders(csrfCookie, accept), parseAs: 'text' });
  }

  async function loginWith(instance: Instance, password: string, iterations = ITERATIONS) {
    const page = await openLoginPage(server, instance.domain);
    return login({
      client: server.client(instance.domain),
      body: { csrf_token: page.csrfToken, passphrase: await hashFor(instance, password, iterations) },
      headers: formHeaders(page.csrfCookie, 'application/json'),
    });
  }

  describe('GET /auth/passphrase_reset', () => {
    it('renders the form with the CSRF cookie; the hint form only when there is a hint', async () => {
      const instance = await create('rp1');
      const page = await resetPage(instance, { from: 'settings', redirect: `http://drive.rp1.test:${server.port}/` });
      expect(page.res.response.status).toBe(200);
      expect(setCookie(page.res.response, '_csrf')).toMatch(/^_csrf=[A-Za-z0-9]{32}; Path=\/auth; Max-Age=3600; HttpOnly; SameSite=Strict$/);
      expect(page.csrfToken).toBe(page.csrfCookie!.slice(6));
      expect(page.html).toContain('action="/auth/passphrase_reset"');
      expect(hiddenField(page.html, 'from')).toBe('settings');
      expect(page.html).not.toContain('action="/auth/hint"');
      expect(page.html).toContain('href="/auth/login?redirect=');
      await updateInstance(server.hearth.services.db, instance.id, { passphraseHint: 'the cat' });
      const withHint = await resetPage(instance, { hideBackButton: 'true' });
      expect(withHint.html).toContain('action="/auth/hint"');
      expect(withHint.html).not.toContain('href="/auth/login');
    });

    it('shows the need-onboarding page to an instance without a passphrase; 404 for an unknown host', async () => {
      const instance = await server.createInstance('rp2');
      const page = await resetPage(instance);
      expect(page.res.response.status).toBe(200);
      expect(page.html).not.toContain('action="/auth/passphrase_reset"');
      const unknown = await getPassphraseResetPage({ client: server.client(`nobody.test:${server.port}`) });
      expect(unknown.response.status).toBe(404);
    });
  });

  describe('reset → mail → renew', () => {
    it('mails a link once per 15 minutes, logs the browser out, and the renew sets the new passphrase', async () => {
      const instance = await create('rp3');
      const db = server.hearth.services.db;
      const session = await server.login(instance);
      const other = await server.login(instance);

      const res = await askReset(instance, { from: 'settings' }, session.cookie);
      expect(res.response.status).toBe(200);
      expect(res.response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(setCookie(res.response, 'cozysessid')).toMatch(/^cozysessid=; Path=\/; Domain=\.rp3\.test; Max-Age=0/);
      expect(await getSession(db, instance.id, session.sessionId)).toBeNull();
      const afterAsk = await server.instance(instance.domain);
      expect(afterAsk.passphraseResetToken).toMatch(/^[0-9a-f]{32}$/);
      const mails = await mailsOf(server, instance, 'passphrase_reset');
      expect(mails).toHaveLength(1);
      expect(mails[0]!.to).toBe('rp3@example.net');
      const link = await lastLink(server, instance, 'passphrase_reset', '/auth/passphrase_renew?');
      expect(link).toBe(`http://rp3.test:${server.port}/auth/passphrase_renew?token=${afterAsk.passphraseResetToken}&from=settings`);

      // A second request while the token is valid: nothing new, same answer.
      const second = await askReset(instance);
      expect(second.response.status).toBe(200);
      expect(await mailsOf(server, instance, 'passphrase_reset')).toHaveLength(1);
      expect((await server.instance(instance.domain)).passphraseResetToken).toBe(afterAsk.passphraseResetToken);

      const page = await renewPage(instance);
      expect(page.res.response.status).toBe(200);
      expect(page.html).toContain('action="/auth/passphrase_renew"');
      expect(page.html).toContain('data-salt="me@rp3.test"');
      expect(page.html).toContain('data-iterations="650000"');
      expect(hiddenField(page.html, 'passphrase_reset_token')).toBe(page.token);
      expect(hiddenField(page.html, 'from')).toBe('settings');
      expect(page.csrfToken).toBe(page.csrfCookie.slice(6));

      const renewed = await postRenew(instance, page.csrfCookie, {
        csrf_token: page.csrfToken,
        passphrase_reset_token: page.token,
        passphrase: await hashFor(instance, 'a brand new password'),
        iterations: String(ITERATIONS),
        key: '0.key|new',
        public_key: 'PUB',
        private_key: '2.priv|x|y',
        hint: 'new hint',
        from: 'settings',
      });
      expect(renewed.response.status).toBe(200);
      expect(JSON.parse(renewed.data as unknown as string)).toEqual({ redirect: `http://settings.rp3.test:${server.port}/#/profile/email` });

      const after = await server.instance(instance.domain);
      expect(after.passphraseResetToken).toBeNull();
      expect(after.passphraseHint).toBe('new hint');
      expect(after.vaultKey).toBe('0.key|new');
      expect(after.vaultPublicKey).toBe('PUB');
      expect(after.sessionSecret).not.toBe(instance.sessionSecret);
      // The other browser's cookie no longer works.
      const old = await getLoginPage({ client: server.client(instance.domain, { cookie: other.cookie, headers: { Accept: 'text/html' } }) });
      expect(old.response.status).toBe(200);
      // The new passphrase works, the old one does not.
      expect((await loginWith(after, PASSWORD)).response.status).toBe(401);
      const ok = await loginWith(after, 'a brand new password');
      expect(ok.response.status).toBe(200);
      expect(ok.data).toEqual({ redirect: `http://home.rp3.test:${server.port}/` });
      // The link cannot be used twice.
      const reused = await getPassphraseRenewPage({ client: server.client(instance.domain, { headers: { Accept: 'text/html' } }), query: { token: page.token } });
      expect(reused.response.status).toBe(400);
    });

    it('renews with a 303 to the login page for a browser form, and an empty hint removes the hint', async () => {
      const instance = await create('rp4');
      await updateInstance(server.hearth.services.db, instance.id, { passphraseHint: 'old hint' });
      await askReset(instance);
      const page = await renewPage(instance);
      const res = await postRenew(
        instance,
        page.csrfCookie,
        {
          csrf_token: page.csrfToken,
          passphrase_reset_token: page.token,
          passphrase: await hashFor(instance, 'another one'),
          iterations: String(ITERATIONS),
          key: '0.k|v',
          hint: '',
        },
        'text/html',
      );
      expect(res.response.status).toBe(303);
      expect(res.response.headers.get('location')).toBe(`http://rp4.test:${server.port}/auth/login`);
      const after = await server.instance(instance.domain);
      expect(after.passphraseHint).toBeNull();
      expect(after.passphraseKdfIterations).toBe(ITERATIONS);
    });

    it('hashes a clear-text passphrase itself (iterations 0)', async () => {
      const instance = await create('rp5');
      await askReset(instance);
      const page = await renewPage(instance);
      const res = await postRenew(instance, page.csrfCookie, {
        csrf_token: page.csrfToken,
        passphrase_reset_token: page.token,
        passphrase: 'clear text password',
        iterations: '0',
      });
      expect(res.response.status).toBe(200);
      const after = await server.instance(instance.domain);
      expect(after.passphraseKdfIterations).toBe(650_000);
      expect(after.vaultKey).toMatch(/^0\./);
      expect((await loginWith(after, 'clear text password', 650_000)).response.status).toBe(200);
    }, 30_000);

    it('rejects bad renew forms: CSRF, reset token, passphrase, iterations', async () => {
      const instance = await create('rp6');
      await askReset(instance);
      const page = await renewPage(instance);
      const passphrase = await hashFor(instance, 'x y z');
      const base = { csrf_token: page.csrfToken, passphrase_reset_token: page.token, passphrase, iterations: String(ITERATIONS), key: '0.a|b' };

      const noCsrf = await postRenew(instance, page.csrfCookie, { ...base, csrf_token: '' });
      expect(noCsrf.response.status).toBe(400);
      expect(noCsrf.error).toEqual({ error: 'missing csrf token in the form parameter' });
      const badCsrf = await postRenew(instance, page.csrfCookie, { ...base, csrf_token: 'Q'.repeat(32) });
      expect(badCsrf.response.status).toBe(403);
      expect(badCsrf.error).toEqual({ error: 'invalid csrf token' });

      const notHex = await postRenew(instance, page.csrfCookie, { ...base, passphrase_reset_token: 'zz' });
      expect(notHex.response.status).toBe(401);
      expect(notHex.error).toEqual({ error: 'Invalid reset token' });
      const notHexHtml = await postRenew(instance, page.csrfCookie, { ...base, passphrase_reset_token: 'zz' }, 'text/html');
      expect(notHexHtml.response.status).toBe(400);
      expect(notHexHtml.response.headers.get('content-type')).toMatch(/^text\/html/);
      const mismatch = await postRenew(instance, page.csrfCookie, { ...base, passphrase_reset_token: '0'.repeat(32) });
      expect(mismatch.response.status).toBe(400);
      expect(mismatch.error).toEqual({ error: 'invalid_token' });

      const empty = await postRenew(instance, page.csrfCookie, { ...base, passphrase: '' });
      expect(empty.response.status).toBe(400);
      expect(empty.error).toEqual({ errors: [{ status: '400', title: 'Bad Request', detail: 'Missing new passphrase', source: {} }] });
      const low = await postRenew(instance, page.csrfCookie, { ...base, iterations: '1000' });
      expect(low.response.status).toBe(422);
      expect(low.error).toMatchObject({ errors: [{ status: '422', title: 'Invalid Parameter', source: { parameter: 'KdfIterations' } }] });
      const nan = await postRenew(instance, page.csrfCookie, { ...base, iterations: 'lots' });
      expect(nan.response.status).toBe(422);

      // Nothing was changed by the failures.
      const after = await server.instance(instance.domain);
      expect(after.passphraseResetToken).toBe(page.token);
      expect(after.passphraseHash).toBe(instance.passphraseHash);
      expect(after.sessionSecret).toBe(instance.sessionSecret);
    });

    it('refuses an expired token, and a new reset then creates a new one', async () => {
      const instance = await create('rp7');
      await askReset(instance);
      const page = await renewPage(instance);
      await updateInstance(server.hearth.services.db, instance.id, { passphraseResetAt: Date.now() - 16 * 60 * 1000 });
      const expiredPage = await getPassphraseRenewPage({ client: server.client(instance.domain, { headers: { Accept: 'text/html' } }), query: { token: page.token }, parseAs: 'text' });
      expect(expiredPage.response.status).toBe(400);
      expect(expiredPage.error as unknown as string).toContain('invalid or has expired');
      const expiredPost = await postRenew(instance, page.csrfCookie, { csrf_token: page.csrfToken, passphrase_reset_token: page.token, passphrase: 'p', iterations: '0' });
      expect(expiredPost.response.status).toBe(401);
      await askReset(instance);
      expect(await mailsOf(server, instance, 'passphrase_reset')).toHaveLength(2);
      expect((await server.instance(instance.domain)).passphraseResetToken).not.toBe(page.token);
    });

    it('GET /auth/passphrase_renew: 400 HTML for a bad or unknown token, 400 JSON for a mismatch, 303 when logged in', async () => {
      const instance = await create('rp8');
      const client = server.client(instance.domain, { headers: { Accept: 'text/html' } });
      const none = await getPassphraseRenewPage({ client, query: { token: '0'.repeat(32) }, parseAs: 'text' });
      expect(none.response.status).toBe(400);
      expect(none.response.headers.get('content-type')).toMatch(/^text\/html/);
      await askReset(instance);
      const notHex = await getPassphraseRenewPage({ client, query: { token: 'not-hex' }, parseAs: 'text' });
      expect(notHex.response.status).toBe(400);
      expect(notHex.response.headers.get('content-type')).toMatch(/^text\/html/);
      const mismatch = await getPassphraseRenewPage({ client, query: { token: '0'.repeat(32) } });
      expect(mismatch.response.status).toBe(400);
      expect(mismatch.error).toEqual({ error: 'invalid_token' });
      const { cookie } = await server.login(instance);
      const token = (await server.instance(instance.domain)).passphraseResetToken!;
      const logged = await getPassphraseRenewPage({ client: server.client(instance.domain, { cookie }), query: { token } });
      expect(logged.response.status).toBe(303);
      expect(logged.response.headers.get('location')).toBe(`http://home.rp8.test:${server.port}/`);
      // A logged-in browser posting the renew form is sent away without any change.
      const page = await renewPage(instance);
      const posted = await renewPassphrase({
        client: server.client(instance.domain),
        body: { csrf_token: page.csrfToken, passphrase_reset_token: token, passphrase: 'zzz', iterations: '0' },
        headers: formHeaders(cookies(page.csrfCookie, cookie), 'application/json'),
      });
      expect(posted.response.status).toBe(200);
      expect(posted.data).toEqual({ redirect: `http://home.rp8.test:${server.port}/` });
      expect((await server.instance(instance.domain)).passphraseResetToken).toBe(token);
      const unknown = await getPassphraseRenewPage({ client: server.client(`nobody.test:${server.port}`), query: { token } });
      expect(unknown.response.status).toBe(404);
    });

    it('POST /auth/passphrase_reset checks the CSRF token; an instance without a passphrase gets no mail', async () => {
      const instance = await create('rp9');
      const page = await resetPage(instance);
      const client = server.client(instance.domain);
      const missing = await requestPassphraseReset({ client, body: {}, headers: formHeaders(page.csrfCookie, 'application/json') });
      expect(missing.response.status).toBe(400);
      expect(missing.error).toEqual({ error: 'missing csrf token in the form parameter' });
      const wrong = await requestPassphraseReset({ client, body: { csrf_token: 'W'.repeat(32) }, headers: formHeaders(page.csrfCookie, 'application/json') });
      expect(wrong.response.status).toBe(403);
      expect(await mailsOf(server, instance, 'passphrase_reset')).toHaveLength(0);

      const fresh = await server.createInstance('rp10');
      const first = await getLoginPage({ client: server.client(fresh.domain, { headers: { Accept: 'text/html' } }) });
      const csrf = cookiePair(first.response, '_csrf')!;
      const res = await requestPassphraseReset({ client: server.client(fresh.domain), body: { csrf_token: csrf.slice(6) }, headers: formHeaders(csrf), parseAs: 'text' });
      expect(res.response.status).toBe(200);
      expect(await mailsOf(server, fresh, 'passphrase_reset')).toHaveLength(0);
      expect((await server.instance(fresh.domain)).passphraseResetToken).toBeNull();
    });
  });

  describe('POST /auth/hint', () => {
    it('mails the hint twice an hour, then silently skips; always the same page', async () => {
      const instance = await create('hint1');
      await updateInstance(server.hearth.services.db, instance.id, { passphraseHint: 'the name of my cat' });
      const client = server.client(instance.domain, { headers: { Accept: 'text/html' } });
      for (let i = 1; i <= 3; i++) {
        const res = await sendHint({ client, body: { redirect: `http://drive.hint1.test:${server.port}/` }, parseAs: 'text' });
        expect(res.response.status).toBe(200);
        expect(res.response.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.data as unknown as string).toContain('href="/auth/login"');
        expect(await mailsOf(server, instance, 'passphrase_hint')).toHaveLength(Math.min(i, 2));
      }
      const mail = (await mailsOf(server, instance, 'passphrase_hint'))[0]!;
      expect(mail.to).toBe('hint1@example.net');
      expect(mail.text).toContain('the name of my cat');
    });

    it('sends nothing when there is no hint, and answers 404 for an unknown host', async () => {
      const instance = await create('hint2');
      const res = await sendHint({ client: server.client(instance.domain, { headers: { Accept: 'text/html' } }) });
      expect(res.response.status).toBe(200);
      expect(await mailsOf(server, instance, 'passphrase_hint')).toHaveLength(0);
      const unknown = await sendHint({ client: server.client(`nobody.test:${server.port}`) });
      expect(unknown.response.status).toBe(404);
    });
  });

  describe('GET /auth/passphrase (onboarding page)', () => {
    it('renders the onboarding form for the right register token, the need-onboarding page otherwise', async () => {
      const instance = await server.createInstance('onb1');
      const client = server.client(instance.domain, { headers: { Accept: 'text/html' } });
      const ok = await getOnboardingPage({ client, query: { registerToken: instance.registerToken!, redirection: 'drive/#/folder' }, parseAs: 'text' });
      expect(ok.response.status).toBe(200);
      const html = ok.data as unknown as string;
      expect(html).toContain('action="/settings/passphrase"');
      expect(html).toContain('data-salt="me@onb1.test"');
      expect(html).toContain('data-iterations="650000"');
      expect(hiddenField(html, 'register_token')).toBe(instance.registerToken);
      expect(hiddenField(html, 'redirection')).toBe('drive/#/folder');
      for (const query of [{}, { registerToken: '0'.repeat(32) }, { registerToken: 'nope' }]) {
        const res = await getOnboardingPage({ client, query, parseAs: 'text' });
        expect(res.response.status).toBe(200);
        expect(res.data as unknown as string).not.toContain('action="/settings/passphrase"');
      }
      // Another instance's token does not work here.
      const other = await server.createInstance('onb1b');
      const cross = await getOnboardingPage({ client, query: { registerToken: other.registerToken! }, parseAs: 'text' });
      expect(cross.data as unknown as string).not.toContain('register_token');
    });

    it('sends an onboarded instance to its default redirection (303); 404 for an unknown host', async () => {
      const instance = await create('onb2');
      const res = await getOnboardingPage({ client: server.client(instance.domain, { headers: { Accept: 'text/html' } }), query: { registerToken: '0'.repeat(32) } });
      expect(res.response.status).toBe(303);
      expect(res.response.headers.get('location')).toBe(`http://home.onb2.test:${server.port}/`);
      const unknown = await getOnboardingPage({ client: server.client(`nobody.test:${server.port}`) });
      expect(unknown.response.status).toBe(404);
    });
  });
});
