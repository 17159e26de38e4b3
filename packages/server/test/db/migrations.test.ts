import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateToLatest, migrationStatus, migrations } from '../../src/db/migrate.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/database.js';

const TABLES = [
  'access_codes',
  'apps',
  'avatars',
  'codes',
  'feature_flag_sources',
  'instances',
  'jobs',
  'login_history',
  'mails',
  'notifications',
  'oauth_clients',
  'rate_limits',
  'sessions',
  'settings_docs',
];

describe.each(testEngines)('migrations and connection (%s)', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase(engine);
  });
  afterEach(() => db.close());

  it('creates every table and records the migrations', async () => {
    const tables = (await db.kysely.introspection.getTables()).map((t) => t.name);
    for (const t of TABLES) expect(tables).toContain(t);
    const status = await migrationStatus(db);
    expect(status.map((m) => m.name)).toEqual(Object.keys(migrations));
    expect(status.every((m) => m.executedAt instanceof Date)).toBe(true);
  });

  it('is a no-op when already at the latest migration, even from a second handle', async () => {
    expect((await migrateToLatest(db)).applied).toEqual([]);
    const other = await db.openSibling();
    expect((await migrateToLatest(other)).applied).toEqual([]);
  });

  it('answers ping with a latency', async () => {
    const ms = await db.ping();
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(5000);
  });

  it('reads bigint columns back as JS numbers', async () => {
    const big = 1_700_000_000_123;
    await db.kysely
      .insertInto('rate_limits')
      .values({ scope: 's', counter: 'c', window_start: big, count: 3 })
      .execute();
    const row = await db.kysely.selectFrom('rate_limits').selectAll().executeTakeFirstOrThrow();
    expect(row.window_start).toBe(big);
    expect(typeof row.count).toBe('number');
    const n = await db.kysely
      .selectFrom('rate_limits')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(n.n).toBe(1);
  });

  it('enforces foreign keys with cascading deletes', async () => {
    await expect(
      db.kysely.insertInto('settings_docs').values({ instance_id: 'missing', doc: '{}', rev: '1-x' }).execute(),
    ).rejects.toThrow();
  });

  if (engine === 'sqlite') {
    it('opens SQLite in WAL mode with the expected pragmas', async () => {
      const get = async (name: string) =>
        Object.values((await sql.raw(`PRAGMA ${name}`).execute(db.kysely)).rows[0] as object)[0];
      expect(await get('journal_mode')).toBe('wal');
      expect(await get('foreign_keys')).toBe(1);
      expect(await get('busy_timeout')).toBe(5000);
      expect(await get('synchronous')).toBe(1); // NORMAL
    });
  }

  if (engine === 'postgres') {
    it('works inside its own schema', async () => {
      const r = await sql<{ s: string }>`SELECT current_schema() AS s`.execute(db.kysely);
      expect(r.rows[0]?.s).toBe(db.schema);
    });

    it('migrates a new schema while another schema of the database is already migrated', async () => {
      const { openDatabase } = await import('../../src/db/database.js');
      const schema = `${db.schema}_b`;
      const other = await openDatabase({ url: process.env.HEARTH_TEST_DATABASE_URL, dataDir: db.dataDir, schema });
      try {
        expect((await migrateToLatest(other)).applied).toEqual(['0001_initial']);
        const tables = await sql<{ n: number }>`
          SELECT count(*) AS n FROM information_schema.tables
          WHERE table_schema = ${schema} AND table_name IN ('kysely_migration', 'kysely_migration_lock', 'instances')`.execute(other.kysely);
        expect(tables.rows[0]?.n).toBe(3);
      } finally {
        await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(other.kysely);
        await other.close();
      }
    });
  }
});

describe('openDatabase (SQLite file options)', () => {
  it('creates the data directory and the file hearth.sqlite in it', async () => {
    const { mkdtemp, rm, stat } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { openDatabase } = await import('../../src/db/database.js');
    const root = await mkdtemp(path.join(tmpdir(), 'hearth-open-'));
    try {
      const dataDir = path.join(root, 'a', 'b');
      const db = await openDatabase({ dataDir });
      await migrateToLatest(db);
      expect((await stat(path.join(dataDir, 'hearth.sqlite'))).isFile()).toBe(true);
      await db.close();
      const custom = await openDatabase({ dataDir, sqliteFile: path.join(root, 'c', 'other.db') });
      await migrateToLatest(custom);
      expect((await stat(path.join(root, 'c', 'other.db'))).isFile()).toBe(true);
      await custom.close();
      const mem = await openDatabase({ dataDir, sqliteFile: ':memory:' });
      expect((await migrateToLatest(mem)).applied).toEqual(['0001_initial']);
      await mem.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('rejects a URL that is not PostgreSQL and a bad schema name', async () => {
    const { openDatabase } = await import('../../src/db/database.js');
    await expect(openDatabase({ url: 'mysql://x', dataDir: '/tmp/none' })).rejects.toThrow(/postgres/);
    await expect(openDatabase({ url: 'postgres://127.0.0.1:1/x', dataDir: '/tmp/none', schema: 'Bad-Name' })).rejects.toThrow(/schema/);
  });
});
