import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getClientsLimitExceededPage, listOAuthClients, markClientSynchronized, revokeOAuthClient } from '@hearth/client';
import { createOAuthClient, getOAuthClient, type OAuthClient } from '../../../src/repositories/oauth-clients.js';
import { updateInstance, type Instance } from '../../../src/repositories/instances.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';

describe.each(testEngines)('OAuth clients under /settings (%s)', (engine) => {
  let server: TestServer;
  let alice: Instance;
  let bob: Instance;
  let readToken: string;
  let deleteToken: string;

  beforeAll(async () => {
    server = await startTestServer({
      engine,
      configYaml: [
        'contexts:',
        '  premium:',
        '    enable_premium_links: true',
        '    manager_url: http://manager.test',
        '    default_redirection: drive/folder#/recent',
        '  capped:',
        '    features:',
        '      cozy.oauthclients.max: 1',
      ].join('\n'),
    });
    alice = await server.createInstance('alice', { kdf_iterations: 50000 });
    bob = await server.createInstance('bob', { kdf_iterations: 50000 });
    readToken = await server.token(alice, 'cli', { scope: 'io.cozy.oauth.clients:GET' });
    deleteToken = await server.token(alice, 'cli', { scope: 'io.cozy.oauth.clients' });
  });
  afterAll(() => server.stop());

  const db = () => server.hearth.services.db;
  const newClient = (instance: Instance, name: string, extra: Partial<Parameters<typeof createOAuthClient>[1]> = {}) =>
    createOAuthClient(db(), {
      instanceId: instance.id,
      clientName: name,
      softwareId: 'github.com/cozy-labs/cozy-desktop',
      clientKind: 'desktop',
      metadata: { redirect_uris: ['http://localhost:4000/oauth/callback'], client_name: name, software_version: '1.0.0' },
      ...extra,
    });

  describe('GET /settings/clients', () => {
    let instance: Instance;
    let token: string;
    let clients: OAuthClient[];

    beforeAll(async () => {
      instance = await server.createInstance('lister', { kdf_iterations: 50000 });
      token = await server.token(instance, 'cli', { scope: 'io.cozy.oauth.clients:GET' });
      clients = [];
      for (let i = 0; i < 5; i++) clients.push(await newClient(instance, `Desktop ${i}`));
      clients.sort((a, b) => (a.id < b.id ? -1 : 1));
    });

    it('lists the clients without client_secret, with links.self and meta.count', async () => {
      const res = await listOAuthClients({ client: server.client(instance.domain, { token }) });
      expect(res.response.status).toBe(200);
      expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
      const body = res.data!;
      expect(body.meta).toEqual({ count: 5 });
      expect(body.links).toEqual({});
      expect(body.data.map((c) => c.id)).toEqual(clients.map((c) => c.id));
      const first = body.data[0]!;
      expect(first.type).toBe('io.cozy.oauth.clients');
      expect(first.links).toEqual({ self: `/settings/clients/${first.id}` });
      expect(first.meta.rev).toBe(clients[0]!.rev);
      expect(first.attributes).toMatchObject({
        client_id: first.id,
        client_secret_expires_at: 0,
        redirect_uris: ['http://localhost:4000/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: clients[0]!.clientName,
        client_kind: 'desktop',
        software_id: 'github.com/cozy-labs/cozy-desktop',
        software_version: '1.0.0',
      });
      const raw = JSON.stringify(res.data);
      expect(raw).not.toContain('client_secret"');
      for (const c of clients) expect(raw).not.toContain(c.clientSecret);
    });

    it('pages with page[limit] and page[cursor] (links.next only when more clients follow)', async () => {
      const p1 = await listOAuthClients({ client: server.client(instance.domain, { token }), query: { 'page[limit]': 2 } });
      expect(p1.response.status).toBe(200);
      expect(p1.data!.meta).toEqual({ count: 2 });
      expect(p1.data!.data.map((c) => c.id)).toEqual(clients.slice(0, 2).map((c) => c.id));
      const next1 = p1.data!.links.next!;
      expect(next1).toMatch(/^\/settings\/clients\?page%5Bcursor%5D=[^&]+&page%5Blimit%5D=2$/);
      const cursor1 = new URL(next1, 'http://x').searchParams.get('page[cursor]')!;

      const p2 = await listOAuthClients({ client: server.client(instance.domain, { token }), query: { 'page[limit]': 2, 'page[cursor]': cursor1 } });
      expect(p2.data!.data.map((c) => c.id)).toEqual(clients.slice(2, 4).map((c) => c.id));
      // Follow the link exactly as given (URL-encoded brackets).
      const viaLink = await server.client(instance.domain, { headers: { Authorization: `Bearer ${token}` } }).get({ url: next1 });
      expect((viaLink.data as { data: { id: string }[] }).data.map((c) => c.id)).toEqual(clients.slice(2, 4).map((c) => c.id));

      const cursor2 = new URL(p2.data!.links.next!, 'http://x').searchParams.get('page[cursor]')!;
      const p3 = await listOAuthClients({ client: server.client(instance.domain, { token }), query: { 'page[limit]': 2, 'page[cursor]': cursor2 } });
      expect(p3.data!.data.map((c) => c.id)).toEqual([clients[4]!.id]);
      expect(p3.data!.meta).toEqual({ count: 1 });
      expect(p3.data!.links).toEqual({});
    });

    it('accepts the brackets unescaped, as the real clients send them', async () => {
      const res = await server.client(instance.domain, { headers: { Authorization: `Bearer ${token}` } }).get({ url: '/settings/clients?page[limit]=3' });
      expect(res.response.status).toBe(200);
      const body = res.data as { data: unknown[]; links: { next?: string } };
      expect(body.data).toHaveLength(3);
      expect(body.links.next).toContain('page%5Blimit%5D=3');
    });

    it('reads an out-of-range page[limit] as 100', async () => {
      for (const limit of [0, -3, 1001, 5_000_000_000]) {
        const res = await listOAuthClients({ client: server.client(instance.domain, { token }), query: { 'page[limit]': limit } });
        expect(res.response.status).toBe(200);
        expect(res.data!.data).toHaveLength(5);
        expect(res.data!.links).toEqual({});
      }
    });

    it('a full page of exactly the last clients has no next link; the default limit is not repeated in links.next', async () => {
      const res = await listOAuthClients({ client: server.client(instance.domain, { token }), query: { 'page[limit]': 5 } });
      expect(res.data!.data).toHaveLength(5);
      expect(res.data!.links).toEqual({});
    });

    it('rejects a page[limit] that is not an integer (400)', async () => {
      const res = await server.client(instance.domain, { headers: { Authorization: `Bearer ${token}` } }).get({ url: '/settings/clients?page[limit]=abc' });
      expect(res.response.status).toBe(400);
    });

    it('lists only the clients of the instance', async () => {
      const foreign = await newClient(bob, 'Bob desktop');
      const res = await listOAuthClients({ client: server.client(instance.domain, { token }) });
      expect(res.data!.data.map((c) => c.id)).not.toContain(foreign.id);
    });

    it('shows the flags and dates of the client', async () => {
      const other = await server.createInstance('flagged', { kdf_iterations: 50000 });
      const t = await server.token(other, 'cli', { scope: 'io.cozy.oauth.clients' });
      const c = await newClient(other, 'Flagship', {
        clientKind: 'mobile',
        flagship: true,
        certifiedFromStore: true,
        notificationPlatform: 'firebase',
        notificationDeviceToken: 'device-token',
        lastRefreshedAt: Date.parse('2024-05-20T06:00:12Z'),
      });
      const res = await listOAuthClients({ client: server.client(other.domain, { token: t }) });
      const attrs = res.data!.data.find((d) => d.id === c.id)!.attributes;
      expect(attrs).toMatchObject({
        flagship: true,
        certified_from_store: true,
        notification_platform: 'firebase',
        notification_device_token: 'device-token',
        last_refreshed_at: '2024-05-20T06:00:12.000Z',
      });
      expect(attrs).not.toHaveProperty('pending');
      expect(attrs).not.toHaveProperty('synchronized_at');
    });

    it('needs GET on io.cozy.oauth.clients (403), a token (401), a good token (400)', async () => {
      const settingsOnly = await server.token(instance, 'cli', { scope: 'io.cozy.settings' });
      const forbidden = await listOAuthClients({ client: server.client(instance.domain, { token: settingsOnly }) });
      expect(forbidden.response.status).toBe(403);
      expect(forbidden.error).toEqual({ error: 'Forbidden' });
      const missing = await listOAuthClients({ client: server.client(instance.domain) });
      expect(missing.response.status).toBe(401);
      expect(missing.error).toEqual({ error: 'No token in request' });
      const foreignToken = await server.token(bob, 'cli', { scope: 'io.cozy.oauth.clients' });
      const bad = await listOAuthClients({ client: server.client(instance.domain, { token: foreignToken }) });
      expect(bad.response.status).toBe(400);
      expect(bad.error).toEqual({ error: 'Invalid JWT token' });
    });

    it('accepts the access token of an OAuth client with the permission', async () => {
      const c = await newClient(instance, 'Reader');
      const access = await server.token(instance, 'access', { sub: c.id, scope: 'io.cozy.oauth.clients:GET' });
      const res = await listOAuthClients({ client: server.client(instance.domain, { token: access }) });
      expect(res.response.status).toBe(200);
      expect(res.data!.data.map((d) => d.id)).toContain(c.id);
    });

    it('answers 404 for an unknown host', async () => {
      const res = await listOAuthClients({ client: server.client(`nobody.test:${server.port}`, { token }) });
      expect(res.response.status).toBe(404);
    });
  });

  describe('DELETE /settings/clients/{clientId}', () => {
    it('deletes the client, revokes its tokens and records the time on the instance', async () => {
      const c = await newClient(alice, 'To revoke', { lastRefreshedAt: Date.parse('2024-06-01T10:00:00Z') });
      const access = await server.token(alice, 'access', { sub: c.id, scope: 'io.cozy.oauth.clients:GET' });
      expect((await listOAuthClients({ client: server.client(alice.domain, { token: access }) })).response.status).toBe(200);
      await updateInstance(db(), alice.id, { lastActivityFromDeletedOauthClients: null });

      const before = Date.now();
      const res = await revokeOAuthClient({ client: server.client(alice.domain, { token: deleteToken }), path: { clientId: c.id } });
      expect(res.response.status).toBe(204);
      expect(await getOAuthClient(db(), alice.id, c.id)).toBeNull();
      const recorded = (await server.instance(alice.domain)).lastActivityFromDeletedOauthClients;
      expect(recorded).not.toBeNull();
      expect(recorded!).toBeGreaterThanOrEqual(before - 1000);
      // Its access token no longer works.
      const denied = await listOAuthClients({ client: server.client(alice.domain, { token: access }) });
      expect(denied.response.status).toBe(400);
      expect(denied.error).toEqual({ error: 'Invalid JWT token' });
    });

    it('answers 404 not_found/missing for an unknown client, and for a client of another instance', async () => {
      const unknown = await revokeOAuthClient({
        client: server.client(alice.domain, { token: deleteToken }),
        path: { clientId: '0123456789abcdef0123456789abcdef' },
      });
      expect(unknown.response.status).toBe(404);
      expect(unknown.response.headers.get('content-type')).toBe('application/vnd.api+json');
      expect(unknown.error).toEqual({ errors: [{ status: '404', title: 'not_found', detail: 'missing', source: {} }] });

      const bobClient = await newClient(bob, 'Bob phone');
      const cross = await revokeOAuthClient({ client: server.client(alice.domain, { token: deleteToken }), path: { clientId: bobClient.id } });
      expect(cross.response.status).toBe(404);
      expect(await getOAuthClient(db(), bob.id, bobClient.id)).not.toBeNull();
    });

    it('needs DELETE on io.cozy.oauth.clients (403), a token (401), a valid token (400)', async () => {
      const c = await newClient(alice, 'Protected');
      const forbidden = await revokeOAuthClient({ client: server.client(alice.domain, { token: readToken }), path: { clientId: c.id } });
      expect(forbidden.response.status).toBe(403);
      expect(forbidden.error).toEqual({ error: 'Forbidden' });
      const missing = await revokeOAuthClient({ client: server.client(alice.domain), path: { clientId: c.id } });
      expect(missing.response.status).toBe(401);
      const foreignToken = await server.token(bob, 'cli', { scope: 'io.cozy.oauth.clients' });
      const bad = await revokeOAuthClient({ client: server.client(alice.domain, { token: foreignToken }), path: { clientId: c.id } });
      expect(bad.response.status).toBe(400);
      expect(await getOAuthClient(db(), alice.id, c.id)).not.toBeNull();
    });

    it('answers 404 for an unknown host', async () => {
      const res = await revokeOAuthClient({
        client: server.client(`nobody.test:${server.port}`, { token: deleteToken }),
        path: { clientId: '0123456789abcdef0123456789abcdef' },
      });
      expect(res.response.status).toBe(404);
      expect(res.error).not.toEqual({ errors: [{ status: '404', title: 'not_found', detail: 'missing', source: {} }] });
    });
  });

  describe('POST /settings/synchronized', () => {
    it('sets synchronized_at of the client of the access token', async () => {
      const c = await newClient(alice, 'Syncer');
      expect(c.synchronizedAt).toBeNull();
      const access = await server.token(alice, 'access', { sub: c.id, scope: 'io.cozy.files' });
      const before = Date.now();
      const res = await markClientSynchronized({ client: server.client(alice.domain, { token: access }) });
      expect(res.response.status).toBe(204);
      const stored = await getOAuthClient(db(), alice.id, c.id);
      expect(stored!.synchronizedAt).not.toBeNull();
      expect(stored!.synchronizedAt!).toBeGreaterThanOrEqual(before - 1000);
      const listed = await listOAuthClients({ client: server.client(alice.domain, { token: readToken }) });
      expect(listed.data!.data.find((d) => d.id === c.id)!.attributes.synchronized_at).toBe(new Date(stored!.synchronizedAt!).toISOString());
    });

    it('accepts any JWT of the instance whose subject is a client (a refresh token)', async () => {
      const c = await newClient(alice, 'Refresher');
      const refresh = await server.token(alice, 'refresh', { sub: c.id, scope: 'io.cozy.files' });
      const res = await markClientSynchronized({ client: server.client(alice.domain, { token: refresh }) });
      expect(res.response.status).toBe(204);
      expect((await getOAuthClient(db(), alice.id, c.id))!.synchronizedAt).not.toBeNull();
    });

    it('answers 400 Invalid JWT token without a token, for an unknown client, or for a token of another instance', async () => {
      const missing = await markClientSynchronized({ client: server.client(alice.domain) });
      expect(missing.response.status).toBe(400);
      expect(missing.error).toEqual({ error: 'Invalid JWT token' });

      const noClient = await server.token(alice, 'cli', { scope: 'io.cozy.oauth.clients' });
      const noSub = await markClientSynchronized({ client: server.client(alice.domain, { token: noClient }) });
      expect(noSub.response.status).toBe(400);
      expect(noSub.error).toEqual({ error: 'Invalid JWT token' });

      const ghost = await server.token(alice, 'access', { sub: '0123456789abcdef0123456789abcdef', scope: 'io.cozy.files' });
      const unknown = await markClientSynchronized({ client: server.client(alice.domain, { token: ghost }) });
      expect(unknown.response.status).toBe(400);
      expect(unknown.response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');

      const bobClient = await newClient(bob, 'Bob sync');
      const bobToken = await server.token(bob, 'access', { sub: bobClient.id, scope: 'io.cozy.files' });
      const cross = await markClientSynchronized({ client: server.client(alice.domain, { token: bobToken }) });
      expect(cross.response.status).toBe(400);
      // Bob's client on Alice's instance with Alice's key but Bob's client id: still unknown here.
      const aliceSignedBobClient = await server.token(alice, 'access', { sub: bobClient.id, scope: 'io.cozy.files' });
      const cross2 = await markClientSynchronized({ client: server.client(alice.domain, { token: aliceSignedBobClient }) });
      expect(cross2.response.status).toBe(400);
      expect((await getOAuthClient(db(), bob.id, bobClient.id))!.synchronizedAt).toBeNull();
    });

    it('answers 400 Expired token for an expired access token', async () => {
      const c = await newClient(alice, 'Expired');
      const old = await server.token(alice, 'access', { sub: c.id, scope: 'io.cozy.files' }, Date.now() - 8 * 24 * 3600 * 1000);
      const res = await markClientSynchronized({ client: server.client(alice.domain, { token: old }) });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual({ error: 'Expired token' });
      expect((await getOAuthClient(db(), alice.id, c.id))!.synchronizedAt).toBeNull();
    });

    it('answers 404 for an unknown host', async () => {
      const res = await markClientSynchronized({ client: server.client(`nobody.test:${server.port}`) });
      expect(res.response.status).toBe(404);
    });
  });

  describe('GET /settings/clients/limit-exceeded', () => {
    it('needs a session cookie (401, negotiated)', async () => {
      const json = await getClientsLimitExceededPage({ client: server.client(alice.domain) });
      expect(json.response.status).toBe(401);
      expect(json.error).toEqual({ error: 'Error Must be authenticated' });

      const html = await getClientsLimitExceededPage({ client: server.client(alice.domain, { headers: { Accept: 'text/html' } }), parseAs: 'text' });
      expect(html.response.status).toBe(401);
      expect(html.response.headers.get('content-type')).toMatch(/^text\/html/);

      const plain = await getClientsLimitExceededPage({ client: server.client(alice.domain, { headers: { Accept: '*/*' } }), parseAs: 'text' });
      expect(plain.response.status).toBe(401);
      expect(plain.response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(plain.error).toBe('Error Must be authenticated');

      // A token is not a session.
      const token = await server.token(alice, 'cli', { scope: '*' });
      const withToken = await getClientsLimitExceededPage({ client: server.client(alice.domain, { token }) });
      expect(withToken.response.status).toBe(401);
    });

    it('redirects (302) to redirect, or to the default redirection, when there is no limit', async () => {
      const { cookie } = await server.login(alice);
      await newClient(alice, 'Some device');
      const res = await getClientsLimitExceededPage({ client: server.client(alice.domain, { cookie }), query: { redirect: 'http://drive.example/after' } });
      expect(res.response.status).toBe(302);
      expect(res.response.headers.get('location')).toBe('http://drive.example/after');
      const byDefault = await getClientsLimitExceededPage({ client: server.client(alice.domain, { cookie }) });
      expect(byDefault.response.status).toBe(302);
      expect(byDefault.response.headers.get('location')).toBe(`http://home.${alice.domain}/`);
    });

    it('shows the page (200) when the connected clients are more than cozy.oauthclients.max, else redirects', async () => {
      const inst = await server.createInstance('limited', { kdf_iterations: 50000, feature_flags: { 'cozy.oauthclients.max': 2 } });
      const { cookie } = await server.login(inst);
      const client = server.client(inst.domain, { cookie, headers: { Accept: 'text/html' } });
      await newClient(inst, 'Device 1');
      await newClient(inst, 'Device 2');
      // A client without client_kind does not count.
      await newClient(inst, 'Script', { clientKind: null });
      const atLimit = await getClientsLimitExceededPage({ client, query: { redirect: 'http://home.example/' } });
      expect(atLimit.response.status).toBe(302);
      expect(atLimit.response.headers.get('location')).toBe('http://home.example/');

      await newClient(inst, 'Device 3');
      const over = await getClientsLimitExceededPage({ client, query: { redirect: 'http://home.example/' }, parseAs: 'text' });
      expect(over.response.status).toBe(200);
      expect(over.response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(over.response.headers.get('content-security-policy')).toBeTruthy();
      const page = over.data as unknown as string;
      expect(page).toContain('2');
      expect(page).toContain(`http://settings.${inst.domain}/#/connectedDevices`);
      expect(page).not.toContain('/premium');
    });

    it('reads the limit from every flag source (here the context configuration)', async () => {
      const inst = await server.createInstance('capped', { kdf_iterations: 50000, context: 'capped' });
      const { cookie } = await server.login(inst);
      await newClient(inst, 'C1');
      expect((await getClientsLimitExceededPage({ client: server.client(inst.domain, { cookie }) })).response.status).toBe(302);
      await newClient(inst, 'C2');
      const over = await getClientsLimitExceededPage({ client: server.client(inst.domain, { cookie }), parseAs: 'text' });
      expect(over.response.status).toBe(200);
    });

    it('a limit of 0 shows the page as soon as one client is connected', async () => {
      const inst = await server.createInstance('zero', { kdf_iterations: 50000, feature_flags: { 'cozy.oauthclients.max': 0 } });
      const { cookie } = await server.login(inst);
      const empty = await getClientsLimitExceededPage({ client: server.client(inst.domain, { cookie }) });
      expect(empty.response.status).toBe(302);
      await newClient(inst, 'Only device');
      const over = await getClientsLimitExceededPage({ client: server.client(inst.domain, { cookie }), parseAs: 'text' });
      expect(over.response.status).toBe(200);
    });

    it('links to the premium offers when the context enables them (flagship: only with IAP)', async () => {
      const inst = await server.createInstance('premium', {
        kdf_iterations: 50000,
        context: 'premium',
        uuid: 'aaaa-bbbb',
        feature_flags: { 'cozy.oauthclients.max': 1, 'flagship.iap.enabled': true },
      });
      const { cookie } = await server.login(inst);
      await newClient(inst, 'D1');
      await newClient(inst, 'D2');
      const premium = 'http://manager.test/cozy/instances/aaaa-bbbb/premium';
      const browser = await getClientsLimitExceededPage({ client: server.client(inst.domain, { cookie }), parseAs: 'text' });
      expect(browser.response.status).toBe(200);
      expect(browser.data as unknown as string).toContain(premium);
      const flagshipNoIap = await getClientsLimitExceededPage({ client: server.client(inst.domain, { cookie }), query: { isFlagship: true }, parseAs: 'text' });
      expect(flagshipNoIap.data as unknown as string).not.toContain(premium);
      const flagshipIap = await getClientsLimitExceededPage({
        client: server.client(inst.domain, { cookie }),
        query: { isFlagship: true, isIapAvailable: true },
        parseAs: 'text',
      });
      expect(flagshipIap.data as unknown as string).toContain(premium);
      // The default redirection of the context.
      await server.hearth.services.db.deleteFrom('oauth_clients').where('instance_id', '=', inst.id).execute();
      const redirect = await getClientsLimitExceededPage({ client: server.client(inst.domain, { cookie }) });
      expect(redirect.response.status).toBe(302);
      expect(redirect.response.headers.get('location')).toBe(`http://drive.${inst.domain}/folder#/recent`);
    });

    it('answers 404 for an unknown host', async () => {
      const res = await getClientsLimitExceededPage({ client: server.client(`nobody.test:${server.port}`) });
      expect(res.response.status).toBe(404);
    });
  });
});
