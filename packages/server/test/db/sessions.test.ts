import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInstance } from '../../src/repositories/instances.js';
import { insertLoginHistory, listLoginHistory } from '../../src/repositories/login-history.js';
import {
  SESSION_MAX_IDLE_MS,
  SESSION_TOUCH_INTERVAL_MS,
  createSession,
  deleteOtherSessions,
  deleteSession,
  getSession,
  listSessions,
  purgeExpiredSessions,
  touchSession,
} from '../../src/repositories/sessions.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/database.js';

const DAY = 24 * 3600 * 1000;

describe.each(testEngines)('sessions and login history (%s)', (engine) => {
  let db: TestDatabase;
  let instanceId: string;
  beforeEach(async () => {
    db = await createTestDatabase(engine);
    instanceId = (await createInstance(db.kysely, { domain: 'alice.example' })).id;
  });
  afterEach(() => db.close());

  it('creates and reads a session', async () => {
    const s = await createSession(db.kysely, { instanceId, longRun: true, sid: 'oidc-sid', now: 1_000 });
    expect(s).toMatchObject({ instanceId, createdAt: 1_000, lastSeen: 1_000, longRun: true, shortRun: false, sid: 'oidc-sid', oidcProviderKey: null });
    expect(s.id).toMatch(/^[0-9a-f]{32}$/);
    expect(s.rev).toMatch(/^1-[0-9a-f]{32}$/);
    expect(await getSession(db.kysely, instanceId, s.id, 2_000)).toEqual(s);
    const other = await createInstance(db.kysely, { domain: 'bob.example' });
    expect(await getSession(db.kysely, other.id, s.id, 2_000)).toBeNull();
  });

  it('rewrites last_seen at most once per 24 h', async () => {
    const t0 = 1_000_000;
    const s = await createSession(db.kysely, { instanceId, now: t0 });
    const same = await touchSession(db.kysely, s, t0 + DAY - 1);
    expect(same).toEqual(s);
    const touched = await touchSession(db.kysely, s, t0 + SESSION_TOUCH_INTERVAL_MS);
    expect(touched.lastSeen).toBe(t0 + DAY);
    expect(touched.rev.startsWith('2-')).toBe(true);
    // A second toucher with the stale object does not write again.
    const again = await touchSession(db.kysely, s, t0 + DAY + 5);
    expect(again.lastSeen).toBe(t0 + DAY);
    expect(again.rev).toBe(touched.rev);
  });

  it('deletes a session idle for more than 30 days on access', async () => {
    const s = await createSession(db.kysely, { instanceId, now: 0 });
    expect(await getSession(db.kysely, instanceId, s.id, SESSION_MAX_IDLE_MS)).not.toBeNull();
    expect(await getSession(db.kysely, instanceId, s.id, SESSION_MAX_IDLE_MS + 1)).toBeNull();
    expect(await db.kysely.selectFrom('sessions').selectAll().execute()).toHaveLength(0);
  });

  it('lists, deletes others, purges', async () => {
    const now = 100 * DAY;
    const old = await createSession(db.kysely, { instanceId, now: now - 31 * DAY });
    const a = await createSession(db.kysely, { instanceId, now: now - 2 });
    const b = await createSession(db.kysely, { instanceId, now: now - 1 });
    expect((await listSessions(db.kysely, instanceId, now)).map((s) => s.id)).toEqual([a.id, b.id]);
    expect(await purgeExpiredSessions(db.kysely, { instanceId, now })).toBe(1);
    expect(await getSession(db.kysely, instanceId, old.id, now - 31 * DAY)).toBeNull();
    const c = await createSession(db.kysely, { instanceId, now });
    expect(await deleteOtherSessions(db.kysely, instanceId, c.id)).toBe(2);
    expect((await listSessions(db.kysely, instanceId, now)).map((s) => s.id)).toEqual([c.id]);
    expect(await deleteSession(db.kysely, instanceId, c.id)).toBe(true);
    expect(await deleteSession(db.kysely, instanceId, c.id)).toBe(false);
  });

  it('records and lists the login history, newest first', async () => {
    const s = await createSession(db.kysely, { instanceId });
    await insertLoginHistory(db.kysely, { instanceId, sessionId: s.id, method: 'password', ip: '10.0.0.1', userAgent: 'UA', os: 'Linux', browser: 'Firefox', createdAt: 1 });
    await insertLoginHistory(db.kysely, { instanceId, method: 'flagship', clientRegistration: true, createdAt: 2 });
    const list = await listLoginHistory(db.kysely, instanceId);
    expect(list.map((e) => e.method)).toEqual(['flagship', 'password']);
    expect(list[0]).toMatchObject({ clientRegistration: true, sessionId: null, ip: null });
    expect(list[1]).toMatchObject({ sessionId: s.id, ip: '10.0.0.1', userAgent: 'UA', os: 'Linux', browser: 'Firefox', clientRegistration: false, createdAt: 1 });
    expect(await listLoginHistory(db.kysely, instanceId, { limit: 1 })).toHaveLength(1);
  });
});
