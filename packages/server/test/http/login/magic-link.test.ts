// Magic links in the browser (reference §3.10, §0.8 magic-link counter): POST /auth/magic_link →
// mail → GET /auth/magic_link → session; with 2FA, the passphrase step POST /auth/magic_link/twofactor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLoginPage, openMagicLink, sendMagicLink, submitMagicLinkTwoFactor } from '@hearth/client';
import { getCode } from '../../../src/repositories/codes.js';
import { listLoginHistory } from '../../../src/repositories/login-history.js';
import { hitRateLimit, peekRateLimit, RATE_LIMITS } from '../../../src/repositories/rate-limits.js';
import { listSessions } from '../../../src/repositories/sessions.js';
import type { Instance } from '../../../src/repositories/instances.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { cookiePair, formHeaders, hashFor, hiddenField, ITERATIONS, lastLink, mailsOf, openLoginPage, PASSWORD, setCookie } from './helpers.js';

describe.each(testEngines)('magic links (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine });
  });
  afterAll(() => server.stop());

  const create = (name: string, input: Parameters<TestServer['createInstance']>[1] = {}) =>
    server.createInstance(name, { passphrase: PASSWORD, kdf_iterations: ITERATIONS, magic_link: true, ...input });

  async function askLink(instance: Instance, body: Record<string, string> = {}, opts: { accept?: string; csrf?: 'none' | 'wrong' } = {}) {
    const page = await openLoginPage(server, instance.domain);
    const csrf = opts.csrf === 'none' ? {} : { csrf_token: opts.csrf === 'wrong' ? 'B'.repeat(32) : page.csrfToken };
    return sendMagicLink({
      client: server.client(instance.domain),
      body: { ...csrf, ...body } as never,
      headers: formHeaders(page.csrfCookie, opts.accept ?? 'text/html'),
      parseAs: 'text',
    });
  }

  /** GET a link of a mail (path and query) like a browser. */
  async function open(instance: Instance, link: string, cookie?: string) {
    const url = new URL(link);
    return openMagicLink({
      client: server.client(instance.domain, { headers: formHeaders(cookie) }),
      query: Object.fromEntries(url.searchParams) as never,
      parseAs: 'text',
    });
  }

  it('mails a link that opens a session (303), and stays valid after use', async () => {
    const instance = await create('ml1');
    const redirect = `http://drive.ml1.test:${server.port}/#/folder`;
    const sent = await askLink(instance, { redirect });
    expect(sent.response.status).toBe(200);
    expect(sent.response.headers.get('content-type')).toMatch(/^text\/html/);
    const mails = await mailsOf(server, instance, 'magic_link');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toBe('ml1@example.net');
    const link = await lastLink(server, instance, 'magic_link', '/auth/magic_link?');
    const url = new URL(link);
    expect(`${url.origin}${url.pathname}`).toBe(`http://ml1.test:${server.port}/auth/magic_link`);
    expect(url.searchParams.get('code')).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(url.searchParams.get('redirect')).toBe(redirect);
    expect(await getCode(server.hearth.services.db, instance.id, 'magic_link', url.searchParams.get('code')!)).not.toBeNull();

    const res = await open(instance, link);
    expect(res.response.status).toBe(303);
    expect(res.response.headers.get('location')).toBe(redirect);
    const cookie = setCookie(res.response, 'cozysessid')!;
    expect(cookie).toMatch(/^cozysessid=[A-Za-z0-9_-]{96}; Path=\/; Domain=\.ml1\.test; HttpOnly; SameSite=Lax$/);
    expect((await listLoginHistory(server.hearth.services.db, instance.id)).map((h) => h.method)).toEqual(['magic_link']);

    // Already logged in: straight to the redirect, no new session.
    const again = await open(instance, link, cookie.split(';')[0]);
    expect(again.response.status).toBe(303);
    expect(setCookie(again.response, 'cozysessid')).toBeUndefined();
    // The code is not consumed: another browser can use it within its 15 minutes.
    const other = await open(instance, link);
    expect(other.response.status).toBe(303);
    expect(setCookie(other.response, 'cozysessid')).toBeDefined();
    expect(await listSessions(server.hearth.services.db, instance.id)).toHaveLength(2);
  });

  it('accepts the code as magic_code (cloudery onboarding) and goes to the default redirection', async () => {
    const instance = await create('ml2');
    await askLink(instance);
    const code = new URL(await lastLink(server, instance, 'magic_link', '/auth/magic_link?')).searchParams.get('code')!;
    const res = await openMagicLink({ client: server.client(instance.domain, { headers: { Accept: 'text/html' } }), query: { magic_code: code } });
    expect(res.response.status).toBe(303);
    expect(res.response.headers.get('location')).toBe(`http://home.ml2.test:${server.port}/`);
  });

  it('answers 400 to an invalid code, 429 over the magic-link limit', async () => {
    const instance = await create('ml3');
    const client = server.client(instance.domain, { headers: { Accept: 'text/html' } });
    const bad = await openMagicLink({ client, query: { code: 'A'.repeat(32) }, parseAs: 'text' });
    expect(bad.response.status).toBe(400);
    expect(bad.response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(bad.error as unknown as string).toContain('The magic link is invalid or has expired');
    const none = await openMagicLink({ client, parseAs: 'text' });
    expect(none.response.status).toBe(400);
    expect(await peekRateLimit(server.hearth.services.db, instance.id, 'magic-link', RATE_LIMITS['magic-link'].windowMs)).toBe(2);
    for (let i = 0; i < 28; i++) await hitRateLimit(server.hearth.services.db, instance.id, 'magic-link', RATE_LIMITS['magic-link'].windowMs);
    const limited = await openMagicLink({ client: server.client(instance.domain), query: { code: 'A'.repeat(32) } });
    expect(limited.response.status).toBe(429);
    expect(limited.error).toEqual({ error: 'Too many requests' });
    const redirect = await openMagicLink({ client: server.client(instance.domain), query: { code: 'x', redirect: 'https://evil.example.net/' } });
    expect(redirect.response.status).toBe(400);
    expect(redirect.error).toEqual({ error: 'bad url: should be subdomain' });
  });

  it('POST /auth/magic_link: CSRF 400/403, 403 when magic links are off, 429 over the limit', async () => {
    const instance = await create('ml4');
    const missing = await askLink(instance, {}, { csrf: 'none', accept: 'application/json' });
    expect(missing.response.status).toBe(400);
    expect(missing.error).toEqual({ error: 'missing csrf token in the form parameter' });
    const wrong = await askLink(instance, {}, { csrf: 'wrong', accept: 'application/json' });
    expect(wrong.response.status).toBe(403);
    expect(wrong.error).toEqual({ error: 'invalid csrf token' });

    const off = await create('ml5', { magic_link: false });
    const notEnabled = await askLink(off);
    expect(notEnabled.response.status).toBe(403);
    expect(notEnabled.response.headers.get('content-type')).toBe('application/vnd.api+json');
    expect(notEnabled.error).toEqual({
      errors: [{ status: '403', title: 'Forbidden', detail: 'magic link is not available for this instance', source: {} }],
    });
    expect(await mailsOf(server, off, 'magic_link')).toHaveLength(0);

    for (let i = 0; i < 30; i++) await hitRateLimit(server.hearth.services.db, instance.id, 'magic-link', RATE_LIMITS['magic-link'].windowMs);
    const limited = await askLink(instance, {}, { accept: 'application/json' });
    expect(limited.response.status).toBe(429);
    expect(await mailsOf(server, instance, 'magic_link')).toHaveLength(0);
    const unknown = await sendMagicLink({ client: server.client(`nobody.test:${server.port}`), body: { csrf_token: 'x' } });
    expect(unknown.response.status).toBe(404);
  });

  describe('with two-factor authentication', () => {
    async function passphraseStep(name: string) {
      const instance = await create(name, { auth_mode: 'two_factor_mail' });
      const redirect = `http://drive.${name}.test:${server.port}/`;
      await askLink(instance, { redirect });
      const link = await lastLink(server, instance, 'magic_link', '/auth/magic_link?');
      const page = await open(instance, link);
      expect(page.response.status).toBe(200);
      const html = page.data as unknown as string;
      const csrfCookie = cookiePair(page.response, '_csrf')!;
      return { instance, redirect, html, csrfCookie, code: new URL(link).searchParams.get('code')! };
    }

    it('asks for the passphrase, then answers 200 {redirect} with the session', async () => {
      const { instance, redirect, html, csrfCookie, code } = await passphraseStep('mlt1');
      expect(html).toContain('action="/auth/magic_link/twofactor"');
      expect(hiddenField(html, 'magic_code')).toBe(code);
      expect(hiddenField(html, 'csrf_token')).toBe(csrfCookie.slice(6));
      expect(html).toContain('data-salt="me@mlt1.test"');
      expect(await listSessions(server.hearth.services.db, instance.id)).toHaveLength(0);
      const res = await submitMagicLinkTwoFactor({
        client: server.client(instance.domain),
        body: { magic_code: code, passphrase: await hashFor(instance), redirect, csrf_token: hiddenField(html, 'csrf_token') },
        headers: formHeaders(csrfCookie, 'application/json'),
      });
      expect(res.response.status).toBe(200);
      expect(res.data).toEqual({ redirect });
      expect(setCookie(res.response, 'cozysessid')).toMatch(/^cozysessid=/);
      expect((await listLoginHistory(server.hearth.services.db, instance.id)).map((h) => h.method)).toEqual(['magic_link']);
      // No two-factor mail: the passphrase is the second factor.
      expect(await mailsOf(server, instance, 'two_factor')).toHaveLength(0);
    });

    it('answers 401 to a bad code or a wrong passphrase (counted), 400/403 to CSRF failures, 400 to a bad redirect', async () => {
      const { instance, html, csrfCookie, code } = await passphraseStep('mlt2');
      const csrf = hiddenField(html, 'csrf_token')!;
      const client = server.client(instance.domain);
      const post = (body: Record<string, string>, cookie = csrfCookie) =>
        submitMagicLinkTwoFactor({ client, body: body as never, headers: formHeaders(cookie, 'application/json') });
      const passphrase = await hashFor(instance);

      const badCode = await post({ magic_code: 'Z'.repeat(32), passphrase, csrf_token: csrf });
      expect(badCode.response.status).toBe(401);
      expect(badCode.error).toEqual({ error: 'The magic link is invalid or has expired' });

      const wrong = await post({ magic_code: code, passphrase: await hashFor(instance, 'nope'), csrf_token: csrf });
      expect(wrong.response.status).toBe(401);
      expect(wrong.error).toEqual({ error: 'The password you entered is incorrect, please try again.' });
      expect(await peekRateLimit(server.hearth.services.db, instance.id, 'auth', RATE_LIMITS.auth.windowMs)).toBe(1);

      const noCsrf = await post({ magic_code: code, passphrase });
      expect(noCsrf.response.status).toBe(400);
      expect(noCsrf.error).toEqual({ error: 'missing csrf token in the form parameter' });
      const otherCsrf = await post({ magic_code: code, passphrase, csrf_token: 'C'.repeat(32) });
      expect(otherCsrf.response.status).toBe(403);
      const noCookie = await submitMagicLinkTwoFactor({ client, body: { magic_code: code, passphrase, csrf_token: csrf }, headers: formHeaders(undefined, 'application/json') });
      expect(noCookie.response.status).toBe(403);

      const badRedirect = await post({ magic_code: code, passphrase, csrf_token: csrf, redirect: 'ftp://mlt2.test/' });
      expect(badRedirect.response.status).toBe(400);
      expect(badRedirect.error).toEqual({ error: 'bad url: bad scheme' });
      expect(await listSessions(server.hearth.services.db, instance.id)).toHaveLength(0);

      for (let i = 0; i < 30; i++) await hitRateLimit(server.hearth.services.db, instance.id, 'magic-link', RATE_LIMITS['magic-link'].windowMs);
      const limited = await post({ magic_code: 'Z'.repeat(32), passphrase, csrf_token: csrf });
      expect(limited.response.status).toBe(429);
      expect(limited.error).toEqual({ error: 'Too many requests' });
      // A valid code is still accepted over the limit (only invalid codes are limited).
      const stillOk = await post({ magic_code: code, passphrase, csrf_token: csrf });
      expect(stillOk.response.status).toBe(200);
    });
  });

  it('the login page of a magic-link instance posts to /auth/magic_link with its CSRF token', async () => {
    const instance = await create('ml6');
    const res = await getLoginPage({ client: server.client(instance.domain, { headers: { Accept: 'text/html' } }), parseAs: 'text' });
    const html = res.data as unknown as string;
    expect(html).toContain('action="/auth/magic_link"');
    expect(hiddenField(html, 'csrf_token')).toBe(cookiePair(res.response, '_csrf')!.slice(6));
  });
});
