import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCapabilities, getStatus } from '@hearth/client';
import { startTestServer, testEngines, type TestServer } from '../helpers/server.js';

describe.each(testEngines)('status and capabilities (%s)', (engine) => {
  let server: TestServer;
  let domain: string;
  beforeAll(async () => {
    server = await startTestServer({ engine });
    domain = (await server.createInstance('alice')).domain;
  });
  afterAll(() => server.stop());

  it('GET /status answers on any host', async () => {
    const res = await getStatus({ client: server.client(`unknown.test:${server.port}`) });
    expect(res.response.status).toBe(200);
    expect(res.data).toMatchObject({ status: 'OK', database: 'healthy' });
  });

  it('GET /settings/capabilities needs a token (401)', async () => {
    const res = await getCapabilities({ client: server.client(domain) });
    expect(res.response.status).toBe(401);
    expect(res.error).toEqual({ error: 'No token in request' });
  });

  it('GET /settings/capabilities with a CLI token', async () => {
    const instance = await server.instance(domain);
    const token = await server.token(instance, 'cli', { scope: 'io.cozy.settings' });
    const res = await getCapabilities({ client: server.client(domain, { token }) });
    expect(res.response.status).toBe(200);
    expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
    expect(res.data?.data.attributes).toEqual({
      file_versioning: true,
      flat_subdomains: false,
      can_auth_with_password: true,
      can_auth_with_magic_links: false,
      can_auth_with_oidc: false,
    });
  });

  it('rejects a token of another instance (400 Invalid JWT token)', async () => {
    const bob = await server.createInstance('bob');
    const token = await server.token(bob, 'cli', { scope: 'io.cozy.settings' });
    const res = await getCapabilities({ client: server.client(domain, { token }) });
    expect(res.response.status).toBe(400);
    expect(res.response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(res.error).toEqual({ error: 'Invalid JWT token' });
  });

  it('answers 404 for an unknown host', async () => {
    const res = await getCapabilities({ client: server.client(`nobody.test:${server.port}`) });
    expect(res.response.status).toBe(404);
  });
});
