// POST /oidc/access_token against a local fake OpenID Connect provider (JWKS + userinfo).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { exchangeOidcToken } from '@hearth/client';
import { contextScope, putCode } from '../../../src/repositories/codes.js';
import { updateInstance, type Instance } from '../../../src/repositories/instances.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { jwtPayload, makeClient, rawRequest, reloadClient } from './helpers.js';

interface FakeProvider {
  url: string;
  server: Server;
  key: CryptoKey;
  otherKey: CryptoKey;
  /** userinfo by bearer token. */
  userinfo: Map<string, Record<string, unknown>>;
  calls: string[];
}

async function startProvider(): Promise<FakeProvider> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
  const userinfo = new Map<string, Record<string, unknown>>();
  const calls: string[] = [];
  const server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    if (req.url === '/jwks') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    if (req.url === '/userinfo') {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const info = token ? userinfo.get(token) : undefined;
      if (!info) {
        res.statusCode = 401;
        res.end();
        return;
      }
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(info));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, key: privateKey, otherKey: other.privateKey, userinfo, calls };
}

describe.each(testEngines)('POST /oidc/access_token (%s)', (engine) => {
  let provider: FakeProvider;
  let server: TestServer;
  let alice: Instance;

  const idToken = (claims: Record<string, unknown>, opts: { key?: CryptoKey; exp?: number } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .setIssuer(provider.url)
      .setAudience('cozy-flagship')
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 3600)
      .sign(opts.key ?? provider.key);

  beforeAll(async () => {
    provider = await startProvider();
    const configYaml = `
authentication:
  oidcctx:
    oidc:
      client_id: hearth
      authorize_url: ${provider.url}/authorize
      token_url: ${provider.url}/token
      userinfo_url: ${provider.url}/userinfo
      userinfo_instance_field: cozy_domain
      userinfo_instance_prefix: oidc
      id_token_jwk_url: ${provider.url}/jwks
      allow_oauth_token: true
  closedctx:
    oidc:
      client_id: hearth
      userinfo_url: ${provider.url}/userinfo
      userinfo_instance_field: cozy_domain
      id_token_jwk_url: ${provider.url}/jwks
      allow_oauth_token: false
  customctx:
    oidc:
      client_id: hearth
      userinfo_url: ${provider.url}/userinfo
      allow_custom_instance: true
      allow_oauth_token: true
`;
    server = await startTestServer({ engine, configYaml });
    alice = await server.createInstance('oidcalice', { context: 'oidcctx', oidc_id: 'sub-alice', franceconnect_id: 'fc-alice' });
    provider.userinfo.set('good-token', { sub: 'sub-alice', cozy_domain: alice.domain.slice('oidc'.length) });
    provider.userinfo.set('other-domain-token', { sub: 'sub-alice', cozy_domain: `bob.test:${server.port}` });
    provider.userinfo.set('no-field-token', { sub: 'sub-alice' });
    await putCode(server.hearth.services.db, contextScope('oidcctx'), 'oidc_delegated', 'D'.repeat(32), { sub: 'sub-alice', sid: 'sid-from-code' }, 3 * 3600_000);
  });
  afterAll(async () => {
    await server.stop();
    provider.server.close();
  });

  const exchange = (instance: Instance, body: Parameters<typeof exchangeOidcToken>[0]['body']) =>
    exchangeOidcToken({ client: server.client(instance.domain, { headers: { Authorization: 'null' } }), body });

  describe('with a delegated code', () => {
    it('answers tokens with the asked scope, stores the sid and clears pending', async () => {
      const client = await makeClient(server, alice, { flagship: true });
      const res = await exchange(alice, { client_id: client.id, client_secret: client.clientSecret, scope: '*', code: 'D'.repeat(32) });
      expect(res.response.status).toBe(200);
      expect(res.data).toMatchObject({ token_type: 'bearer', scope: '*' });
      expect(jwtPayload((res.data as { access_token: string }).access_token)).toMatchObject({ aud: ['access'], sub: client.id, scope: '*' });
      expect(res.data).toHaveProperty('refresh_token');
      const after = await reloadClient(server, alice, client.id);
      expect(after.pending).toBe(false);
      expect(after.oidcSessionId).toBe('sid-from-code');
    });

    it('accepts a code whose subject is the FranceConnect id or the domain, even where allow_oauth_token is off', async () => {
      const inst = await server.createInstance('oidcclosed', { context: 'closedctx', franceconnect_id: 'fc-closed' });
      const client = await makeClient(server, inst, { flagship: true });
      const db = server.hearth.services.db;
      await putCode(db, contextScope('closedctx'), 'oidc_delegated', 'F'.repeat(32), { sub: 'fc-closed' }, 3 * 3600_000);
      await putCode(db, contextScope('closedctx'), 'oidc_delegated', 'G'.repeat(32), { sub: inst.domain }, 3 * 3600_000);
      for (const code of ['F'.repeat(32), 'G'.repeat(32)]) {
        const res = await exchange(inst, { client_id: client.id, client_secret: client.clientSecret, scope: '*', code });
        expect(res.response.status).toBe(200);
      }
      expect((await reloadClient(server, inst, client.id)).oidcSessionId).toBeNull();
    });

    it('refuses an unknown code, a code for another user and a code of another context (400 invalid code)', async () => {
      const client = await makeClient(server, alice, { flagship: true });
      const db = server.hearth.services.db;
      await putCode(db, contextScope('oidcctx'), 'oidc_delegated', 'H'.repeat(32), { sub: 'sub-bob' }, 3 * 3600_000);
      await putCode(db, contextScope('closedctx'), 'oidc_delegated', 'I'.repeat(32), { sub: 'sub-alice' }, 3 * 3600_000);
      await putCode(db, contextScope('oidcctx'), 'oidc_delegated', 'J'.repeat(32), { sub: 'sub-alice' }, -1);
      for (const code of ['U'.repeat(32), 'H'.repeat(32), 'I'.repeat(32), 'J'.repeat(32)]) {
        const res = await exchange(alice, { client_id: client.id, client_secret: client.clientSecret, scope: '*', code });
        expect(res.response.status).toBe(400);
        expect(res.error).toEqual({ error: 'invalid code' });
      }
    });

    it('is not blocked on a blocked instance', async () => {
      const inst = await server.createInstance('oidcblocked', { context: 'oidcctx', oidc_id: 'sub-blocked' });
      await updateInstance(server.hearth.services.db, inst.id, { blocked: true, blockingReason: 'LOGIN_FAILED' });
      await putCode(server.hearth.services.db, contextScope('oidcctx'), 'oidc_delegated', 'K'.repeat(32), { sub: 'sub-blocked' }, 3 * 3600_000);
      const client = await makeClient(server, inst, { flagship: true });
      const res = await exchange(inst, { client_id: client.id, client_secret: client.clientSecret, scope: '*', code: 'K'.repeat(32) });
      expect(res.response.status).toBe(200);
    });
  });

  describe('with an id_token', () => {
    it('verifies it against the JWKS, checks the subject and stores its sid', async () => {
      const client = await makeClient(server, alice, { flagship: true });
      const token = await idToken({ sub: 'sub-alice', sid: 'sid-from-id-token' });
      const res = await exchange(alice, { client_id: client.id, client_secret: client.clientSecret, scope: '*', id_token: token });
      expect(res.response.status).toBe(200);
      expect((await reloadClient(server, alice, client.id)).oidcSessionId).toBe('sid-from-id-token');
      expect(provider.calls).toContain('GET /jwks');
    });

    it('refuses a token signed with another key, an expired one, one for another user and a forged one', async () => {
      const client = await makeClient(server, alice, { flagship: true });
      const valid = await idToken({ sub: 'sub-alice' });
      const [h, , s] = valid.split('.');
      const forgedPayload = Buffer.from(JSON.stringify({ sub: 'sub-alice', exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
      const tokens = [
        await idToken({ sub: 'sub-alice' }, { key: provider.otherKey }),
        await idToken({ sub: 'sub-alice' }, { exp: Math.floor(Date.now() / 1000) - 3600 }),
        await idToken({ sub: 'sub-bob' }),
        `${h}.${forgedPayload}.${s}`,
        `${h}.${forgedPayload}.`,
      ];
      for (const id_token of tokens) {
        const res = await exchange(alice, { client_id: client.id, client_secret: client.clientSecret, scope: '*', id_token });
        expect(res.response.status).toBe(400);
        expect(res.error).toEqual({ error: 'the id_token is invalid' });
      }
      expect((await reloadClient(server, alice, client.id)).pending).toBe(true);
    });

    it('answers this endpoint is not enabled without allow_oauth_token or without OIDC', async () => {
      const closed = await server.createInstance('oidcclosed2', { context: 'closedctx', oidc_id: 'sub-alice' });
      const plain = await server.createInstance('nooidc', { oidc_id: 'sub-alice' });
      for (const inst of [closed, plain]) {
        const client = await makeClient(server, inst, { flagship: true });
        const token = await idToken({ sub: 'sub-alice' });
        const res = await exchange(inst, { client_id: client.id, client_secret: client.clientSecret, scope: '*', id_token: token });
        expect(res.response.status).toBe(400);
        expect(res.error).toEqual({ error: 'this endpoint is not enabled' });
        const viaUserinfo = await exchange(inst, { client_id: client.id, client_secret: client.clientSecret, scope: '*', oidc_token: 'good-token' });
        expect(viaUserinfo.error).toEqual({ error: 'this endpoint is not enabled' });
      }
    });
  });

  describe('with an oidc_token', () => {
    it('fetches the userinfo and maps it to the instance (prefix + field)', async () => {
      const client = await makeClient(server, alice, { flagship: true });
      const res = await exchange(alice, { client_id: client.id, client_secret: client.clientSecret, scope: '*', oidc_token: 'good-token' });
      expect(res.response.status).toBe(200);
    });

    it('refuses a token the provider rejects, userinfo for another instance or without the field, and no proof at all', async () => {
      const client = await makeClient(server, alice, { flagship: true });
      for (const oidc_token of ['revoked-token', 'other-domain-token', 'no-field-token', undefined]) {
        const res = await exchange(alice, { client_id: client.id, client_secret: client.clientSecret, scope: '*', oidc_token });
        expect(res.response.status).toBe(400);
        expect(res.error).toEqual({ error: 'the oidc_token is invalid' });
      }
    });

    it('with allow_custom_instance, compares the userinfo sub with the oidc_id', async () => {
      const mine = await server.createInstance('custom1', { context: 'customctx', oidc_id: 'sub-alice' });
      const other = await server.createInstance('custom2', { context: 'customctx', oidc_id: 'sub-someone' });
      const a = await makeClient(server, mine, { flagship: true });
      const b = await makeClient(server, other, { flagship: true });
      expect((await exchange(mine, { client_id: a.id, client_secret: a.clientSecret, scope: '*', oidc_token: 'good-token' })).response.status).toBe(200);
      const refused = await exchange(other, { client_id: b.id, client_secret: b.clientSecret, scope: '*', oidc_token: 'good-token' });
      expect(refused.response.status).toBe(400);
    });
  });

  describe('clients, scopes and two-factor authentication', () => {
    const code = 'D'.repeat(32);

    it('checks the client after the proof (400)', async () => {
      const client = await makeClient(server, alice, { flagship: true });
      const unknown = await exchange(alice, { client_id: 'b'.repeat(32), client_secret: 'x', scope: '*', code });
      expect(unknown.response.status).toBe(400);
      expect(unknown.error).toEqual({ error: 'the client must be registered' });
      const badSecret = await exchange(alice, { client_id: client.id, client_secret: 'x', scope: '*', code });
      expect(badSecret.error).toEqual({ error: 'invalid client_secret' });
      const bob = await server.createInstance('oidcbob', { context: 'oidcctx' });
      const bobsClient = await makeClient(server, bob, { flagship: true });
      const crossTenant = await exchange(alice, { client_id: bobsClient.id, client_secret: bobsClient.clientSecret, scope: '*', code });
      expect(crossTenant.error).toEqual({ error: 'the client must be registered' });
    });

    it('answers 202 with a session code for * and an uncertified client (pending kept)', async () => {
      const client = await makeClient(server, alice);
      const res = await exchange(alice, { client_id: client.id, client_secret: client.clientSecret, scope: '*', code });
      expect(res.response.status).toBe(202);
      expect((res.data as { session_code: string }).session_code).toMatch(/^[A-Za-z0-9]{32}$/);
      expect((await reloadClient(server, alice, client.id)).pending).toBe(true);
    });

    it('grants an ordinary scope to an uncertified client, and forces the linked app scope', async () => {
      const ordinary = await makeClient(server, alice);
      const res = await exchange(alice, { client_id: ordinary.id, client_secret: ordinary.clientSecret, scope: 'io.cozy.files', code });
      expect(res.response.status).toBe(200);
      expect(res.data).toMatchObject({ scope: 'io.cozy.files' });
      const linked = await makeClient(server, alice, { softwareId: 'registry://drive' });
      const forced = await exchange(alice, { client_id: linked.id, client_secret: linked.clientSecret, scope: '*', code });
      expect(forced.response.status).toBe(200);
      expect(forced.data).toMatchObject({ scope: '@io.cozy.apps/drive' });
      expect(jwtPayload((forced.data as { access_token: string }).access_token).scope).toBe('@io.cozy.apps/drive');
    });

    it('refuses an empty or malformed scope (400 invalid scope)', async () => {
      const client = await makeClient(server, alice, { flagship: true });
      for (const scope of [undefined, '  ', 'io.cozy.files:BOGUS']) {
        const res = await exchange(alice, { client_id: client.id, client_secret: client.clientSecret, scope, code });
        expect(res.response.status).toBe(400);
        expect(res.error).toEqual({ error: 'invalid scope' });
      }
    });

    it('with 2FA: 401 two factor needed and a mailed passcode, 403 for a wrong pair, then tokens', async () => {
      const inst = await server.createInstance('oidc2fa', { context: 'oidcctx', oidc_id: 'sub-2fa', auth_mode: 'two_factor_mail' });
      await putCode(server.hearth.services.db, contextScope('oidcctx'), 'oidc_delegated', 'T'.repeat(32), { sub: 'sub-2fa' }, 3 * 3600_000);
      const client = await makeClient(server, inst, { flagship: true });
      const body = { client_id: client.id, client_secret: client.clientSecret, scope: '*', code: 'T'.repeat(32) };
      const first = await exchange(inst, body);
      expect(first.response.status).toBe(401);
      const token = (first.error as { two_factor_token: string }).two_factor_token;
      expect(first.error).toEqual({ error: 'two factor needed', two_factor_token: token });
      const mails = (await server.mails(inst)).filter((m) => m.template === 'two_factor');
      expect(mails).toHaveLength(1);
      const passcode = /\b(\d{6})\b/.exec(mails[0]!.text)![1]!;
      const wrong = String((Number(passcode) + 1) % 1_000_000).padStart(6, '0');
      const bad = await exchange(inst, { ...body, two_factor_token: token, two_factor_passcode: wrong });
      expect(bad.response.status).toBe(403);
      expect(bad.error).toEqual({ error: 'The passcode you entered is incorrect, please try again.' });
      const ok = await exchange(inst, { ...body, two_factor_token: token, two_factor_passcode: passcode });
      expect(ok.response.status).toBe(200);
    });

    it('answers 400 for a body that is not JSON or lacks the client, and 404 for an unknown host', async () => {
      const bad = await rawRequest(alice.domain, '/oidc/access_token', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: '{' });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toBe('application/json');
      const missing = await rawRequest(alice.domain, '/oidc/access_token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }) });
      expect(missing.status).toBe(400);
      const unknown = await exchange({ domain: `nobody.test:${server.port}` } as Instance, { client_id: 'a'.repeat(32), client_secret: 'x', code });
      expect(unknown.response.status).toBe(404);
    });
  });
});
