// GET /public/prelogin, POST /auth/login/flagship, POST /auth/magic_link/flagship and
// POST /auth/session_code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionCode, getPrelogin, hashPassphrase, loginFlagship, loginMagicLinkFlagship } from '@hearth/client';
import { getCode, putCode } from '../../../src/repositories/codes.js';
import { updateInstance, type Instance } from '../../../src/repositories/instances.js';
import { peekRateLimit, RATE_LIMITS } from '../../../src/repositories/rate-limits.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { ITERATIONS, jwtPayload, makeClient, maximalToken, PASSWORD, rawRequest, reloadClient } from './helpers.js';

const configYaml = `
authentication:
  oidcctx:
    oidc:
      client_id: hearth
      authorize_url: https://idp.example.net/authorize
      token_url: https://idp.example.net/token
flagship:
  contexts:
    skipctx:
      skip_certification: true
`;

const WRONG_PASSPHRASE = 'The password you entered is incorrect, please try again.';
const WRONG_PASSCODE = 'The passcode you entered is incorrect, please try again.';

describe.each(testEngines)('flagship logins (%s)', (engine) => {
  let server: TestServer;
  let alice: Instance;
  let twofa: Instance;
  let aliceHash: string;
  let twofaHash: string;

  const onboarded = (name: string, extra: Parameters<TestServer['createInstance']>[1] = {}) =>
    server.createInstance(name, { passphrase: PASSWORD, kdf_iterations: ITERATIONS, ...extra });

  beforeAll(async () => {
    server = await startTestServer({ engine, configYaml });
    alice = await onboarded('alice', { public_name: 'Alice' });
    twofa = await onboarded('twofa', { auth_mode: 'two_factor_mail' });
    aliceHash = await hashPassphrase(PASSWORD, alice.domain, ITERATIONS);
    twofaHash = await hashPassphrase(PASSWORD, twofa.domain, ITERATIONS);
  });
  afterAll(() => server.stop());

  const authCount = (instance: Instance) => peekRateLimit(server.hearth.services.db, instance.id, 'auth', RATE_LIMITS.auth.windowMs);
  const mailsOf = async (instance: Instance, template: string) => (await server.mails(instance)).filter((m) => m.template === template);
  const passcodeOf = (text: string) => /\b(\d{6})\b/.exec(text)![1]!;

  describe('GET /public/prelogin', () => {
    it('answers the login parameters as application/json, with the exact keys', async () => {
      const res = await getPrelogin({ client: server.client(alice.domain, { headers: { Authorization: 'null' } }) });
      expect(res.response.status).toBe(200);
      expect(res.response.headers.get('content-type')).toBe('application/json');
      expect(res.data).toEqual({ Kdf: 0, KdfIterations: ITERATIONS, OIDC: false, FranceConnect: false, magic_link: false, locale: 'en', name: 'Alice' });
    });

    it('reflects OIDC contexts, FranceConnect, magic links, the locale, and falls back to the domain label', async () => {
      const inst = await onboarded('grace', { context: 'oidcctx', franceconnect_id: 'fc-123', magic_link: true, locale: 'fr', public_name: null });
      const res = await getPrelogin({ client: server.client(inst.domain) });
      expect(res.data).toEqual({ Kdf: 0, KdfIterations: ITERATIONS, OIDC: true, FranceConnect: true, magic_link: true, locale: 'fr', name: 'grace' });
    });

    it('answers 412 for an instance that is not onboarded', async () => {
      const inst = await server.createInstance('newcomer');
      const res = await getPrelogin({ client: server.client(inst.domain) });
      expect(res.response.status).toBe(412);
      expect(res.error).toEqual({ error: 'the instance has not been onboarded' });
    });

    it('answers 503 with the blocked warning for a blocked instance, and 404 for an unknown host', async () => {
      const inst = await onboarded('importing');
      await updateInstance(server.hearth.services.db, inst.id, { blocked: true, blockingReason: 'IMPORTING' });
      const res = await getPrelogin({ client: server.client(inst.domain) });
      expect(res.response.status).toBe(503);
      expect(res.error).toEqual([expect.objectContaining({ title: 'Blocked', code: 'IMPORTING' })]);
      const unknown = await getPrelogin({ client: server.client(`nobody.test:${server.port}`) });
      expect(unknown.response.status).toBe(404);
    });
  });

  describe('POST /auth/login/flagship', () => {
    it('answers tokens of scope * to a certified client and clears its pending flag', async () => {
      const client = await makeClient(server, alice, { flagship: true, pending: true });
      const res = await loginFlagship({
        client: server.client(alice.domain, { headers: { Authorization: 'null' } }),
        body: { passphrase: aliceHash, client_id: client.id, client_secret: client.clientSecret },
      });
      expect(res.response.status).toBe(200);
      expect(res.response.headers.get('set-cookie')).toBeNull();
      expect(res.data).toMatchObject({ token_type: 'bearer', scope: '*' });
      const data = res.data as { access_token: string; refresh_token: string };
      expect(jwtPayload(data.access_token)).toMatchObject({ aud: ['access'], sub: client.id, scope: '*', iss: alice.domain });
      expect(jwtPayload(data.refresh_token)).toMatchObject({ aud: ['refresh'], sub: client.id, scope: '*' });
      expect((await reloadClient(server, alice, client.id)).pending).toBe(false);
      // The access token is maximal.
      const code = await createSessionCode({ client: server.client(alice.domain, { token: data.access_token }) });
      expect(code.response.status).toBe(201);
    });

    it('answers 202 with a session code to an uncertified client (pending kept)', async () => {
      const client = await makeClient(server, alice);
      const res = await loginFlagship({ client: server.client(alice.domain), body: { passphrase: aliceHash, client_id: client.id, client_secret: client.clientSecret } });
      expect(res.response.status).toBe(202);
      const code = (res.data as { session_code: string }).session_code;
      expect(code).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(await getCode(server.hearth.services.db, alice.id, 'session_code', code)).not.toBeNull();
      expect((await reloadClient(server, alice, client.id)).pending).toBe(true);
      expect(server.logs.some((l) => l.nspace === 'loginaudit' && l.instance === alice.domain)).toBe(true);
    });

    it('refuses a wrong or missing passphrase (401) and counts it against the auth limit', async () => {
      const inst = await onboarded('wrongpass');
      const client = await makeClient(server, inst, { flagship: true });
      const wrong = await hashPassphrase('not the password', inst.domain, ITERATIONS);
      const res = await loginFlagship({ client: server.client(inst.domain), body: { passphrase: wrong, client_id: client.id, client_secret: client.clientSecret } });
      expect(res.response.status).toBe(401);
      expect(res.error).toEqual({ error: WRONG_PASSPHRASE });
      const missing = await loginFlagship({ client: server.client(inst.domain), body: { client_id: client.id, client_secret: client.clientSecret } });
      expect(missing.response.status).toBe(401);
      expect(await authCount(inst)).toBe(2);
    });

    it('answers the translated message on a French instance', async () => {
      const inst = await onboarded('francoise', { locale: 'fr' });
      const res = await loginFlagship({ client: server.client(inst.domain), body: { passphrase: 'x', client_id: 'a'.repeat(32), client_secret: 'x' } });
      expect(res.response.status).toBe(401);
      expect(res.error).toEqual({ error: 'Le mot de passe saisi est incorrect, veuillez réessayer.' });
    });

    it('blocks the instance (LOGIN_FAILED) at the 1001st failure in an hour', async () => {
      const inst = await onboarded('blockme');
      const client = await makeClient(server, inst, { flagship: true });
      const db = server.hearth.services.db;
      await db.insertInto('rate_limits').values({ scope: inst.id, counter: 'auth', window_start: Date.now(), count: 999 }).execute();
      const body = { passphrase: 'wrong', client_id: client.id, client_secret: client.clientSecret };
      const first = await loginFlagship({ client: server.client(inst.domain), body });
      expect(first.response.status).toBe(401);
      expect((await server.instance(inst.domain)).blocked).toBe(false);
      const second = await loginFlagship({ client: server.client(inst.domain), body });
      expect(second.response.status).toBe(401);
      const blocked = await server.instance(inst.domain);
      expect(blocked.blocked).toBe(true);
      expect(blocked.blockingReason).toBe('LOGIN_FAILED');
      const hash = await hashPassphrase(PASSWORD, inst.domain, ITERATIONS);
      const after = await loginFlagship({ client: server.client(inst.domain), body: { ...body, passphrase: hash } });
      expect(after.response.status).toBe(503);
      expect(after.response.headers.get('content-type')).toMatch(/^text\/html/);
    });

    it('checks the client after the passphrase (400)', async () => {
      const client = await makeClient(server, alice, { flagship: true });
      const unknown = await loginFlagship({ client: server.client(alice.domain), body: { passphrase: aliceHash, client_id: 'c'.repeat(32), client_secret: 'x' } });
      expect(unknown.response.status).toBe(400);
      expect(unknown.error).toEqual({ error: 'the client must be registered' });
      const badSecret = await loginFlagship({ client: server.client(alice.domain), body: { passphrase: aliceHash, client_id: client.id, client_secret: 'nope' } });
      expect(badSecret.response.status).toBe(400);
      expect(badSecret.error).toEqual({ error: 'invalid client_secret' });
    });

    it('refuses the client of another instance (400)', async () => {
      const bob = await onboarded('bob-login');
      const bobsClient = await makeClient(server, bob, { flagship: true });
      const res = await loginFlagship({ client: server.client(alice.domain), body: { passphrase: aliceHash, client_id: bobsClient.id, client_secret: bobsClient.clientSecret } });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual({ error: 'the client must be registered' });
    });

    it('answers 400 (JSON:API) for a body that is not JSON', async () => {
      const res = await rawRequest(alice.domain, '/auth/login/flagship', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: 'xx' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/vnd.api+json');
    });

    it('answers the need-onboarding HTML page (200) for an instance that is not onboarded', async () => {
      const inst = await server.createInstance('notyet');
      const res = await rawRequest(inst.domain, '/auth/login/flagship', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ passphrase: 'x', client_id: 'a'.repeat(32), client_secret: 'y' }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('not activated yet');
    });

    it('answers 404 for an unknown host', async () => {
      const res = await loginFlagship({ client: server.client(`nobody.test:${server.port}`), body: { passphrase: 'x' } });
      expect(res.response.status).toBe(404);
    });

    describe('with two-factor authentication by mail', () => {
      it('mails a passcode (401 two_factor_token), then logs in with it', async () => {
        const client = await makeClient(server, twofa, { flagship: true });
        const before = (await mailsOf(twofa, 'two_factor')).length;
        const body = { passphrase: twofaHash, client_id: client.id, client_secret: client.clientSecret };
        const first = await loginFlagship({ client: server.client(twofa.domain), body });
        expect(first.response.status).toBe(401);
        const token = (first.error as { two_factor_token: string }).two_factor_token;
        expect(first.error).toEqual({ two_factor_token: token });
        expect(token).toHaveLength(96);
        const mails = await mailsOf(twofa, 'two_factor');
        expect(mails).toHaveLength(before + 1);
        expect(mails.at(-1)!.to).toBe('twofa@example.net');
        const passcode = passcodeOf(mails.at(-1)!.text);
        const wrong = String((Number(passcode) + 1) % 1_000_000).padStart(6, '0');
        const bad = await loginFlagship({ client: server.client(twofa.domain), body: { ...body, two_factor_token: token, two_factor_passcode: wrong } });
        expect(bad.response.status).toBe(403);
        expect(bad.error).toEqual({ error: WRONG_PASSCODE });
        const ok = await loginFlagship({ client: server.client(twofa.domain), body: { ...body, two_factor_token: token, two_factor_passcode: passcode } });
        expect(ok.response.status).toBe(200);
        expect(ok.data).toMatchObject({ scope: '*' });
        expect(await authCount(twofa)).toBe(0);
      });

      it('checks the passphrase before the second factor', async () => {
        const client = await makeClient(server, twofa, { flagship: true });
        const before = (await mailsOf(twofa, 'two_factor')).length;
        const res = await loginFlagship({ client: server.client(twofa.domain), body: { passphrase: aliceHash, client_id: client.id, client_secret: client.clientSecret } });
        expect(res.response.status).toBe(401);
        expect(res.error).toEqual({ error: WRONG_PASSPHRASE });
        expect(await mailsOf(twofa, 'two_factor')).toHaveLength(before);
      });

      it('skips the second factor with a valid email_verified_code, not with an unknown one', async () => {
        const client = await makeClient(server, twofa);
        await putCode(server.hearth.services.db, twofa.id, 'email_verified', 'V'.repeat(32), {}, 15 * 60_000);
        const body = { passphrase: twofaHash, client_id: client.id, client_secret: client.clientSecret };
        const ok = await loginFlagship({ client: server.client(twofa.domain), body: { ...body, email_verified_code: 'V'.repeat(32) } });
        expect(ok.response.status).toBe(202);
        const unknown = await loginFlagship({ client: server.client(twofa.domain), body: { ...body, email_verified_code: 'W'.repeat(32) } });
        expect(unknown.response.status).toBe(401);
        expect(unknown.error).toHaveProperty('two_factor_token');
      });

      it('refuses a token made with another instance secret (403)', async () => {
        const client = await makeClient(server, twofa, { flagship: true });
        const other = await onboarded('other2fa', { auth_mode: 'two_factor_mail' });
        const otherHash = await hashPassphrase(PASSWORD, other.domain, ITERATIONS);
        const first = await loginFlagship({ client: server.client(other.domain), body: { passphrase: otherHash, client_id: 'a'.repeat(32), client_secret: 'y' } });
        const token = (first.error as { two_factor_token: string }).two_factor_token;
        const passcode = passcodeOf((await mailsOf(other, 'two_factor')).at(-1)!.text);
        const res = await loginFlagship({
          client: server.client(twofa.domain),
          body: { passphrase: twofaHash, client_id: client.id, client_secret: client.clientSecret, two_factor_token: token, two_factor_passcode: passcode },
        });
        expect(res.response.status).toBe(403);
      });
    });
  });

  describe('POST /auth/magic_link/flagship', () => {
    let magic: Instance;
    beforeAll(async () => {
      magic = await onboarded('magic', { magic_link: true });
      await putCode(server.hearth.services.db, magic.id, 'magic_link', 'M'.repeat(32), {}, 15 * 60_000);
    });

    it('answers tokens to a certified client, and the code stays valid', async () => {
      const client = await makeClient(server, magic, { flagship: true });
      for (let i = 0; i < 2; i++) {
        const res = await loginMagicLinkFlagship({ client: server.client(magic.domain), body: { magic_code: 'M'.repeat(32), client_id: client.id, client_secret: client.clientSecret } });
        expect(res.response.status).toBe(200);
        expect(res.data).toMatchObject({ token_type: 'bearer', scope: '*' });
      }
      expect((await reloadClient(server, magic, client.id)).pending).toBe(false);
    });

    it('answers 202 with a session code to an uncertified client', async () => {
      const client = await makeClient(server, magic);
      const res = await loginMagicLinkFlagship({ client: server.client(magic.domain), body: { magic_code: 'M'.repeat(32), client_id: client.id, client_secret: client.clientSecret } });
      expect(res.response.status).toBe(202);
      expect((res.data as { session_code: string }).session_code).toMatch(/^[A-Za-z0-9]{32}$/);
    });

    it('checks the client (400)', async () => {
      const client = await makeClient(server, magic, { flagship: true });
      const res = await loginMagicLinkFlagship({ client: server.client(magic.domain), body: { magic_code: 'M'.repeat(32), client_id: client.id, client_secret: 'wrong' } });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual({ error: 'invalid client_secret' });
    });

    it('refuses an unknown, expired or foreign code (401), then rate-limits (429 after 30)', async () => {
      const inst = await onboarded('magic2', { magic_link: true });
      const client = await makeClient(server, inst, { flagship: true });
      await putCode(server.hearth.services.db, inst.id, 'magic_link', 'E'.repeat(32), {}, -1000);
      const codes = ['E'.repeat(32), 'M'.repeat(32) /* alice's magic instance code */, 'Z'.repeat(32)];
      for (const code of codes) {
        const res = await loginMagicLinkFlagship({ client: server.client(inst.domain), body: { magic_code: code, client_id: client.id, client_secret: client.clientSecret } });
        expect(res.response.status).toBe(401);
        expect(res.error).toEqual({ error: 'invalid magic code' });
      }
      for (let i = codes.length; i < 30; i++) {
        const res = await loginMagicLinkFlagship({ client: server.client(inst.domain), body: { magic_code: 'Z'.repeat(32), client_id: client.id, client_secret: client.clientSecret } });
        expect(res.response.status).toBe(401);
      }
      const limited = await loginMagicLinkFlagship({ client: server.client(inst.domain), body: { magic_code: 'Z'.repeat(32), client_id: client.id, client_secret: client.clientSecret } });
      expect(limited.response.status).toBe(429);
      expect(limited.error).toEqual({ error: 'Too many requests' });
    });

    it('requires the passphrase as second factor on a 2FA instance, without mailing anything', async () => {
      const inst = await onboarded('magic2fa', { magic_link: true, auth_mode: 'two_factor_mail' });
      const hash = await hashPassphrase(PASSWORD, inst.domain, ITERATIONS);
      await putCode(server.hearth.services.db, inst.id, 'magic_link', 'P'.repeat(32), {}, 15 * 60_000);
      const client = await makeClient(server, inst, { flagship: true });
      const body = { magic_code: 'P'.repeat(32), client_id: client.id, client_secret: client.clientSecret };
      const missing = await loginMagicLinkFlagship({ client: server.client(inst.domain), body });
      expect(missing.response.status).toBe(401);
      expect(missing.error).toEqual({ error: 'passphrase is required as second authentication factor' });
      const wrong = await loginMagicLinkFlagship({ client: server.client(inst.domain), body: { ...body, passphrase: aliceHash } });
      expect(wrong.response.status).toBe(401);
      expect(await authCount(inst)).toBe(2);
      expect(await server.mails(inst)).toHaveLength(0);
      const ok = await loginMagicLinkFlagship({ client: server.client(inst.domain), body: { ...body, passphrase: hash } });
      expect(ok.response.status).toBe(200);
    });

    it('answers 400 (JSON:API) for a body that is not JSON, and 404 for an unknown host', async () => {
      const res = await rawRequest(magic.domain, '/auth/magic_link/flagship', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/vnd.api+json');
      const unknown = await loginMagicLinkFlagship({ client: server.client(`nobody.test:${server.port}`), body: {} });
      expect(unknown.response.status).toBe(404);
    });
  });

  describe('POST /auth/session_code', () => {
    it('creates a single-use code for a maximal token (201), logged in the login audit', async () => {
      const client = await makeClient(server, alice, { flagship: true });
      const token = await maximalToken(server, alice, client);
      const res = await createSessionCode({ client: server.client(alice.domain, { token }) });
      expect(res.response.status).toBe(201);
      const code = res.data!.session_code;
      expect(code).toMatch(/^[A-Za-z0-9]{32}$/);
      const stored = await getCode(server.hearth.services.db, alice.id, 'session_code', code);
      expect(stored).not.toBeNull();
      expect(stored!.expiresAt! - Date.now()).toBeGreaterThan(6.9 * 86400_000);
      expect(server.logs.some((l) => l.nspace === 'loginaudit' && l.reason === 'session_code_token')).toBe(true);
    });

    it('accepts the * token of an uncertified client in a skip_certification context', async () => {
      const inst = await onboarded('skipper', { context: 'skipctx' });
      const client = await makeClient(server, inst);
      const res = await createSessionCode({ client: server.client(inst.domain, { token: await maximalToken(server, inst, client) }) });
      expect(res.response.status).toBe(201);
    });

    it('falls back to the passphrase for no token, a bad token or a token that is not maximal', async () => {
      const uncertified = await makeClient(server, alice);
      const limited = await makeClient(server, alice, { flagship: true });
      const tokens = [undefined, 'garbage', await maximalToken(server, alice, uncertified), await server.token(alice, 'access', { sub: limited.id, scope: 'io.cozy.files' })];
      for (const token of tokens) {
        const refused = await createSessionCode({ client: server.client(alice.domain, { token }) });
        expect(refused.response.status).toBe(401);
        expect(refused.error).toEqual({ error: 'Not authorized' });
        const ok = await createSessionCode({ client: server.client(alice.domain, { token }), body: { passphrase: aliceHash } });
        expect(ok.response.status).toBe(201);
      }
    });

    it('refuses a wrong passphrase (401) without counting it', async () => {
      const inst = await onboarded('sessionwrong');
      const res = await createSessionCode({ client: server.client(inst.domain), body: { passphrase: aliceHash } });
      expect(res.response.status).toBe(401);
      expect(res.error).toEqual({ error: 'Not authorized' });
      expect(await authCount(inst)).toBe(0);
    });

    it('accepts the literal body null as an empty body (401), and answers 400 for a body that is not JSON', async () => {
      const nullBody = await rawRequest(alice.domain, '/auth/session_code', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: 'null' });
      expect(nullBody.status).toBe(401);
      const bad = await rawRequest(alice.domain, '/auth/session_code', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: '{oops' });
      expect(bad.status).toBe(400);
    });

    it('with 2FA, mails a new passcode on each failure (403) and accepts the right pair', async () => {
      const inst = await onboarded('session2fa', { auth_mode: 'two_factor_mail' });
      const hash = await hashPassphrase(PASSWORD, inst.domain, ITERATIONS);
      const first = await createSessionCode({ client: server.client(inst.domain), body: { passphrase: hash } });
      expect(first.response.status).toBe(403);
      const token1 = (first.error as { two_factor_token: string }).two_factor_token;
      expect(first.error).toEqual({ error: 'two factor needed', two_factor_token: token1 });
      const passcode1 = passcodeOf((await mailsOf(inst, 'two_factor')).at(-1)!.text);
      const wrong = String((Number(passcode1) + 1) % 1_000_000).padStart(6, '0');
      const second = await createSessionCode({ client: server.client(inst.domain), body: { passphrase: hash, two_factor_token: token1, two_factor_passcode: wrong } });
      expect(second.response.status).toBe(403);
      expect(await mailsOf(inst, 'two_factor')).toHaveLength(2);
      const ok = await createSessionCode({ client: server.client(inst.domain), body: { passphrase: hash, two_factor_token: token1, two_factor_passcode: passcode1 } });
      expect(ok.response.status).toBe(201);
      expect(await mailsOf(inst, 'two_factor')).toHaveLength(2);
    });

    it('answers 404 for an unknown host', async () => {
      const res = await createSessionCode({ client: server.client(`nobody.test:${server.port}`) });
      expect(res.response.status).toBe(404);
    });
  });
});
