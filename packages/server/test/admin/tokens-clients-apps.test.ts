// Admin API: tokens, OAuth clients and installed apps of an instance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCapabilities } from '@hearth/client';
import { createOAuthClient, createToken, installApp, listInstances, updateOAuthClientFlags } from '@hearth/client/admin';
import { getApp } from '../../src/repositories/apps.js';
import type { Instance } from '../../src/repositories/instances.js';
import { getOAuthClient } from '../../src/repositories/oauth-clients.js';
import { peekJwt, sessionSecretKey, verifyJwt, type Audience } from '../../src/security/index.js';
import { loopbackFetch } from '../helpers/http.js';
import { ADMIN_PASSPHRASE, startTestServer, testEngines, type TestServer } from '../helpers/server.js';

type AdminClient = Parameters<typeof listInstances>[0] extends infer O ? NonNullable<O> extends { client?: infer C } ? NonNullable<C> : never : never;

function keyOf(instance: Instance, aud: Audience): Uint8Array {
  if (aud === 'app' || aud === 'konn') return sessionSecretKey(instance.sessionSecret);
  return Buffer.from(aud === 'cli' ? instance.cliSecret : instance.oauthSecret, 'base64');
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe.each(testEngines)('admin API: tokens, OAuth clients, apps (%s)', (engine) => {
  let server: TestServer;
  let admin: AdminClient;
  let wrong: AdminClient;
  let alice: Instance;
  let domain: string;
  const unknown = () => `nobody.test:${server.port}`;

  beforeAll(async () => {
    server = await startTestServer({ engine });
    admin = server.adminClient() as unknown as AdminClient;
    wrong = server.adminClient({ password: 'nope' }) as unknown as AdminClient;
    alice = await server.createInstance('alice');
    domain = alice.domain;
  });
  afterAll(() => server.stop());

  describe('POST /instances/{domain}/tokens', () => {
    it.each([
      ['app', 'app', { subject: 'drive', session_id: '0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e' }, { sub: 'drive', session_id: '0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e' }],
      ['konnector', 'konn', { subject: 'ameli' }, { sub: 'ameli' }],
      ['cli', 'cli', { subject: 'hearth-cli', scope: 'io.cozy.settings' }, { sub: 'hearth-cli', scope: 'io.cozy.settings' }],
      ['cli', 'cli', { subject: 'hearth-cli' }, { sub: 'hearth-cli', scope: '*' }],
    ] as const)('signs a %s token (201) with aud %s and the right key', async (audience, aud, extra, claims) => {
      const before = Math.floor(Date.now() / 1000);
      const res = await createToken({ client: admin, path: { domain }, body: { audience, ...extra } });
      expect(res.response.status).toBe(201);
      const token = res.data!.token;
      const payload = payloadOf(token);
      expect(payload.aud).toEqual([aud]);
      expect(payload.iss).toBe(domain);
      expect(payload.iat).toBeGreaterThanOrEqual(before);
      expect(payload).not.toHaveProperty('exp');
      const verified = await verifyJwt(keyOf(alice, aud), token, { audience: aud, issuers: [domain] });
      expect(verified).toMatchObject({ ok: true, claims });
      if (audience === 'app') expect(payload).not.toHaveProperty('scope');
      // Signed with that key only.
      const other: Audience = aud === 'cli' ? 'access' : 'cli';
      expect((await verifyJwt(keyOf(alice, other), token, { audience: aud, issuers: [domain] })).ok).toBe(false);
    });

    it('signs OAuth access and refresh tokens for an existing client', async () => {
      const client = await createOAuthClient({
        client: admin,
        path: { domain },
        body: { redirect_uris: ['cozy://x'], client_name: 'Tok', software_id: 'tok' },
      });
      const id = client.data!.client_id;
      for (const audience of ['access', 'refresh'] as const) {
        const res = await createToken({ client: admin, path: { domain }, body: { audience, subject: id, scope: 'io.cozy.files' } });
        expect(res.response.status).toBe(201);
        const verified = await verifyJwt(keyOf(alice, audience), res.data!.token, { audience, issuers: [domain] });
        expect(verified).toMatchObject({ ok: true, claims: { aud: audience, sub: id, scope: 'io.cozy.files' } });
      }
      const star = await createToken({ client: admin, path: { domain }, body: { audience: 'access', subject: id } });
      expect(peekJwt(star.data!.token)?.sub).toBe(id);
      expect(payloadOf(star.data!.token).scope).toBe('*');
    });

    it('a CLI token works on the public API', async () => {
      const res = await createToken({ client: admin, path: { domain }, body: { audience: 'cli', subject: 'cli', scope: 'io.cozy.settings' } });
      const caps = await getCapabilities({ client: server.client(domain, { token: res.data!.token }) });
      expect(caps.response.status).toBe(200);
    });

    it.each([
      [{ audience: 'admin', subject: 'x' }, { error: 'audience must be one of app, konnector, cli, access, refresh', field: 'audience' }],
      [{ audience: 'cli' }, { error: 'subject is required', field: 'subject' }],
      [{ audience: 'access', subject: '5d2f8e3a9b7c41d6a0e4f1b2c3d4e5f6' }, { error: 'unknown OAuth client', field: 'subject' }],
      [{ audience: 'app', subject: 'drive', scope: 'io.cozy.files' }, { error: 'scope is not allowed for app and konnector tokens', field: 'scope' }],
      [{ audience: 'konnector', subject: 'ameli', scope: '*' }, { error: 'scope is not allowed for app and konnector tokens', field: 'scope' }],
      [{ audience: 'cli', subject: 'c', session_id: '0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e' }, { error: 'session_id is only allowed for app tokens', field: 'session_id' }],
      [{ audience: 'app', subject: 'drive', session_id: 'not-hex' }, { error: 'session_id must match ^[0-9a-f]{32}$', field: 'session_id' }],
      [{ audience: 'cli', subject: 'c', extra: 1 }, { error: 'unknown field', field: 'extra' }],
    ])('answers 400 for %j', async (body, expected) => {
      const res = await createToken({ client: admin, path: { domain }, body: body as never });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual(expected);
    });

    it('answers 404 for an unknown instance and 401 without the passphrase', async () => {
      const missing = await createToken({ client: admin, path: { domain: unknown() }, body: { audience: 'cli', subject: 'c' } });
      expect(missing.response.status).toBe(404);
      expect(missing.error).toEqual({ error: 'instance not found' });
      const denied = await createToken({ client: wrong, path: { domain }, body: { audience: 'cli', subject: 'c' } });
      expect(denied.response.status).toBe(401);
      expect(denied.data).toBeUndefined();
    });
  });

  describe('POST /instances/{domain}/clients', () => {
    it('creates a certified client, not pending (201)', async () => {
      const res = await createOAuthClient({
        client: admin,
        path: { domain },
        body: {
          redirect_uris: ['cozy://flagship'],
          client_name: 'Cozy Flagship',
          client_kind: 'mobile',
          software_id: 'github.com/cozy/cozy-flagship-app',
          software_version: '1.1.30',
          client_uri: 'https://cozy.io/',
          notification_platform: 'Firebase',
          notification_device_token: 'tok',
          notifications: { new_password: { description: 'x', collapsible: true } },
          flagship: true,
          certified_from_store: true,
          ignored_key: 'kept out',
        } as never,
      });
      expect(res.response.status).toBe(201);
      const c = res.data!;
      expect(c).toMatchObject({
        client_secret_expires_at: 0,
        redirect_uris: ['cozy://flagship'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'Cozy Flagship',
        client_kind: 'mobile',
        software_id: 'github.com/cozy/cozy-flagship-app',
        software_version: '1.1.30',
        client_uri: 'https://cozy.io/',
        notification_platform: 'firebase',
        notification_device_token: 'tok',
        notifications: { new_password: { description: 'x', collapsible: true } },
        flagship: true,
        certified_from_store: true,
        allow_login_scope: false,
        pending: false,
      });
      expect(c).not.toHaveProperty('ignored_key');
      expect(c.client_id).toMatch(/^[0-9a-f]{32}$/);
      expect(c.client_secret).toHaveLength(32);
      const reg = await verifyJwt(keyOf(alice, 'registration'), c.registration_access_token!, { audience: 'registration', issuers: [domain] });
      expect(reg).toMatchObject({ ok: true, claims: { sub: c.client_id } });
      const stored = await getOAuthClient(server.hearth.services.db, alice.id, c.client_id);
      expect(stored).toMatchObject({ pending: false, flagship: true, certifiedFromStore: true, clientSecret: c.client_secret });
    });

    it('suffixes a taken name with -N', async () => {
      const body = { redirect_uris: ['http://127.0.0.1:5678/cb'], client_name: 'Desktop', software_id: 'desk', allow_login_scope: true };
      const first = await createOAuthClient({ client: admin, path: { domain }, body });
      const second = await createOAuthClient({ client: admin, path: { domain }, body });
      expect(first.data?.client_name).toBe('Desktop');
      expect(first.data?.allow_login_scope).toBe(true);
      expect(second.data?.client_name).toBe('Desktop-2');
      expect(second.data?.client_id).not.toBe(first.data?.client_id);
    });

    it.each([
      [{ client_name: 'A', software_id: 's' }, { error: 'invalid_redirect_uri: redirect_uris is mandatory', field: 'redirect_uris' }],
      [{ redirect_uris: [], client_name: 'A', software_id: 's' }, { error: 'invalid_redirect_uri: redirect_uris is mandatory', field: 'redirect_uris' }],
      [{ redirect_uris: ['cozy://ok', 'https://app.example/cb#frag'], client_name: 'A', software_id: 's' }, { error: 'invalid_redirect_uri: a redirect URI must not have a fragment', field: 'redirect_uris.1' }],
      [{ redirect_uris: ['not a uri'], client_name: 'A', software_id: 's' }, { error: 'invalid_redirect_uri: not a uri is not a valid URI', field: 'redirect_uris.0' }],
      [{ redirect_uris: ['cozy://x'], software_id: 's' }, { error: 'invalid_client_metadata: client_name is mandatory', field: 'client_name' }],
      [{ redirect_uris: ['cozy://x'], client_name: 'A', software_id: '' }, { error: 'invalid_client_metadata: software_id is mandatory', field: 'software_id' }],
      [{ redirect_uris: ['cozy://x'], client_name: 'A', software_id: 's', notification_platform: 'blackberry' }, { error: 'invalid_client_metadata: invalid notification platform', field: 'notification_platform' }],
      [{ redirect_uris: ['cozy://x'], client_name: 'A', software_id: 's', flagship: 'yes' }, { error: 'invalid_client_metadata: flagship must be a boolean', field: 'flagship' }],
    ])('answers 400 for %j', async (body, expected) => {
      const res = await createOAuthClient({ client: admin, path: { domain }, body: body as never });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual(expected);
    });

    it('refuses a redirect URI on the instance domain (400)', async () => {
      const res = await createOAuthClient({
        client: admin,
        path: { domain },
        body: { redirect_uris: [`http://${domain}/cb`], client_name: 'Self', software_id: 's' },
      });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual({ error: 'invalid_redirect_uri: a redirect URI must not have the instance domain as host', field: 'redirect_uris.0' });
    });

    it('answers 404 for an unknown instance and 401 without the passphrase', async () => {
      const body = { redirect_uris: ['cozy://x'], client_name: 'A', software_id: 's' };
      const missing = await createOAuthClient({ client: admin, path: { domain: unknown() }, body });
      expect(missing.response.status).toBe(404);
      expect(missing.error).toEqual({ error: 'instance not found' });
      const denied = await createOAuthClient({ client: wrong, path: { domain }, body });
      expect(denied.response.status).toBe(401);
    });
  });

  describe('PATCH /instances/{domain}/clients/{clientId}', () => {
    let clientId: string;
    beforeAll(async () => {
      const res = await createOAuthClient({
        client: admin,
        path: { domain },
        body: { redirect_uris: ['cozy://flags'], client_name: 'Flags', software_id: 'flags' },
      });
      clientId = res.data!.client_id;
    });

    it('sets the given flags and keeps the rest (200)', async () => {
      const res = await updateOAuthClientFlags({ client: admin, path: { domain, clientId }, body: { flagship: true, certified_from_store: true } });
      expect(res.response.status).toBe(200);
      expect(res.data).toMatchObject({ client_id: clientId, client_name: 'Flags', flagship: true, certified_from_store: true, allow_login_scope: false, pending: false });
      expect(res.data).not.toHaveProperty('registration_access_token');
      const login = await updateOAuthClientFlags({ client: admin, path: { domain, clientId }, body: { allow_login_scope: true } });
      expect(login.data).toMatchObject({ flagship: true, certified_from_store: true, allow_login_scope: true });
      const same = await updateOAuthClientFlags({ client: admin, path: { domain, clientId }, body: {} });
      expect(same.data).toEqual(login.data);
      const stored = await getOAuthClient(server.hearth.services.db, alice.id, clientId);
      expect(stored).toMatchObject({ flagship: true, certifiedFromStore: true, allowLoginScope: true });
    });

    it.each([
      [{ flagship: 'true' }, { error: 'flagship must be a boolean', field: 'flagship' }],
      [{ client_name: 'Renamed' }, { error: 'unknown field', field: 'client_name' }],
    ])('answers 400 for %j', async (body, expected) => {
      const res = await updateOAuthClientFlags({ client: admin, path: { domain, clientId }, body: body as never });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual(expected);
    });

    it('answers 404 for an unknown client or instance, and for a client of another instance', async () => {
      const noClient = await updateOAuthClientFlags({ client: admin, path: { domain, clientId: 'f'.repeat(32) }, body: { flagship: true } });
      expect(noClient.response.status).toBe(404);
      expect(noClient.error).toEqual({ error: 'client not found' });
      const bob = await server.createInstance('bob');
      const crossTenant = await updateOAuthClientFlags({ client: admin, path: { domain: bob.domain, clientId }, body: { flagship: false } });
      expect(crossTenant.response.status).toBe(404);
      expect((await getOAuthClient(server.hearth.services.db, alice.id, clientId))?.flagship).toBe(true);
      const noInstance = await updateOAuthClientFlags({ client: admin, path: { domain: unknown(), clientId }, body: {} });
      expect(noInstance.response.status).toBe(404);
      expect(noInstance.error).toEqual({ error: 'instance not found' });
    });

    it('answers 401 without the passphrase', async () => {
      const res = await updateOAuthClientFlags({ client: wrong, path: { domain, clientId }, body: { flagship: false } });
      expect(res.response.status).toBe(401);
      expect((await getOAuthClient(server.hearth.services.db, alice.id, clientId))?.flagship).toBe(true);
    });
  });

  describe('POST /instances/{domain}/apps', () => {
    it('installs a webapp from a manifest (201)', async () => {
      const body = {
        slug: 'drive',
        type: 'webapp' as const,
        name: 'Drive',
        editor: 'Cozy',
        permissions: { files: { type: 'io.cozy.files', description: 'files' }, settings: { type: 'io.cozy.settings', verbs: ['GET' as const] } },
        notifications: { shared_file: { description: 'shared', collapsible: true, templates: { mail: '/mails/x.hbs' } } },
      };
      const res = await installApp({ client: admin, path: { domain }, body });
      expect(res.response.status).toBe(201);
      expect(res.data).toMatchObject({ ...body, state: 'ready' });
      expect(Date.parse(res.data!.installed_at)).not.toBeNaN();
      const stored = await getApp(server.hearth.services.db, alice.id, 'drive');
      expect(stored).toMatchObject({ type: 'webapp', name: 'Drive', permissions: body.permissions });
    });

    it('installs from the smallest body: the name is the slug', async () => {
      const res = await installApp({ client: admin, path: { domain }, body: { slug: 'ameli', type: 'konnector' } });
      expect(res.response.status).toBe(201);
      expect(res.data).toMatchObject({ slug: 'ameli', type: 'konnector', name: 'ameli', state: 'ready', permissions: {}, notifications: {} });
      expect(res.data).not.toHaveProperty('editor');
    });

    it('answers 409 for a slug already installed, even as the other type', async () => {
      for (const type of ['webapp', 'konnector'] as const) {
        const res = await installApp({ client: admin, path: { domain }, body: { slug: 'drive', type, name: 'Other' } });
        expect(res.response.status).toBe(409);
        expect(res.error).toEqual({ error: 'app already installed' });
      }
      expect((await getApp(server.hearth.services.db, alice.id, 'drive'))?.name).toBe('Drive');
    });

    it.each([
      [{ slug: 'x', type: 'webapp', name: 'Dr\u0000ive' }, { error: 'name must not contain a NUL character (U+0000)', field: 'name' }],
      [{ slug: 'Bad_Slug', type: 'webapp' }, { error: 'slug must match ^[a-z0-9][a-z0-9-]*$', field: 'slug' }],
      [{ slug: 'x', type: 'plugin' }, { error: 'type must be one of webapp, konnector', field: 'type' }],
      [{ slug: 'x', type: 'webapp', permissions: { files: { type: 'io.cozy.files', verbs: ['GET', 'FETCH'] } } }, { error: 'verbs must be one of GET, POST, PUT, PATCH, DELETE, ALL', field: 'permissions.files.verbs.1' }],
      [{ slug: 'x', type: 'webapp', permissions: { files: { verbs: ['GET'] } } }, { error: 'type is required', field: 'permissions.files.type' }],
      [{ slug: 'x', type: 'webapp', permissions: { files: { type: 'io.cozy.files', color: 'red' } } }, { error: 'unknown field', field: 'permissions.files.color' }],
      [{ slug: 'x', type: 'webapp', version: '1.0' }, { error: 'unknown field', field: 'version' }],
    ])('answers 400 for %j', async (body, expected) => {
      const res = await installApp({ client: admin, path: { domain }, body: body as never });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual(expected);
      expect(await getApp(server.hearth.services.db, alice.id, 'x')).toBeNull();
    });

    it('answers 404 for an unknown instance and 401 without the passphrase', async () => {
      const missing = await installApp({ client: admin, path: { domain: unknown() }, body: { slug: 'home', type: 'webapp' } });
      expect(missing.response.status).toBe(404);
      expect(missing.error).toEqual({ error: 'instance not found' });
      const denied = await installApp({ client: wrong, path: { domain }, body: { slug: 'home', type: 'webapp' } });
      expect(denied.response.status).toBe(401);
      expect(await getApp(server.hearth.services.db, alice.id, 'home')).toBeNull();
    });
  });

  it('an invalid JSON body answers 400 without field', async () => {
    const res = await loopbackFetch(`http://127.0.0.1:${server.adminPort}/instances/${domain}/apps`, {
      method: 'POST',
      body: '{slug: drive}',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`x:${ADMIN_PASSPHRASE}`).toString('base64')}` },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid JSON body' });
  });
});
