import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteAvatar, uploadAvatar } from '@hearth/client';
import { getAvatar } from '../../../src/repositories/avatars.js';
import type { Instance } from '../../../src/repositories/instances.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';

const blob = (bytes: Buffer) => new Blob([new Uint8Array(bytes)]);
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

/** A raw PUT /settings/avatar of `size` bytes, with a Content-Length or chunked (without one). */
function rawPut(
  server: TestServer,
  domain: string,
  token: string,
  opts: { size: number; chunked?: boolean },
): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      Host: domain,
      Authorization: `Bearer ${token}`,
      'Content-Type': 'image/png',
      Accept: 'application/json',
    };
    if (opts.chunked) headers['Transfer-Encoding'] = 'chunked';
    else headers['Content-Length'] = String(opts.size);
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path: '/settings/avatar', method: 'PUT', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), type: res.headers['content-type'] }));
      res.on('error', reject);
    });
    req.on('error', () => {
      /* the server may answer and close before the whole body is sent */
    });
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let left = opts.size;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe.each(testEngines)('PUT and DELETE /settings/avatar (%s)', (engine) => {
  let server: TestServer;
  let alice: Instance;
  let bob: Instance;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ engine });
    alice = await server.createInstance('alice', { kdf_iterations: 50000 });
    bob = await server.createInstance('bob', { kdf_iterations: 50000 });
    token = await server.token(alice, 'cli', { scope: 'io.cozy.settings' });
  });
  afterAll(() => server.stop());

  const avatarOf = (instance: Instance) => getAvatar(server.hearth.services.db, instance.id);

  it('stores the raw body with its content type, replacing the previous one', async () => {
    const res = await uploadAvatar({ client: server.client(alice.domain, { token }), body: blob(PNG), headers: { 'Content-Type': 'image/png' } });
    expect(res.response.status).toBe(204);
    const stored = await avatarOf(alice);
    expect(stored?.contentType).toBe('image/png');
    expect(stored?.data.equals(PNG)).toBe(true);

    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const again = await uploadAvatar({ client: server.client(alice.domain, { token }), body: blob(jpeg), headers: { 'Content-Type': 'image/jpeg' } });
    expect(again.response.status).toBe(204);
    const replaced = await avatarOf(alice);
    expect(replaced?.contentType).toBe('image/jpeg');
    expect(replaced?.data.equals(jpeg)).toBe(true);
  });

  it('accepts application/octet-stream', async () => {
    const bytes = Buffer.from([1, 2, 3, 4]);
    const res = await uploadAvatar({ client: server.client(alice.domain, { token }), body: blob(bytes), headers: { 'Content-Type': 'application/octet-stream' } });
    expect(res.response.status).toBe(204);
    expect((await avatarOf(alice))?.contentType).toBe('application/octet-stream');
  });

  it('rejects an empty body or another content type (400) and keeps the avatar', async () => {
    await uploadAvatar({ client: server.client(alice.domain, { token }), body: blob(PNG), headers: { 'Content-Type': 'image/png' } });
    const empty = await uploadAvatar({ client: server.client(alice.domain, { token }), body: blob(Buffer.alloc(0)), headers: { 'Content-Type': 'image/png' } });
    expect(empty.response.status).toBe(400);
    const text = await uploadAvatar({ client: server.client(alice.domain, { token }), body: 'hello' as never, headers: { 'Content-Type': 'text/plain' } });
    expect(text.response.status).toBe(400);
    expect((await avatarOf(alice))?.contentType).toBe('image/png');
  });

  it('answers 413 above 20 000 000 bytes (announced or counted), and accepts exactly 20 000 000', async () => {
    const announced = await rawPut(server, alice.domain, token, { size: 20_000_001 });
    expect(announced.status).toBe(413);
    expect(announced.type).toBe('application/vnd.api+json');
    expect(JSON.parse(announced.body)).toEqual({
      errors: [{ status: '413', title: 'Payload Too Large', detail: 'The request body is too large', source: {} }],
    });

    const chunked = await rawPut(server, alice.domain, token, { size: 20_000_001, chunked: true });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).errors[0].status).toBe('413');
    expect((await avatarOf(alice))?.data.length).not.toBe(20_000_001);

    const exact = await rawPut(server, alice.domain, token, { size: 20_000_000 });
    expect(exact.status).toBe(204);
    expect((await avatarOf(alice))?.data.length).toBe(20_000_000);
  });

  it('needs PUT on io.cozy.settings (403), a token (401), a valid token (400)', async () => {
    const readOnly = await server.token(alice, 'cli', { scope: 'io.cozy.settings:GET' });
    const forbidden = await uploadAvatar({ client: server.client(alice.domain, { token: readOnly }), body: blob(PNG), headers: { 'Content-Type': 'image/png' } });
    expect(forbidden.response.status).toBe(403);
    expect(forbidden.error).toEqual({ error: 'Forbidden' });
    const missing = await uploadAvatar({ client: server.client(alice.domain), body: blob(PNG), headers: { 'Content-Type': 'image/png' } });
    expect(missing.response.status).toBe(401);
    expect(missing.error).toEqual({ error: 'No token in request' });
    const foreign = await server.token(bob, 'cli', { scope: 'io.cozy.settings' });
    const bad = await uploadAvatar({ client: server.client(alice.domain, { token: foreign }), body: blob(PNG), headers: { 'Content-Type': 'image/png' } });
    expect(bad.response.status).toBe(400);
    expect(bad.error).toEqual({ error: 'Invalid JWT token' });
    expect(await avatarOf(bob)).toBeNull();
  });

  it('answers 404 for an unknown host', async () => {
    const res = await uploadAvatar({ client: server.client(`nobody.test:${server.port}`, { token }), body: blob(PNG), headers: { 'Content-Type': 'image/png' } });
    expect(res.response.status).toBe(404);
  });

  it('DELETE removes the avatar (and answers 204 when there is none)', async () => {
    await uploadAvatar({ client: server.client(alice.domain, { token }), body: blob(PNG), headers: { 'Content-Type': 'image/png' } });
    expect(await avatarOf(alice)).not.toBeNull();
    const res = await deleteAvatar({ client: server.client(alice.domain, { token }) });
    expect(res.response.status).toBe(204);
    expect(await avatarOf(alice)).toBeNull();
    const again = await deleteAvatar({ client: server.client(alice.domain, { token }) });
    expect(again.response.status).toBe(204);
  });

  it('DELETE needs PUT (not DELETE) on io.cozy.settings', async () => {
    await uploadAvatar({ client: server.client(alice.domain, { token }), body: blob(PNG), headers: { 'Content-Type': 'image/png' } });
    const deleteOnly = await server.token(alice, 'cli', { scope: 'io.cozy.settings:DELETE' });
    const forbidden = await deleteAvatar({ client: server.client(alice.domain, { token: deleteOnly }) });
    expect(forbidden.response.status).toBe(403);
    expect(await avatarOf(alice)).not.toBeNull();
    const putOnly = await server.token(alice, 'cli', { scope: 'io.cozy.settings:PUT' });
    const ok = await deleteAvatar({ client: server.client(alice.domain, { token: putOnly }) });
    expect(ok.response.status).toBe(204);
    expect(await avatarOf(alice)).toBeNull();
  });

  it('DELETE: 401 without a token, 400 with a bad one, 404 for an unknown host', async () => {
    expect((await deleteAvatar({ client: server.client(alice.domain) })).response.status).toBe(401);
    const bad = await deleteAvatar({ client: server.client(alice.domain, { token: 'x.y.z' }) });
    expect(bad.response.status).toBe(400);
    expect(bad.error).toEqual({ error: 'Invalid JWT token' });
    expect((await deleteAvatar({ client: server.client(`nobody.test:${server.port}`, { token }) })).response.status).toBe(404);
  });
});
