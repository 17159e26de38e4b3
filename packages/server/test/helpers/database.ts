// Test databases: a migrated HearthDb per test, on SQLite (a fresh temp dir) and, when
// HEARTH_TEST_DATABASE_URL is set, on PostgreSQL (a fresh random schema, dropped on close).
//
//   describe.each(testEngines)('%s', (engine) => {
//     let db: TestDatabase;
//     beforeEach(async () => { db = await createTestDatabase(engine); });
//     afterEach(() => db.close());
//   });

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type HearthDb } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';

export type TestEngine = 'sqlite' | 'postgres';

export const testDatabaseUrl: string | undefined = process.env.HEARTH_TEST_DATABASE_URL || undefined;

/** The engines the suite runs on: SQLite always, PostgreSQL when HEARTH_TEST_DATABASE_URL is set. */
export const testEngines: TestEngine[] = testDatabaseUrl ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDatabase extends HearthDb {
  engine: TestEngine;
  /** The temp dir (SQLite file, or scratch space with PostgreSQL). */
  dataDir: string;
  /** The PostgreSQL schema of this database. */
  schema?: string;
  /**
   * Another handle on the same storage (a second pool on the same schema, or a second connection
   * to the same SQLite file), as a second process would have. Closed with this one at the latest.
   */
  openSibling(opts?: { poolSize?: number }): Promise<HearthDb>;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= fn());
}

export async function createTestDatabase(engine: TestEngine = 'sqlite'): Promise<TestDatabase> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hearth-test-'));
  const url = engine === 'postgres' ? testDatabaseUrl : undefined;
  if (engine === 'postgres' && !url) throw new Error('HEARTH_TEST_DATABASE_URL is not set');
  const schema = engine === 'postgres' ? `hearth_test_${randomBytes(6).toString('hex')}` : undefined;
  const open = (poolSize?: number) => openDatabase({ url, dataDir, schema, poolSize });

  const main = await open();
  const siblings: HearthDb[] = [];
  try {
    await migrateToLatest(main);
  } catch (err) {
    await main.close();
    throw err;
  }

  const close = once(async () => {
    for (const s of siblings) await s.close();
    try {
      if (schema) await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(main.kysely);
    } finally {
      await main.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  return {
    ...main,
    close,
    engine,
    dataDir,
    schema,
    async openSibling(opts = {}) {
      const db = await open(opts.poolSize);
      const sibling: HearthDb = { ...db, close: once(() => db.close()) };
      siblings.push(sibling);
      return sibling;
    },
  };
}

/** One migrated database per available engine (SQLite first). */
export async function createTestDatabases(): Promise<TestDatabase[]> {
  const out: TestDatabase[] = [];
  for (const engine of testEngines) out.push(await createTestDatabase(engine));
  return out;
}
