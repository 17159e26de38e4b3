// POST /auth/access_token: the exact error strings of reference §3.14, and the refresh grant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessToken } from '@hearth/client';
import { createAccessCode } from '../../../src/repositories/access-codes.js';
import { loopbackFetch } from '../../helpers/http.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { register, type RegisteredClient } from './helpers.js';

describe.each(testEngines)('OAuth token endpoint (%s)', (engine) => {
  let server: TestServer;
  let domain: string;
  let client: RegisteredClient;
  beforeAll(async () => {
    server = await startTestServer({ engine });
    domain = (await server.createInstance('alice')).domain;
    client = await register(server, domain, { client_name: 'Token client' });
  });
  afterAll(() => server.stop());

  const post = (body: Record<string, string>) => createAccessToken({ client: server.client(domain, { headers: { Authorization: 'null' } }), body: body as never });

  it.each([
    [{}, 'the grant_type parameter is mandatory'],
    [{ grant_type: 'authorization_code' }, 'the client_id parameter is mandatory'],
    [{ grant_type: 'authorization_code', client_id: 'abc' }, 'the client_secret parameter is mandatory'],
    [{ grant_type: 'authorization_code', client_id: 'not-a-client', client_secret: 'x' }, 'the client must be registered'],
  ])('answers 400 for %j', async (body, message) => {
    const res = await post(body);
    expect(res.response.status).toBe(400);
    expect(res.error).toEqual({ error: message });
  });

  it('checks the secret, the code and the grant type', async () => {
    const base = { client_id: client.client_id, client_secret: client.client_secret };
    expect((await post({ ...base, grant_type: 'authorization_code', client_secret: 'wrong' })).error).toEqual({ error: 'invalid client_secret' });
    expect((await post({ ...base, grant_type: 'authorization_code' })).error).toEqual({ error: 'the code parameter is mandatory' });
    expect((await post({ ...base, grant_type: 'authorization_code', code: '0123456789abcdef0123456789abcdef' })).error).toEqual({ error: 'invalid code' });
    expect((await post({ ...base, grant_type: 'password' })).error).toEqual({ error: 'invalid grant type' });
  });

  it('answers an empty body with the first mandatory parameter', async () => {
    const res = await loopbackFetch(`http://${domain}/auth/access_token`, { method: 'POST', headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'the grant_type parameter is mandatory' });
  });

  it('refreshes with a valid refresh token only, of this client and instance', async () => {
    const instance = await server.instance(domain);
    const code = await createAccessCode(server.hearth.services.db, { instanceId: instance.id, clientId: client.client_id, scope: 'io.cozy.contacts' });
    const first = await post({ grant_type: 'authorization_code', client_id: client.client_id, client_secret: client.client_secret, code: code.code });
    expect(first.response.status).toBe(200);
    const refreshToken = first.data!.refresh_token!;
    const base = { grant_type: 'refresh_token', client_id: client.client_id, client_secret: client.client_secret };

    const ok = await post({ ...base, refresh_token: refreshToken });
    expect(ok.response.status).toBe(200);
    expect(Object.keys(ok.data!).sort()).toEqual(['access_token', 'scope', 'token_type']);
    expect(ok.data?.scope).toBe('io.cozy.contacts');

    const other = await register(server, domain, { client_name: 'Other client' });
    const bob = await server.createInstance('bob');
    const bad = [
      undefined,
      'garbage',
      first.data!.access_token, // audience access
      await server.token(instance, 'refresh', { sub: other.client_id, scope: 'io.cozy.contacts' }), // another client
      await server.token(bob, 'refresh', { sub: client.client_id, scope: 'io.cozy.contacts' }), // another instance
    ];
    for (const token of bad) {
      const res = await post(token === undefined ? base : { ...base, refresh_token: token });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual({ error: 'invalid refresh token' });
    }
  });

  it('answers 404 for an unknown host', async () => {
    const res = await createAccessToken({ client: server.client(`nobody.test:${server.port}`), body: { grant_type: 'refresh_token', client_id: 'x', client_secret: 'y' } });
    expect(res.response.status).toBe(404);
  });
});
