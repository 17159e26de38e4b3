// POST /auth/tokens/konnectors/:slug and GET /apps/:slug/open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKonnectorToken, getAppOpenParameters, getCapabilities } from '@hearth/client';
import { installApp } from '../../../src/repositories/apps.js';
import type { Instance } from '../../../src/repositories/instances.js';
import { listLoginHistory } from '../../../src/repositories/login-history.js';
import { listSessions } from '../../../src/repositories/sessions.js';
import { updateSettings } from '../../../src/repositories/settings.js';
import { sessionSecretKey, verifyJwt } from '../../../src/security/index.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { jwtPayload, makeClient, maximalToken } from './helpers.js';

const configYaml = `
flagship:
  contexts:
    skipctx:
      skip_certification: true
`;

describe.each(testEngines)('konnector tokens and app opening (%s)', (engine) => {
  let server: TestServer;
  let alice: Instance;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, configYaml });
    alice = await server.createInstance('alice', { feature_flags: { 'drive.office.enabled': true } });
    const db = server.hearth.services.db;
    await installApp(db, { instanceId: alice.id, slug: 'impots', type: 'konnector', name: 'Impôts' });
    await installApp(db, { instanceId: alice.id, slug: 'drive', type: 'webapp', name: 'Drive', editor: 'Cozy', permissions: { files: { type: 'io.cozy.files' } } });
    token = await maximalToken(server, alice, await makeClient(server, alice, { flagship: true }));
  });
  afterAll(() => server.stop());

  describe('POST /auth/tokens/konnectors/:slug', () => {
    it('answers a konnector JWT as a bare JSON string (201)', async () => {
      const res = await createKonnectorToken({ client: server.client(alice.domain, { token }), path: { slug: 'impots' } });
      expect(res.response.status).toBe(201);
      expect(res.response.headers.get('content-type')).toBe('application/json');
      expect(typeof res.data).toBe('string');
      const jwt = res.data as unknown as string;
      expect(jwtPayload(jwt)).toMatchObject({ aud: ['konn'], sub: 'impots', iss: alice.domain });
      expect(jwtPayload(jwt)).not.toHaveProperty('scope');
      const fresh = await server.instance(alice.domain);
      const verified = await verifyJwt(sessionSecretKey(fresh.sessionSecret), jwt, { audience: 'konn', issuers: [alice.domain] });
      expect(verified.ok).toBe(true);
    });

    it('accepts the * token of an uncertified client in a skip_certification context', async () => {
      const inst = await server.createInstance('skipper', { context: 'skipctx' });
      await installApp(server.hearth.services.db, { instanceId: inst.id, slug: 'impots', type: 'konnector' });
      const t = await maximalToken(server, inst, await makeClient(server, inst));
      const res = await createKonnectorToken({ client: server.client(inst.domain, { token: t }), path: { slug: 'impots' } });
      expect(res.response.status).toBe(201);
    });

    it('answers every authentication failure as 403 {"message"}', async () => {
      const uncertified = await makeClient(server, alice);
      const bob = await server.createInstance('bob-konn');
      const cases: [string | undefined, string][] = [
        [undefined, 'No token in request'],
        ['garbage', 'Invalid JWT token'],
        [await maximalToken(server, alice, uncertified), 'Invalid JWT token'],
        [await server.token(alice, 'access', { sub: uncertified.id, scope: 'io.cozy.files' }), 'Forbidden'],
        [await maximalToken(server, bob, await makeClient(server, bob, { flagship: true })), 'Invalid JWT token'],
      ];
      for (const [t, message] of cases) {
        const res = await createKonnectorToken({ client: server.client(alice.domain, { token: t }), path: { slug: 'impots' } });
        expect(res.response.status).toBe(403);
        expect(res.error).toEqual({ message });
      }
    });

    it('answers 404 {} for a konnector that is not installed (or a webapp)', async () => {
      for (const slug of ['nothere', 'drive']) {
        const res = await createKonnectorToken({ client: server.client(alice.domain, { token }), path: { slug } });
        expect(res.response.status).toBe(404);
        expect(res.error).toEqual({});
      }
    });

    it('answers 404 for an unknown host', async () => {
      const res = await createKonnectorToken({ client: server.client(`nobody.test:${server.port}`, { token }), path: { slug: 'impots' } });
      expect(res.response.status).toBe(404);
    });
  });

  describe('GET /apps/:slug/open', () => {
    it('opens a new normal-run session (no login entry) and answers the app parameters', async () => {
      const before = await listSessions(server.hearth.services.db, alice.id);
      const res = await getAppOpenParameters({ client: server.client(alice.domain, { token }), path: { slug: 'drive' } });
      expect(res.response.status).toBe(200);
      expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
      expect(res.response.headers.get('set-cookie')).toBeNull();
      const data = res.data!.data;
      expect(data).toMatchObject({ type: 'io.cozy.apps.open', id: 'drive', meta: {}, links: { self: '/apps/drive/open' } });
      const a = data.attributes;
      expect(a).toMatchObject({ Domain: alice.domain, SubDomain: 'nested', Tracking: 'false', Locale: 'en', AppName: 'Drive', AppEditor: 'Cozy', AppSlug: 'drive', AppNamePrefix: '' });
      expect(JSON.parse(a.Flags)).toEqual({ 'drive.office.enabled': true });
      expect(JSON.parse(a.Capabilities)).toEqual({ file_versioning: true, flat_subdomains: false, can_auth_with_password: true, can_auth_with_magic_links: false, can_auth_with_oidc: false });
      expect(a.Cookie).toMatch(/^cozysessid=[A-Za-z0-9_-]{96}; Path=\/; Domain=[^;]+; HttpOnly(; Secure)?; SameSite=Lax$/);
      const after = await listSessions(server.hearth.services.db, alice.id);
      expect(after).toHaveLength(before.length + 1);
      const created = after.find((s) => !before.some((b) => b.id === s.id))!;
      expect(created.longRun).toBe(false);
      expect(created.shortRun).toBe(false);
      expect(jwtPayload(a.Token)).toMatchObject({ aud: ['app'], sub: 'drive', session_id: created.id });
      expect(await listLoginHistory(server.hearth.services.db, alice.id)).toHaveLength(0);
      // The cookie and the token work together.
      const cookie = a.Cookie.split(';')[0]!;
      const caps = await getCapabilities({ client: server.client(alice.domain, { token: a.Token, cookie }) });
      expect(caps.response.status).toBe(200);
    });

    it('reuses the session of the request', async () => {
      const inst = await server.createInstance('reuse');
      await installApp(server.hearth.services.db, { instanceId: inst.id, slug: 'drive', type: 'webapp', name: 'Drive' });
      await updateSettings(server.hearth.services.db, inst.id, (doc) => ({ ...doc, tracking: 'true' }));
      const t = await maximalToken(server, inst, await makeClient(server, inst, { flagship: true }));
      const { cookie, sessionId } = await server.login(inst);
      const res = await getAppOpenParameters({ client: server.client(inst.domain, { token: t, cookie }), path: { slug: 'drive' } });
      expect(res.response.status).toBe(200);
      const a = res.data!.data.attributes;
      expect(jwtPayload(a.Token).session_id).toBe(sessionId);
      expect(a.Cookie.startsWith(`${cookie.split('=')[0]}=`)).toBe(true);
      expect(a.Tracking).toBe('true');
      expect(await listSessions(server.hearth.services.db, inst.id)).toHaveLength(1);
    });

    it('answers 404 (JSON:API) for an app that is not installed, or a konnector', async () => {
      for (const slug of ['nothere', 'impots']) {
        const res = await getAppOpenParameters({ client: server.client(alice.domain, { token }), path: { slug } });
        expect(res.response.status).toBe(404);
        expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
      }
    });

    it('answers 401 without a token, 400 for a bad one and 403 for a token that is not maximal', async () => {
      const noToken = await getAppOpenParameters({ client: server.client(alice.domain), path: { slug: 'drive' } });
      expect(noToken.response.status).toBe(401);
      expect(noToken.error).toEqual({ error: 'No token in request' });
      const bad = await getAppOpenParameters({ client: server.client(alice.domain, { token: 'garbage' }), path: { slug: 'drive' } });
      expect(bad.response.status).toBe(400);
      expect(bad.response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      const client = await makeClient(server, alice, { flagship: true });
      const limited = await server.token(alice, 'access', { sub: client.id, scope: 'io.cozy.files' });
      const forbidden = await getAppOpenParameters({ client: server.client(alice.domain, { token: limited }), path: { slug: 'drive' } });
      expect(forbidden.response.status).toBe(403);
      expect(forbidden.error).toEqual({ error: 'Forbidden' });
    });

    it('refuses the maximal token of another instance (400) and an unknown host (404)', async () => {
      const bob = await server.createInstance('bob-open');
      const bobToken = await maximalToken(server, bob, await makeClient(server, bob, { flagship: true }));
      const res = await getAppOpenParameters({ client: server.client(alice.domain, { token: bobToken }), path: { slug: 'drive' } });
      expect(res.response.status).toBe(400);
      const unknown = await getAppOpenParameters({ client: server.client(`nobody.test:${server.port}`, { token }), path: { slug: 'drive' } });
      expect(unknown.response.status).toBe(404);
    });
  });
});
