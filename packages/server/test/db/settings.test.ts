import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/db/util.js';
import { ConflictError } from '../../src/repositories/errors.js';
import { createInstance } from '../../src/repositories/instances.js';
import { getSettings, putSettings, updateSettings } from '../../src/repositories/settings.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/database.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe.each(testEngines)('settings documents (%s)', (engine) => {
  let db: TestDatabase;
  let instanceId: string;
  beforeEach(async () => {
    db = await createTestDatabase(engine);
    instanceId = (await createInstance(db.kysely, { domain: 'alice.example' })).id;
  });
  afterEach(() => db.close());

  it('creates the document at rev 1 with the md5 of its canonical JSON', async () => {
    expect(await getSettings(db.kysely, instanceId)).toBeNull();
    const doc = { public_name: 'Alice', email: 'alice@example.com', nested: { z: 1, a: [2, { y: 1, b: 2 }] } };
    const { rev } = await putSettings(db.kysely, instanceId, doc, null);
    expect(rev).toMatch(/^1-[0-9a-f]{32}$/);
    expect(rev).toBe(`1-${md5(canonicalJson(doc))}`);
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
    expect(await getSettings(db.kysely, instanceId)).toEqual({ doc, rev });
  });

  it('increments the revision and checks the expected one', async () => {
    const { rev: r1 } = await putSettings(db.kysely, instanceId, { email: 'a@x' }, null);
    const { rev: r2 } = await putSettings(db.kysely, instanceId, { email: 'b@x', _id: 'io.cozy.settings.instance', _rev: r1 }, r1);
    expect(r2).toMatch(/^2-[0-9a-f]{32}$/);
    expect((await getSettings(db.kysely, instanceId))?.doc).toEqual({ email: 'b@x' }); // _id/_rev not stored

    // A stale rev, a wrong rev, or "create" while it exists: 409-like conflicts, nothing written.
    await expect(putSettings(db.kysely, instanceId, { email: 'c@x' }, r1)).rejects.toBeInstanceOf(ConflictError);
    await expect(putSettings(db.kysely, instanceId, { email: 'c@x' }, '2-00000000000000000000000000000000')).rejects.toBeInstanceOf(ConflictError);
    await expect(putSettings(db.kysely, instanceId, { email: 'c@x' }, null)).rejects.toBeInstanceOf(ConflictError);
    // Updating a document that does not exist is a conflict too.
    const other = await createInstance(db.kysely, { domain: 'other.example' });
    await expect(putSettings(db.kysely, other.id, { a: 1 }, '1-abc')).rejects.toBeInstanceOf(ConflictError);
    expect(await getSettings(db.kysely, instanceId)).toEqual({ doc: { email: 'b@x' }, rev: r2 });
  });

  it('lets exactly one of two concurrent writers with the same rev win', async () => {
    const { rev } = await putSettings(db.kysely, instanceId, { n: 0 }, null);
    const other = await db.openSibling();
    const results = await Promise.allSettled([
      putSettings(db.kysely, instanceId, { n: 1 }, rev),
      putSettings(other.kysely, instanceId, { n: 2 }, rev),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toBeInstanceOf(ConflictError);
  });

  it('updateSettings retries read-modify-write under concurrency', async () => {
    await putSettings(db.kysely, instanceId, { n: 0 }, null);
    // Two pools on PostgreSQL. On SQLite one handle: two connections of one process cannot both
    // hold transactions (better-sqlite3 blocks the thread while waiting for the lock).
    const other = engine === 'postgres' ? await db.openSibling() : db;
    const inc = (k: typeof db.kysely) =>
      updateSettings(k, instanceId, (doc) => ({ ...doc, n: (doc.n as number) + 1 }), { retries: 50 });
    await Promise.all([inc(db.kysely), inc(other.kysely), inc(db.kysely), inc(other.kysely)]);
    const final = await getSettings(db.kysely, instanceId);
    expect(final?.doc.n).toBe(4);
    expect(final?.rev.startsWith('5-')).toBe(true);
  });
});
