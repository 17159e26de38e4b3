// Dynamic client registration (POST /auth/register) and its registration-token CRUD.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  createAccessToken,
  deleteOAuthClientRegistration,
  getOAuthClientRegistration,
  registerOAuthClient,
  updateOAuthClientRegistration,
} from '@hearth/client';
import { jwtVerify } from 'jose';
import { updateOAuthClient } from '../../../src/repositories/oauth-clients.js';
import { loopbackFetch } from '../../helpers/http.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { appUrl } from '../../../src/domain/apps-urls.js';
import { getApp } from '../../../src/repositories/apps.js';
import { authorizePage, hiddenField, register, setCookies } from './helpers.js';

const desktop = { redirect_uris: ['http://localhost:4000/cb'], client_name: 'Desktop', software_id: 'github.com/cozy-labs/cozy-desktop' };

/** A fake app registry that knows `drive` only. */
function startRegistry(): Promise<Server> {
  const srv = createServer((req, res) => {
    if (req.url === '/registry/drive/stable/latest') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ slug: 'drive', version: '1.52.0', manifest: { name: 'Drive', permissions: { files: { type: 'io.cozy.files' } } } }));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"error":"not found"}');
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

describe.each(testEngines)('OAuth client registration (%s)', (engine) => {
  let server: TestServer;
  let registry: Server;
  let domain: string;
  beforeAll(async () => {
    registry = await startRegistry();
    const port = (registry.address() as AddressInfo).port;
    server = await startTestServer({ engine, configYaml: `registries:\n  - http://127.0.0.1:${port}/\n` });
    domain = (await server.createInstance('alice')).domain;
  });
  afterAll(async () => {
    await server.stop();
    await new Promise((r) => registry.close(r));
  });

  const raw = (path: string, init: RequestInit) => loopbackFetch(`http://${domain}${path}`, init);

  describe('POST /auth/register', () => {
    it('registers a pending client with its credentials (Authorization: null is anonymous)', async () => {
      const res = await registerOAuthClient({
        client: server.client(domain, { headers: { Authorization: 'null' } }),
        body: { ...desktop, client_name: 'Fresh', client_kind: 'desktop', software_version: '3.38.0', client_uri: 'https://cozy.io/', notification_platform: 'FIREBASE', notification_device_token: 'tok' },
      });
      expect(res.response.status).toBe(201);
      const c = res.data!;
      expect(c.client_id).toMatch(/^[0-9a-f]{32}$/);
      expect(c.client_secret).toHaveLength(32);
      expect(c).toMatchObject({
        client_secret_expires_at: 0,
        pending: true,
        redirect_uris: ['http://localhost:4000/cb'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'Fresh',
        client_kind: 'desktop',
        software_id: 'github.com/cozy-labs/cozy-desktop',
        software_version: '3.38.0',
        client_uri: 'https://cozy.io/',
        notification_platform: 'firebase',
        notification_device_token: 'tok',
        cozyMetadata: { doctypeVersion: '1', metadataVersion: 1 },
      });
      expect(c).not.toHaveProperty('_id');
      expect(c).not.toHaveProperty('_rev');
      expect(c).not.toHaveProperty('flagship');
      const instance = await server.instance(domain);
      const { payload } = await jwtVerify(c.registration_access_token!, Buffer.from(instance.oauthSecret, 'base64'));
      expect(payload).toMatchObject({ aud: ['registration'], iss: domain, sub: c.client_id });
    });

    it('suffixes a name already taken', async () => {
      const a = await register(server, domain, { client_name: 'Twin' });
      const b = await register(server, domain, { client_name: 'Twin' });
      const c = await register(server, domain, { client_name: 'Twin' });
      expect([a.client_name, b.client_name, c.client_name]).toEqual(['Twin', 'Twin-2', 'Twin-3']);
    });

    it.each([
      [{ ...desktop, redirect_uris: [] }, { error: 'invalid_redirect_uri', error_description: 'redirect_uris is mandatory' }],
      [{ client_name: 'x', software_id: 'y' }, { error: 'invalid_redirect_uri', error_description: 'redirect_uris is mandatory' }],
      [{ ...desktop, redirect_uris: ['http://localhost/cb#frag'] }, { error: 'invalid_redirect_uri', error_description: 'http://localhost/cb#frag is invalid' }],
      [{ ...desktop, redirect_uris: ['not a uri'] }, { error: 'invalid_redirect_uri', error_description: 'not a uri is invalid' }],
      [{ ...desktop, client_name: '' }, { error: 'invalid_client_metadata', error_description: 'client_name is mandatory' }],
      [{ redirect_uris: ['cozy://'], software_id: 'x' }, { error: 'invalid_client_metadata', error_description: 'client_name is mandatory' }],
      [{ ...desktop, software_id: '' }, { error: 'invalid_client_metadata', error_description: 'software_id is mandatory' }],
      [{ ...desktop, notification_platform: 'pager' }, { error: 'invalid_client_metadata', error_description: 'Invalid notification platform' }],
      [{ ...desktop, software_id: 'registry://store' }, { error: 'unapproved_software_id', error_description: 'Link with store/settings is forbidden' }],
      [{ ...desktop, software_id: 'registry://settings' }, { error: 'unapproved_software_id', error_description: 'Link with store/settings is forbidden' }],
      [{ ...desktop, software_id: 'registry://nope' }, { error: 'unapproved_software_id', error_description: 'Application was not found on instance registries' }],
    ])('refuses %j', async (body, expected) => {
      const res = await registerOAuthClient({ client: server.client(domain), body: body as never });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual(expected);
    });

    it('refuses a redirect URI on the instance domain', async () => {
      const uri = `http://${domain}/cb`;
      const res = await registerOAuthClient({ client: server.client(domain), body: { ...desktop, redirect_uris: [uri] } });
      expect(res.error).toEqual({ error: 'invalid_redirect_uri', error_description: `${uri} is invalid` });
    });

    it('links a client to a webapp of the registries', async () => {
      const c = await register(server, domain, { software_id: 'registry://drive', client_name: 'Drive link' });
      expect(c.cozyMetadata).toMatchObject({ createdByApp: 'drive', createdByAppVersion: '1.52.0' });
    });

    it('authorizes a linked webapp with its manifest permissions and installs it', async () => {
      const c = await register(server, domain, { software_id: 'registry://drive', client_name: 'Drive flow' });
      const instance = await server.instance(domain);
      const cookie = (await server.login(instance)).cookie;
      const q = { client_id: c.client_id, redirect_uri: 'http://localhost:4000/cb', state: 's', response_type: 'code', scope: 'ignored' };
      const page = await authorizePage(server, domain, q, cookie);
      expect(page.res.response.status).toBe(200);
      expect(hiddenField(page.text, 'scope')).toBe('io.cozy.files');
      const csrf = setCookies(page.res.response)._csrf!;
      const posted = await authorize({
        client: server.client(domain, { cookie: `${cookie}; _csrf=${csrf}`, headers: { Accept: 'text/html' } }),
        body: { ...q, scope: 'io.cozy.files', csrf_token: csrf },
      });
      expect(posted.response.status).toBe(302);
      const location = new URL(posted.response.headers.get('location')!);
      expect(location.searchParams.get('fallback')).toBe(appUrl(server.config, domain, 'drive'));
      const tokens = await createAccessToken({
        client: server.client(domain),
        body: { grant_type: 'authorization_code', client_id: c.client_id, client_secret: c.client_secret, code: location.searchParams.get('code')! },
      });
      expect(tokens.response.status).toBe(200);
      expect(tokens.data?.scope).toBe('@io.cozy.apps/drive');
      expect(await getApp(server.hearth.services.db, instance.id, 'drive', 'webapp')).toMatchObject({ slug: 'drive', version: '1.52.0' });
      const refreshed = await createAccessToken({
        client: server.client(domain),
        body: { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: tokens.data!.refresh_token! },
      });
      expect(refreshed.data?.scope).toBe('@io.cozy.apps/drive');
    });

    it('checks Accept, Content-Type and the JSON body (AcceptJSON / ContentTypeJSON)', async () => {
      const json = JSON.stringify(desktop);
      let res = await raw('/auth/register', { method: 'POST', body: json, headers: { Accept: 'text/html', 'Content-Type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'bad_accept_header' });
      res = await raw('/auth/register', { method: 'POST', body: json, headers: { 'Content-Type': 'application/json' } });
      expect(res.status).toBe(400); // no Accept header at all
      expect(await res.json()).toEqual({ error: 'bad_accept_header' });
      res = await raw('/auth/register', { method: 'POST', body: json, headers: { Accept: '*/*', 'Content-Type': 'text/plain' } });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'bad_content_type' });
      res = await raw('/auth/register', { method: 'POST', body: '{"redirect', headers: { Accept: '*/*', 'Content-Type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_client_metadata', error_description: 'the body is not a valid JSON object' });
      res = await raw('/auth/register', { method: 'POST', body: '["x"]', headers: { Accept: '*/*', 'Content-Type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_client_metadata');
      res = await raw('/auth/register', { method: 'POST', body: json, headers: { Accept: '*/*', 'Content-Type': 'application/json; charset=utf-8' } });
      expect(res.status).toBe(201);
    });

    it('accepts allow_login_scope only with a CLI token (401)', async () => {
      const denied = await registerOAuthClient({ client: server.client(domain), body: { ...desktop, allow_login_scope: true } });
      expect(denied.response.status).toBe(401);
      expect(denied.error).toEqual({ error: 'Not authorized to create client with given parameters' });
      const plain = await raw('/auth/register', { method: 'POST', body: JSON.stringify({ ...desktop, allow_login_scope: true }), headers: { Accept: '*/*', 'Content-Type': 'application/json' } });
      expect(plain.status).toBe(401);
      expect(await plain.text()).toBe('Not authorized to create client with given parameters');
      const instance = await server.instance(domain);
      const cli = await server.token(instance, 'cli', { scope: 'io.cozy.oauth.clients' });
      const ok = await registerOAuthClient({ client: server.client(domain, { token: cli }), body: { ...desktop, allow_login_scope: true } });
      expect(ok.response.status).toBe(201);
      expect(ok.data?.allow_login_scope).toBe(true);
    });

    it('answers 404 for an unknown host', async () => {
      const res = await registerOAuthClient({ client: server.client(`nobody.test:${server.port}`), body: desktop });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'Instance not found' });
    });

    it('answers 404 Not found from the 51st registration in an hour', async () => {
      const limited = (await server.createInstance('limited')).domain;
      for (let i = 0; i < 50; i++) {
        const res = await registerOAuthClient({ client: server.client(limited), body: { ...desktop, client_name: `c${i}` } });
        expect(res.response.status).toBe(201);
      }
      const res = await registerOAuthClient({ client: server.client(limited), body: desktop });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'Not found' });
      // Another instance is not affected.
      expect((await registerOAuthClient({ client: server.client(domain), body: desktop })).response.status).toBe(201);
    });
  });

  describe('GET /auth/register/{clientId}', () => {
    it('answers the stored client with its secret (200), without the registration token', async () => {
      const c = await register(server, domain, { client_name: 'Readable' });
      const res = await getOAuthClientRegistration({ client: server.client(domain, { token: c.registration_access_token }), path: { clientId: c.client_id } });
      expect(res.response.status).toBe(200);
      expect(res.data).toMatchObject({ client_id: c.client_id, client_secret: c.client_secret, client_name: 'Readable', pending: true });
      expect(res.data).not.toHaveProperty('registration_access_token');
    });

    it('rejects missing, foreign, other-audience and other-instance tokens (401 invalid_token)', async () => {
      const c = await register(server, domain, { client_name: 'Guarded' });
      const other = await register(server, domain, { client_name: 'Other' });
      const instance = await server.instance(domain);
      const bob = await server.createInstance('bob');
      const tokens = [
        undefined,
        other.registration_access_token,
        await server.token(instance, 'access', { sub: c.client_id, scope: 'io.cozy.files' }),
        await server.token(bob, 'registration', { sub: c.client_id }),
        'garbage',
      ];
      for (const token of tokens) {
        const res = await getOAuthClientRegistration({ client: server.client(domain, { token }), path: { clientId: c.client_id } });
        expect(res.response.status).toBe(401);
        expect(res.error).toEqual({ error: 'invalid_token' });
      }
    });

    it('answers 404 Client not found before looking at the token, and checks Accept', async () => {
      const c = await register(server, domain, { client_name: 'Lookup' });
      const res = await getOAuthClientRegistration({ client: server.client(domain), path: { clientId: '0123456789abcdef0123456789abcdef' } });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'Client not found' });
      const bad = await getOAuthClientRegistration({ client: server.client(domain, { token: c.registration_access_token, headers: { Accept: 'text/html' } }), path: { clientId: c.client_id } });
      expect(bad.response.status).toBe(400);
      expect(bad.error).toEqual({ error: 'bad_accept_header' });
      const unknownHost = await getOAuthClientRegistration({ client: server.client(`nobody.test:${server.port}`), path: { clientId: c.client_id } });
      expect(unknownHost.response.status).toBe(404);
    });
  });

  describe('PUT /auth/register/{clientId}', () => {
    it('replaces the client by the body, keeping the flags, and renames with a suffix', async () => {
      const c = await register(server, domain, { client_name: 'Phone', notification_device_token: 'old', software_version: '1.0' });
      await register(server, domain, { client_name: 'Renamed' });
      await updateOAuthClient(server.hearth.services.db, (await server.instance(domain)).id, c.client_id, { flagship: true });
      const res = await updateOAuthClientRegistration({
        client: server.client(domain, { token: c.registration_access_token }),
        path: { clientId: c.client_id },
        body: {
          client_id: c.client_id,
          client_name: 'Renamed',
          redirect_uris: ['cozy://flagship'],
          software_id: 'io.cozy.flagship.mobile',
          notification_platform: 'firebase',
          notification_device_token: 'new',
          clientSecret: 'stray',
          registrationAccessToken: 'stray',
          shouldRequireFlagshipPermissions: true,
          certificationConfig: { issuer: 'playintegrity' },
          flagship: false,
        },
      });
      expect(res.response.status, JSON.stringify(res.error)).toBe(200);
      expect(res.data).toMatchObject({
        client_id: c.client_id,
        client_secret: c.client_secret,
        client_name: 'Renamed-2',
        redirect_uris: ['cozy://flagship'],
        software_id: 'io.cozy.flagship.mobile',
        notification_device_token: 'new',
        flagship: true,
      });
      expect(res.data).not.toHaveProperty('pending');
      expect(res.data).not.toHaveProperty('software_version');
      const read = await getOAuthClientRegistration({ client: server.client(domain, { token: c.registration_access_token }), path: { clientId: c.client_id } });
      expect(read.data).toEqual(res.data);
    });

    it('rotates the secret when the current one is sent, refuses another one', async () => {
      const c = await register(server, domain, { client_name: 'Rotating' });
      const client = server.client(domain, { token: c.registration_access_token });
      const body = { client_id: c.client_id, client_name: 'Rotating', redirect_uris: desktop.redirect_uris, software_id: desktop.software_id };
      const bad = await updateOAuthClientRegistration({ client, path: { clientId: c.client_id }, body: { ...body, client_secret: 'not-the-secret' } });
      expect(bad.response.status).toBe(400);
      expect(bad.error).toEqual({ error: 'invalid_client_secret', error_description: 'client_secret is invalid' });
      const rotated = await updateOAuthClientRegistration({ client, path: { clientId: c.client_id }, body: { ...body, client_secret: c.client_secret } });
      expect(rotated.response.status).toBe(200);
      expect(rotated.data?.client_secret).toHaveLength(32);
      expect(rotated.data?.client_secret).not.toBe(c.client_secret);
      const read = await getOAuthClientRegistration({ client, path: { clientId: c.client_id } });
      expect(read.data?.client_secret).toBe(rotated.data?.client_secret);
    });

    it('answers the registration errors (400)', async () => {
      const c = await register(server, domain, { client_name: 'Strict' });
      const client = server.client(domain, { token: c.registration_access_token });
      const body = { client_id: c.client_id, client_name: 'Strict', redirect_uris: desktop.redirect_uris, software_id: desktop.software_id };
      const cases: [Record<string, unknown>, Record<string, string>][] = [
        [{ ...body, client_id: undefined }, { error: 'invalid_client_id', error_description: 'client_id is mandatory' }],
        [{ ...body, client_id: '0123456789abcdef0123456789abcdef' }, { error: 'invalid_client_id', error_description: 'client_id is mandatory' }],
        [{ ...body, redirect_uris: [] }, { error: 'invalid_redirect_uri', error_description: 'redirect_uris is mandatory' }],
        [{ ...body, client_name: '' }, { error: 'invalid_client_metadata', error_description: 'client_name is mandatory' }],
        [{ ...body, software_id: 'registry://store' }, { error: 'unapproved_software_id', error_description: 'Link with store/settings is forbidden' }],
      ];
      for (const [b, expected] of cases) {
        const res = await updateOAuthClientRegistration({ client, path: { clientId: c.client_id }, body: b as never });
        expect(res.response.status).toBe(400);
        expect(res.error).toEqual(expected);
      }
      const ct = await raw(`/auth/register/${c.client_id}`, { method: 'PUT', body: JSON.stringify(body), headers: { Accept: 'application/json', 'Content-Type': 'text/plain', Authorization: `Bearer ${c.registration_access_token}` } });
      expect(ct.status).toBe(400);
      expect(await ct.json()).toEqual({ error: 'bad_content_type' });
      const accept = await raw(`/auth/register/${c.client_id}`, { method: 'PUT', body: JSON.stringify(body), headers: { Accept: 'text/html', 'Content-Type': 'application/json', Authorization: `Bearer ${c.registration_access_token}` } });
      expect(await accept.json()).toEqual({ error: 'bad_accept_header' });
    });

    it('answers 404 for an unknown client and 401 for a bad token', async () => {
      const c = await register(server, domain, { client_name: 'Protected' });
      const body = { client_id: c.client_id, client_name: 'Protected', redirect_uris: desktop.redirect_uris, software_id: desktop.software_id };
      const unknown = await updateOAuthClientRegistration({ client: server.client(domain, { token: c.registration_access_token }), path: { clientId: '0123456789abcdef0123456789abcdef' }, body });
      expect(unknown.response.status).toBe(404);
      expect(unknown.error).toEqual({ error: 'Client not found' });
      const noToken = await updateOAuthClientRegistration({ client: server.client(domain), path: { clientId: c.client_id }, body });
      expect(noToken.response.status).toBe(401);
      expect(noToken.error).toEqual({ error: 'invalid_token' });
    });

    it('shares the oauth-client rate limit with the registration (404 Not found)', async () => {
      const busy = (await server.createInstance('busy')).domain;
      const res0 = await registerOAuthClient({ client: server.client(busy), body: desktop });
      const c = res0.data!;
      const client = server.client(busy, { token: c.registration_access_token! });
      const body = { client_id: c.client_id, client_name: 'Desktop', redirect_uris: desktop.redirect_uris, software_id: desktop.software_id };
      for (let i = 0; i < 49; i++) {
        expect((await updateOAuthClientRegistration({ client, path: { clientId: c.client_id }, body })).response.status).toBe(200);
      }
      const res = await updateOAuthClientRegistration({ client, path: { clientId: c.client_id }, body });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'Not found' });
    });
  });

  describe('DELETE /auth/register/{clientId}', () => {
    it('deletes the client (204) with the literal null body of cozy-client', async () => {
      const c = await register(server, domain, { client_name: 'Doomed' });
      const before = Date.now();
      const res = await raw(`/auth/register/${c.client_id}`, {
        method: 'DELETE',
        body: 'null',
        headers: { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: `Bearer ${c.registration_access_token}` },
      });
      expect(res.status).toBe(204);
      const read = await getOAuthClientRegistration({ client: server.client(domain, { token: c.registration_access_token }), path: { clientId: c.client_id } });
      expect(read.response.status).toBe(404);
      const instance = await server.instance(domain);
      expect(instance.lastActivityFromDeletedOauthClients).toBeGreaterThanOrEqual(before);
    });

    it('is idempotent without a token (204) and needs the token of an existing client (401)', async () => {
      const gone = await deleteOAuthClientRegistration({ client: server.client(domain), path: { clientId: '0123456789abcdef0123456789abcdef' } });
      expect(gone.response.status).toBe(204);
      const c = await register(server, domain, { client_name: 'Kept' });
      const other = await register(server, domain, { client_name: 'Intruder' });
      const res = await deleteOAuthClientRegistration({ client: server.client(domain, { token: other.registration_access_token }), path: { clientId: c.client_id } });
      expect(res.response.status).toBe(401);
      expect(res.error).toEqual({ error: 'invalid_token' });
      const still = await getOAuthClientRegistration({ client: server.client(domain, { token: c.registration_access_token }), path: { clientId: c.client_id } });
      expect(still.response.status).toBe(200);
      const withEmptyObject = await deleteOAuthClientRegistration({ client: server.client(domain, { token: c.registration_access_token }), path: { clientId: c.client_id }, body: {} });
      expect(withEmptyObject.response.status).toBe(204);
      const unknownHost = await deleteOAuthClientRegistration({ client: server.client(`nobody.test:${server.port}`), path: { clientId: c.client_id } });
      expect(unknownHost.response.status).toBe(404);
    });
  });
});
