// Two-factor authentication by mail in the browser login (reference §0.7, §0.8, §3.7, §3.8):
// POST /auth/login → /auth/twofactor page → POST /auth/twofactor, trusted devices, the counters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTwoFactorPage, login, submitTwoFactor } from '@hearth/client';
import { CODE_TTL_MS, putCode } from '../../../src/repositories/codes.js';
import { listLoginHistory } from '../../../src/repositories/login-history.js';
import { hitRateLimit, peekRateLimit, RATE_LIMITS } from '../../../src/repositories/rate-limits.js';
import { listSessions } from '../../../src/repositories/sessions.js';
import type { Instance } from '../../../src/repositories/instances.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { cookiePair, formHeaders, hashFor, hiddenField, ITERATIONS, lastPasscode, mailsOf, openLoginPage, PASSWORD, setCookie, UA } from './helpers.js';

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0';

describe.each(testEngines)('two-factor login (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine });
  });
  afterAll(() => server.stop());

  const create = (name: string, input: Parameters<TestServer['createInstance']>[1] = {}) =>
    server.createInstance(name, { passphrase: PASSWORD, kdf_iterations: ITERATIONS, auth_mode: 'two_factor_mail', ...input });

  /** The first factor: answers the /auth/twofactor URL the browser is sent to. */
  async function firstFactor(instance: Instance, body: Record<string, string> = {}, opts: { accept?: string; ua?: string } = {}) {
    const page = await openLoginPage(server, instance.domain);
    const res = await login({
      client: server.client(instance.domain),
      body: { csrf_token: page.csrfToken, passphrase: await hashFor(instance), ...body },
      headers: formHeaders(page.csrfCookie, opts.accept ?? 'text/html', opts.ua ? { 'User-Agent': opts.ua } : {}),
      parseAs: 'text',
    });
    return res;
  }

  function tokenOf(location: string): string {
    return new URL(location).searchParams.get('two_factor_token')!;
  }

  async function twoFactor(instance: Instance, body: Record<string, string>, opts: { accept?: string; query?: Record<string, string>; ua?: string } = {}) {
    return submitTwoFactor({
      client: server.client(instance.domain),
      body: body as never,
      query: opts.query as never,
      headers: formHeaders(undefined, opts.accept ?? 'text/html', opts.ua ? { 'User-Agent': opts.ua } : {}),
      parseAs: 'text',
    });
  }

  it('login → passcode mail → two-factor page → session (303)', async () => {
    const instance = await create('tf1');
    const redirect = `http://drive.tf1.test:${server.port}/`;
    const first = await firstFactor(instance, { redirect });
    expect(first.response.status).toBe(303);
    expect(setCookie(first.response, 'cozysessid')).toBeUndefined();
    const location = first.response.headers.get('location')!;
    const url = new URL(location);
    expect(`${url.origin}${url.pathname}`).toBe(`http://tf1.test:${server.port}/auth/twofactor`);
    expect(url.searchParams.get('long_run_session')).toBe('false');
    expect(url.searchParams.get('redirect')).toBe(redirect);
    const token = tokenOf(location);
    expect(token).toMatch(/^[A-Za-z0-9_-]{96}$/);
    expect(await mailsOf(server, instance, 'two_factor')).toHaveLength(1);
    expect(await listSessions(server.hearth.services.db, instance.id)).toHaveLength(0);

    const page = await getTwoFactorPage({
      client: server.client(instance.domain, { headers: { Accept: 'text/html' } }),
      query: Object.fromEntries(url.searchParams) as never,
      parseAs: 'text',
    });
    expect(page.response.status).toBe(200);
    const html = page.data as unknown as string;
    expect(hiddenField(html, 'two-factor-token')).toBe(token);
    expect(hiddenField(html, 'redirect')).toBe(redirect);
    expect(html).toContain('name="two-factor-generate-trusted-device-token"');
    expect(html).toContain('action="/auth/twofactor"');

    const passcode = await lastPasscode(server, instance);
    const res = await twoFactor(instance, { 'two-factor-token': token, 'two-factor-passcode': passcode, redirect });
    expect(res.response.status).toBe(303);
    expect(res.response.headers.get('location')).toBe(redirect);
    expect(setCookie(res.response, 'cozysessid')).toMatch(/^cozysessid=[A-Za-z0-9_-]{96}; Path=\/; Domain=\.tf1\.test; HttpOnly; SameSite=Lax$/);
    const history = await listLoginHistory(server.hearth.services.db, instance.id);
    expect(history.map((h) => h.method)).toEqual(['two_factor']);
  });

  it('JSON clients: 200 {redirect} to the two-factor page, then {redirect, trusted-device token}; the token skips 2FA next time', async () => {
    const instance = await create('tf2');
    const first = await firstFactor(instance, {}, { accept: 'application/json' });
    expect(first.response.status).toBe(200);
    const { redirect: next } = JSON.parse(first.data as unknown as string) as { redirect: string };
    expect(next).toContain('/auth/twofactor?');
    const token = tokenOf(next);
    const passcode = await lastPasscode(server, instance);
    const res = await twoFactor(
      instance,
      { 'two-factor-token': token, 'two-factor-passcode': passcode, 'two-factor-generate-trusted-device-token': 'true' },
      { accept: 'application/json' },
    );
    expect(res.response.status).toBe(200);
    const body = JSON.parse(res.data as unknown as string) as { redirect: string; two_factor_trusted_device_token: string };
    expect(body.redirect).toBe(`http://home.tf2.test:${server.port}/`);
    expect(body.two_factor_trusted_device_token).toMatch(/^[A-Za-z0-9_-]{54}$/);
    expect(cookiePair(res.response, 'cozysessid')).toBeDefined();

    const mailsBefore = (await mailsOf(server, instance, 'two_factor')).length;
    const trusted = await firstFactor(instance, { 'trusted-device-token': body.two_factor_trusted_device_token });
    expect(trusted.response.status).toBe(303);
    expect(trusted.response.headers.get('location')).toBe(`http://home.tf2.test:${server.port}/`);
    expect(setCookie(trusted.response, 'cozysessid')).toBeDefined();
    expect(await mailsOf(server, instance, 'two_factor')).toHaveLength(mailsBefore);

    // The token is bound to the browser (OS and browser name of the User-Agent) and to the instance.
    const otherBrowser = await firstFactor(instance, { 'trusted-device-token': body.two_factor_trusted_device_token }, { ua: FIREFOX });
    expect(otherBrowser.response.headers.get('location')).toContain('/auth/twofactor?');
    const other = await create('tf2b');
    const otherInstance = await firstFactor(other, { 'trusted-device-token': body.two_factor_trusted_device_token });
    expect(otherInstance.response.headers.get('location')).toContain('/auth/twofactor?');
    // Without the flag, no token.
    const plain = await twoFactor(instance, { 'two-factor-token': token, 'two-factor-passcode': passcode }, { accept: 'application/json' });
    expect(JSON.parse(plain.data as unknown as string)).toEqual({ redirect: `http://home.tf2.test:${server.port}/` });
  });

  it('keeps a long-run session through the second factor', async () => {
    const instance = await create('tf3');
    const first = await firstFactor(instance, { 'long-run-session': 'true' });
    const url = new URL(first.response.headers.get('location')!);
    expect(url.searchParams.get('long_run_session')).toBe('true');
    const page = await getTwoFactorPage({
      client: server.client(instance.domain, { headers: { Accept: 'text/html' } }),
      query: Object.fromEntries(url.searchParams) as never,
      parseAs: 'text',
    });
    expect(page.data as unknown as string).toContain('action="/auth/twofactor?long-run-session=true"');
    const passcode = await lastPasscode(server, instance);
    const res = await twoFactor(instance, { 'two-factor-token': tokenOf(url.href), 'two-factor-passcode': passcode }, { query: { 'long-run-session': 'true' } });
    expect(res.response.status).toBe(303);
    expect(setCookie(res.response, 'cozysessid')).toContain('Max-Age=315360000');
    // The flag in the form (not the query) is not read.
    const again = await twoFactor(instance, { 'two-factor-token': tokenOf(url.href), 'two-factor-passcode': passcode, 'long-run-session': 'true' } as never);
    expect(setCookie(again.response, 'cozysessid')).not.toContain('Max-Age');
  });

  it('skips the second factor with a valid email_verified_code', async () => {
    const instance = await create('tf4');
    await putCode(server.hearth.services.db, instance.id, 'email_verified', 'MgA1hwmvu9wdC02J4GTBZAsPca4VyHBc', {}, CODE_TTL_MS.email_verified);
    const ok = await firstFactor(instance, { email_verified_code: 'MgA1hwmvu9wdC02J4GTBZAsPca4VyHBc' });
    expect(ok.response.headers.get('location')).toBe(`http://home.tf4.test:${server.port}/`);
    const bad = await firstFactor(instance, { email_verified_code: 'XgA1hwmvu9wdC02J4GTBZAsPca4VyHBc' });
    expect(bad.response.headers.get('location')).toContain('/auth/twofactor?');
  });

  it('answers 401 to a wrong passcode: JSON, or the page again with the message', async () => {
    const instance = await create('tf5');
    const first = await firstFactor(instance);
    const token = tokenOf(first.response.headers.get('location')!);
    const passcode = await lastPasscode(server, instance);
    const wrong = passcode === '000000' ? '111111' : '000000';
    const json = await twoFactor(instance, { 'two-factor-token': token, 'two-factor-passcode': wrong }, { accept: 'application/json' });
    expect(json.response.status).toBe(401);
    expect(json.error).toEqual({ error: 'The passcode you entered is incorrect, please try again.' });
    const html = await twoFactor(instance, { 'two-factor-token': token, 'two-factor-passcode': wrong });
    expect(html.response.status).toBe(401);
    expect(html.error as unknown as string).toContain('The passcode you entered is incorrect, please try again.');
    expect(hiddenField(html.error as unknown as string, 'two-factor-token')).toBe(token);
    const missing = await twoFactor(instance, { 'two-factor-token': token }, { accept: 'application/json' });
    expect(missing.response.status).toBe(401);
    // A token of another instance does not work here.
    const other = await create('tf5b');
    const otherFirst = await firstFactor(other);
    const cross = await twoFactor(instance, { 'two-factor-token': tokenOf(otherFirst.response.headers.get('location')!), 'two-factor-passcode': await lastPasscode(server, other) }, { accept: 'application/json' });
    expect(cross.response.status).toBe(401);
    expect(await peekRateLimit(server.hearth.services.db, instance.id, 'two-factor', RATE_LIMITS['two-factor'].windowMs)).toBe(4);
    expect(await listSessions(server.hearth.services.db, instance.id)).toHaveLength(0);
  });

  it('mails a new passcode after too many failures, and blocks the instance when too many were generated', async () => {
    const instance = await create('tf6');
    const db = server.hearth.services.db;
    const first = await firstFactor(instance);
    const token = tokenOf(first.response.headers.get('location')!);
    const passcode = await lastPasscode(server, instance);
    const wrong = passcode === '000000' ? '111111' : '000000';
    for (let i = 0; i < 10; i++) await hitRateLimit(db, instance.id, 'two-factor', RATE_LIMITS['two-factor'].windowMs);
    const res = await twoFactor(instance, { 'two-factor-token': token, 'two-factor-passcode': wrong });
    expect(res.response.status).toBe(401);
    const html = res.error as unknown as string;
    expect(html).toContain('You entered too many bad passcodes. A new one was sent, check your emails.');
    expect(await mailsOf(server, instance, 'two_factor')).toHaveLength(2);
    expect(await peekRateLimit(db, instance.id, 'two-factor', RATE_LIMITS['two-factor'].windowMs)).toBe(0);
    // The page carries the new token, which goes with the new passcode.
    const newToken = hiddenField(html, 'two-factor-token')!;
    expect(newToken).not.toBe(token);
    const ok = await twoFactor(instance, { 'two-factor-token': newToken, 'two-factor-passcode': await lastPasscode(server, instance) });
    expect(ok.response.status).toBe(303);

    const blockedOne = await create('tf7');
    const first7 = await firstFactor(blockedOne);
    const token7 = tokenOf(first7.response.headers.get('location')!);
    for (let i = 0; i < 10; i++) await hitRateLimit(db, blockedOne.id, 'two-factor', RATE_LIMITS['two-factor'].windowMs);
    for (let i = 0; i < 20; i++) await hitRateLimit(db, blockedOne.id, 'two-factor-generation', RATE_LIMITS['two-factor-generation'].windowMs);
    const last = await twoFactor(blockedOne, { 'two-factor-token': token7, 'two-factor-passcode': '999999' }, { accept: 'application/json' });
    expect(last.response.status).toBe(401);
    expect(await server.instance(blockedOne.domain)).toMatchObject({ blocked: true, blockingReason: 'LOGIN_FAILED' });
    const after = await twoFactor(blockedOne, { 'two-factor-token': token7, 'two-factor-passcode': '999999' }, { accept: 'application/json' });
    expect(after.response.status).toBe(503);
  });

  it('answers 401 when the instance does not use two-factor authentication by mail', async () => {
    const instance = await create('tf8', { auth_mode: 'basic' });
    const res = await twoFactor(instance, { 'two-factor-token': 'x', 'two-factor-passcode': '123456' });
    expect(res.response.status).toBe(401);
    expect(res.error).toEqual({ error: expect.any(String) });
  });

  it('confirm=true and the move flow answer without opening a session', async () => {
    const instance = await create('tf9');
    const first = await firstFactor(instance);
    const token = tokenOf(first.response.headers.get('location')!);
    const passcode = await lastPasscode(server, instance);
    const confirm = await twoFactor(instance, { 'two-factor-token': token, 'two-factor-passcode': passcode, confirm: 'true', state: 'abc' });
    expect(confirm.response.status).toBe(303);
    expect(setCookie(confirm.response, 'cozysessid')).toBeUndefined();
    const move = await twoFactor(instance, { 'two-factor-token': token, 'two-factor-passcode': passcode, client_id: 'mover' });
    expect(move.response.status).toBe(200);
    expect(JSON.parse(move.data as unknown as string)).toEqual({ redirect: `http://home.tf9.test:${server.port}/` });
    expect(await listSessions(server.hearth.services.db, instance.id)).toHaveLength(0);
  });

  it('validates the redirect of the two-factor step (400)', async () => {
    const instance = await create('tf10');
    const first = await firstFactor(instance);
    const token = tokenOf(first.response.headers.get('location')!);
    const res = await twoFactor(instance, { 'two-factor-token': token, 'two-factor-passcode': await lastPasscode(server, instance), redirect: 'https://evil.example.net/' }, { accept: 'application/json' });
    expect(res.response.status).toBe(400);
    expect(res.error).toEqual({ error: 'bad url: should be subdomain' });
  });

  describe('GET /auth/twofactor', () => {
    it('answers 400 without a token, or with a bad redirect; 404 for an unknown host', async () => {
      const instance = await create('tfp1');
      const client = server.client(instance.domain);
      const noToken = await getTwoFactorPage({ client });
      expect(noToken.response.status).toBe(400);
      expect(noToken.error).toBe('Missing twoFactorToken');
      const bad = await getTwoFactorPage({ client, query: { two_factor_token: 'x', redirect: 'javascript:alert(1)' } });
      expect(bad.response.status).toBe(400);
      expect(bad.error).toEqual({ error: 'bad url: bad scheme' });
      const unknown = await getTwoFactorPage({ client: server.client(`nobody.test:${server.port}`), query: { two_factor_token: 'x' } });
      expect(unknown.response.status).toBe(404);
    });

    it('hides the trusted-device checkbox on request, and towards the OAuth authorize page', async () => {
      const instance = await create('tfp2');
      const client = server.client(instance.domain, { headers: { Accept: 'text/html', 'User-Agent': UA } });
      const hidden = await getTwoFactorPage({ client, query: { two_factor_token: 'x', trusted_device_checkbox: 'false' }, parseAs: 'text' });
      expect(hidden.data as unknown as string).not.toContain('two-factor-generate-trusted-device-token');
      const authorize = await getTwoFactorPage({
        client,
        query: { two_factor_token: 'x', redirect: `http://tfp2.test:${server.port}/auth/authorize?client_id=a` },
        parseAs: 'text',
      });
      expect(authorize.data as unknown as string).not.toContain('two-factor-generate-trusted-device-token');
      const shown = await getTwoFactorPage({ client, query: { two_factor_token: 'x' }, parseAs: 'text' });
      expect(shown.data as unknown as string).toContain('two-factor-generate-trusted-device-token');
    });
  });
});
