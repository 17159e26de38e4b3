import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consumeAccessCode, createAccessCode, getAccessCode } from '../../src/repositories/access-codes.js';
import { ConflictError } from '../../src/repositories/errors.js';
import { createInstance } from '../../src/repositories/instances.js';
import {
  countConnectedOAuthClients,
  countOAuthClients,
  createOAuthClient,
  deleteOAuthClient,
  deletePendingOAuthClientsOlderThan,
  getOAuthClient,
  listNotifiableOAuthClients,
  listOAuthClients,
  updateOAuthClient,
} from '../../src/repositories/oauth-clients.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/database.js';

describe.each(testEngines)('oauth clients and access codes (%s)', (engine) => {
  let db: TestDatabase;
  let instanceId: string;
  const base = { softwareId: 'github.com/cozy/cozy-flagship-app' };
  beforeEach(async () => {
    db = await createTestDatabase(engine);
    instanceId = (await createInstance(db.kysely, { domain: 'alice.example' })).id;
  });
  afterEach(() => db.close());

  it('creates a client with defaults and metadata', async () => {
    const metadata = { redirect_uris: ['cozy://flagship'], client_name: 'Flagship', notifications: { a: { b: 1 } } };
    const c = await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'Flagship', clientKind: 'mobile', pending: true, metadata }, 5);
    expect(c.id).toMatch(/^[0-9a-f]{32}$/);
    expect(c.clientSecret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(c).toMatchObject({ clientName: 'Flagship', clientKind: 'mobile', pending: true, flagship: false, certifiedFromStore: false, allowLoginScope: false, createdAtOnboarding: false, createdAt: 5, lastRefreshedAt: null, metadata });
    expect(await getOAuthClient(db.kysely, instanceId, c.id)).toEqual(c);
  });

  it('suffixes duplicate names with the highest existing suffix + 1, starting at 2', async () => {
    const name = (n: string) => createOAuthClient(db.kysely, { ...base, instanceId, clientName: n }).then((c) => c.clientName);
    expect(await name('App')).toBe('App');
    expect(await name('App')).toBe('App-2');
    expect(await name('App')).toBe('App-3');
    expect(await name('App-7')).toBe('App-7');
    expect(await name('App')).toBe('App-8');
    expect(await name('App-x')).toBe('App-x'); // a non-numeric suffix does not count
    expect(await name('App')).toBe('App-9');
    expect(await name('App%')).toBe('App%'); // LIKE wildcards are not special
    expect(await name('App_')).toBe('App_');
    // Another instance has its own namespace.
    const other = await createInstance(db.kysely, { domain: 'bob.example' });
    expect((await createOAuthClient(db.kysely, { ...base, instanceId: other.id, clientName: 'App' })).clientName).toBe('App');
    // metadata.client_name follows the stored name.
    const c = await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'App', metadata: { client_name: 'App' } });
    expect(c.metadata.client_name).toBe('App-10');
  });

  it('gives concurrent creations with the same name distinct suffixes', async () => {
    const other = await db.openSibling();
    const created = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        createOAuthClient((i % 2 ? other : db).kysely, { ...base, instanceId, clientName: 'Same' }),
      ),
    );
    const names = created.map((c) => c.clientName).sort();
    expect(new Set(names).size).toBe(8);
    expect(names).toContain('Same');
  });

  it('pages through clients with a keyset cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await createOAuthClient(db.kysely, { ...base, instanceId, clientName: `c${i}` })).id);
    ids.sort();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof listOAuthClients>> = await listOAuthClients(db.kysely, instanceId, { limit: 3, cursor });
      seen.push(...page.clients.map((c) => c.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    const exact = await listOAuthClients(db.kysely, instanceId, { limit: 7 });
    expect(exact.nextCursor).toBeNull();
    expect(await countOAuthClients(db.kysely, instanceId)).toBe(7);
  });

  it('updates a client, renaming through the suffix rule and checking the rev', async () => {
    const a = await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'A' });
    const b = await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'B' });
    const up = await updateOAuthClient(db.kysely, instanceId, b.id, { clientName: 'A', flagship: true, lastRefreshedAt: 42, metadata: { client_name: 'A', x: 1 } }, { now: 99 });
    expect(up).toMatchObject({ clientName: 'A-2', flagship: true, lastRefreshedAt: 42, updatedAt: 99, metadata: { client_name: 'A-2', x: 1 } });
    expect(up?.rev.startsWith('2-')).toBe(true);
    // Renaming to its own name keeps it.
    expect((await updateOAuthClient(db.kysely, instanceId, a.id, { clientName: 'A' }))?.clientName).toBe('A');
    await expect(updateOAuthClient(db.kysely, instanceId, b.id, { pending: false }, { expectedRev: b.rev })).rejects.toBeInstanceOf(ConflictError);
    expect(await updateOAuthClient(db.kysely, instanceId, 'f'.repeat(32), { pending: false })).toBeNull();
    expect(await deleteOAuthClient(db.kysely, instanceId, a.id)).toBe(true);
    expect(await deleteOAuthClient(db.kysely, instanceId, a.id)).toBe(false);
  });

  it('counts connected clients (non-empty kind and name), capped', async () => {
    await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'k1', clientKind: 'mobile' });
    await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'k2', clientKind: 'desktop' });
    await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'k3', clientKind: '' });
    await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'k4' });
    await createOAuthClient(db.kysely, { ...base, instanceId, clientName: '', clientKind: 'mobile' });
    expect(await countConnectedOAuthClients(db.kysely, instanceId)).toBe(2);
    expect(await countConnectedOAuthClients(db.kysely, instanceId, { cap: 1 })).toBe(1);
  });

  it('deletes the pending clients older than the given age', async () => {
    const old = await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'old', pending: true }, 1_000);
    const young = await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'young', pending: true }, 3_000_000);
    const done = await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'done', pending: false }, 1_000);
    expect(await deletePendingOAuthClientsOlderThan(db.kysely, 3600_000, { now: 3600_000 + 1_000 })).toEqual([old.id]);
    expect(await getOAuthClient(db.kysely, instanceId, young.id)).not.toBeNull();
    expect(await getOAuthClient(db.kysely, instanceId, done.id)).not.toBeNull();
  });

  it('lists notifiable clients newest first', async () => {
    await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'n1', notificationPlatform: 'firebase', notificationDeviceToken: 't1' }, 1);
    await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'n2', notificationPlatform: 'apns', notificationDeviceToken: 't2' }, 2);
    await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'n3', notificationPlatform: 'apns' }, 3);
    expect((await listNotifiableOAuthClients(db.kysely, instanceId)).map((c) => c.clientName)).toEqual(['n2', 'n1']);
  });

  it('consumes an access code exactly once, even concurrently', async () => {
    const client = await createOAuthClient(db.kysely, { ...base, instanceId, clientName: 'c' });
    const code = await createAccessCode(db.kysely, { instanceId, clientId: client.id, scope: '*', codeChallenge: 'xyz', now: 7 });
    expect(code.code).toMatch(/^[0-9a-f]{32}$/);
    expect(await getAccessCode(db.kysely, instanceId, code.code)).toEqual(code);
    const other = await db.openSibling();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => consumeAccessCode((i % 2 ? other : db).kysely, instanceId, code.code)),
    );
    expect(results.filter((r) => r !== null)).toEqual([code]);
    // Deleting the client deletes its codes.
    const code2 = await createAccessCode(db.kysely, { instanceId, clientId: client.id, scope: 'io.cozy.files' });
    await deleteOAuthClient(db.kysely, instanceId, client.id);
    expect(await getAccessCode(db.kysely, instanceId, code2.code)).toBeNull();
  });
});
