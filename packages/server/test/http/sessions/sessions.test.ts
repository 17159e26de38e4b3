import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCurrentSession, listSessions } from '@hearth/client';
import { SessionDuration } from '../../../src/domain/sessions.js';
import { createSession } from '../../../src/repositories/sessions.js';
import type { Instance } from '../../../src/repositories/instances.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';

const DAY = 24 * 3600 * 1000;

describe.each(testEngines)('GET /settings/sessions and /settings/sessions/current (%s)', (engine) => {
  let server: TestServer;
  let alice: Instance;
  let bob: Instance;
  let sessionsToken: string;

  beforeAll(async () => {
    server = await startTestServer({ engine });
    alice = await server.createInstance('alice', { kdf_iterations: 50000 });
    bob = await server.createInstance('bob', { kdf_iterations: 50000 });
    sessionsToken = await server.token(alice, 'cli', { scope: 'io.cozy.sessions' });
  });
  afterAll(() => server.stop());

  const sessionRows = (instance: Instance) =>
    server.hearth.services.db.selectFrom('sessions').select(['id', 'last_seen']).where('instance_id', '=', instance.id).execute();

  it('lists the active sessions with _id and _rev inside the attributes', async () => {
    const long = await server.login(alice, SessionDuration.LongRun);
    const normal = await server.login(alice);
    const res = await listSessions({ client: server.client(alice.domain, { token: sessionsToken }) });
    expect(res.response.status).toBe(200);
    expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
    const body = res.data!;
    expect(body).not.toHaveProperty('links');
    expect(body.meta).toEqual({ count: body.data.length });
    const ids = body.data.map((s) => s.id);
    expect(ids).toContain(long.sessionId);
    expect(ids).toContain(normal.sessionId);
    const longDoc = body.data.find((s) => s.id === long.sessionId)!;
    expect(longDoc.type).toBe('io.cozy.sessions');
    expect(longDoc.attributes._id).toBe(long.sessionId);
    expect(longDoc.attributes._rev).toBe(longDoc.meta.rev);
    expect(longDoc.attributes._rev).toMatch(/^1-[0-9a-f]+$/);
    expect(longDoc.attributes.long_run).toBe(true);
    expect(longDoc.attributes.short_run).toBe(false);
    expect(Date.parse(longDoc.attributes.created_at)).not.toBeNaN();
    expect(longDoc.attributes.last_seen).toBe(longDoc.attributes.created_at);
    expect(longDoc).not.toHaveProperty('links');
    expect(body.data.find((s) => s.id === normal.sessionId)!.attributes.long_run).toBe(false);
  });

  it('shows sid and oidc_provider_key when the session has them', async () => {
    const s = await createSession(server.hearth.services.db, { instanceId: alice.id, sid: 'oidc-sid-1', oidcProviderKey: 'default' });
    const res = await listSessions({ client: server.client(alice.domain, { token: sessionsToken }) });
    const doc = res.data!.data.find((d) => d.id === s.id)!;
    expect(doc.attributes.sid).toBe('oidc-sid-1');
    expect(doc.attributes.oidc_provider_key).toBe('default');
  });

  it('deletes the sessions not seen for 30 days and does not list them', async () => {
    const old = await createSession(server.hearth.services.db, { instanceId: alice.id, now: Date.now() - 31 * DAY });
    const recent = await createSession(server.hearth.services.db, { instanceId: alice.id, now: Date.now() - 29 * DAY });
    expect((await sessionRows(alice)).map((r) => r.id)).toContain(old.id);
    const res = await listSessions({ client: server.client(alice.domain, { token: sessionsToken }) });
    expect(res.response.status).toBe(200);
    const ids = res.data!.data.map((d) => d.id);
    expect(ids).not.toContain(old.id);
    expect(ids).toContain(recent.id);
    const remaining = (await sessionRows(alice)).map((r) => r.id);
    expect(remaining).not.toContain(old.id);
    expect(remaining).toContain(recent.id);
  });

  it('does not list the sessions of another instance', async () => {
    const bobSession = await server.login(bob);
    const res = await listSessions({ client: server.client(alice.domain, { token: sessionsToken }) });
    expect(res.data!.data.map((d) => d.id)).not.toContain(bobSession.sessionId);
  });

  it('needs a token (401)', async () => {
    const res = await listSessions({ client: server.client(alice.domain) });
    expect(res.response.status).toBe(401);
    expect(res.error).toEqual({ error: 'No token in request' });
  });

  it('refuses a session cookie without a token (401)', async () => {
    const { cookie } = await server.login(alice);
    const res = await listSessions({ client: server.client(alice.domain, { cookie }) });
    expect(res.response.status).toBe(401);
  });

  it('needs GET on io.cozy.sessions (403)', async () => {
    const token = await server.token(alice, 'cli', { scope: 'io.cozy.settings' });
    const res = await listSessions({ client: server.client(alice.domain, { token }) });
    expect(res.response.status).toBe(403);
    expect(res.error).toEqual({ error: 'Forbidden' });
  });

  it('rejects a bad token (400)', async () => {
    const res = await listSessions({ client: server.client(alice.domain, { token: 'not-a-jwt' }) });
    expect(res.response.status).toBe(400);
    expect(res.error).toEqual({ error: 'Invalid JWT token' });
    expect(res.response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('rejects a token of another instance (400)', async () => {
    const token = await server.token(bob, 'cli', { scope: 'io.cozy.sessions' });
    const res = await listSessions({ client: server.client(alice.domain, { token }) });
    expect(res.response.status).toBe(400);
    expect(res.error).toEqual({ error: 'Invalid JWT token' });
  });

  it('answers 404 for an unknown host', async () => {
    const res = await listSessions({ client: server.client(`nobody.test:${server.port}`, { token: sessionsToken }) });
    expect(res.response.status).toBe(404);
  });

  it('GET /settings/sessions/current answers the session of the cookie', async () => {
    const { cookie, sessionId } = await server.login(alice, SessionDuration.LongRun);
    const res = await getCurrentSession({ client: server.client(alice.domain, { cookie }) });
    expect(res.response.status).toBe(200);
    expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
    const doc = res.data!.data;
    expect(doc.id).toBe(sessionId);
    expect(doc.type).toBe('io.cozy.sessions');
    expect(doc.attributes._id).toBe(sessionId);
    expect(doc.attributes._rev).toBe(doc.meta.rev);
    expect(doc.attributes.long_run).toBe(true);
  });

  it('GET /settings/sessions/current needs no permission, only the cookie (a token alone → 404)', async () => {
    const res = await getCurrentSession({ client: server.client(alice.domain, { token: sessionsToken }) });
    expect(res.response.status).toBe(404);
    expect(res.error).toEqual({ errors: [{ status: '404', title: 'Not Found', detail: 'no current session', source: {} }] });
    expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
  });

  it('GET /settings/sessions/current: a forged or foreign cookie → 404', async () => {
    const { cookie } = await server.login(bob);
    const res = await getCurrentSession({ client: server.client(alice.domain, { cookie }) });
    expect(res.response.status).toBe(404);
    const forged = await getCurrentSession({ client: server.client(alice.domain, { cookie: 'cozysessid=AAAAAAAA' }) });
    expect(forged.response.status).toBe(404);
  });

  it('GET /settings/sessions/current: a deleted session → 404', async () => {
    const { cookie, sessionId } = await server.login(alice);
    await server.hearth.services.db.deleteFrom('sessions').where('id', '=', sessionId).execute();
    const res = await getCurrentSession({ client: server.client(alice.domain, { cookie }) });
    expect(res.response.status).toBe(404);
  });

  it('GET /settings/sessions/current answers 404 for an unknown host', async () => {
    const res = await getCurrentSession({ client: server.client(`nobody.test:${server.port}`) });
    expect(res.response.status).toBe(404);
    expect(res.error).not.toEqual(expect.objectContaining({ errors: [expect.objectContaining({ detail: 'no current session' })] }));
  });
});
