// Opening the Hearth database: SQLite (embedded default) or PostgreSQL (scale-out), both behind
// Kysely. The schema is created by migrateToLatest (src/db/migrate.ts), not here.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
} from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface HearthDb {
  kysely: Kysely<Database>;
  dialect: DialectName;
  /** Closes the pool (PostgreSQL) or the file (SQLite). */
  close(): Promise<void>;
  /** Runs a trivial query and answers its round-trip time in milliseconds. */
  ping(): Promise<number>;
}

export interface OpenDatabaseOptions {
  /** `postgres://…` (or `postgresql://…`); absent → SQLite in `dataDir`. */
  url?: string;
  /** Directory of the SQLite file `hearth.sqlite` (created when missing). */
  dataDir: string;
  /** SQLite only: another file than `<dataDir>/hearth.sqlite` (its directory is created), or `:memory:`. */
  sqliteFile?: string;
  /** PostgreSQL schema to use (created when missing; `[a-z_][a-z0-9_]*`); tests use it for isolation. */
  schema?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** Receives errors of idle PostgreSQL connections (they would crash the process otherwise). */
  onPoolError?: (err: Error) => void;
}

export const SQLITE_FILE_NAME = 'hearth.sqlite';

// Lower case only: search_path folds unquoted names to lower case.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

let int8ParserInstalled = false;

/** int8 (bigint, count(*)) comes back as a JS number: epoch ms and byte counts fit in 2^53. */
function installInt8Parser(): void {
  if (int8ParserInstalled) return;
  pg.types.setTypeParser(20, (value: string) => Number.parseInt(value, 10));
  int8ParserInstalled = true;
}

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<HearthDb> {
  if (opts.url !== undefined && opts.url !== '') {
    if (!isPostgresUrl(opts.url)) {
      throw new Error('database url must start with postgres:// or postgresql://');
    }
    return openPostgres(opts.url, opts);
  }
  return openSqlite(opts.sqliteFile ?? path.join(opts.dataDir, SQLITE_FILE_NAME));
}

// --- SQLite -------------------------------------------------------------------------------------

/**
 * Kysely's SQLite driver starts transactions with a plain (deferred) `begin`. A deferred
 * transaction that reads then writes can fail with SQLITE_BUSY when another connection (another
 * process) wrote in between; `begin immediate` takes the write lock up front and waits for it
 * (busy_timeout) instead. Inside one process Kysely already serializes everything on the single
 * connection, so this costs nothing.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/** Prepared statements kept per SQL text (Kysely prepares every query again otherwise). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The database as Kysely's SQLite dialect sees it, with its statements prepared once: preparing
 * costs more than running the small queries of a request. The connection is used by one query at
 * a time (Kysely's driver holds a mutex), so a statement is never run twice at once. The cache
 * forgets its oldest entry when full.
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = database.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt as unknown as SqliteStatement;
    },
  };
}

async function openSqlite(file: string): Promise<HearthDb> {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const database = new BetterSqlite3(file);
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('busy_timeout = 5000');
    database.pragma('foreign_keys = ON');
    database.pragma('synchronous = NORMAL');
  } catch (err) {
    database.close();
    throw err;
  }
  const kysely = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }) });
  return {
    kysely,
    dialect: 'sqlite',
    close: () => kysely.destroy(),
    ping: () => timeQuery(kysely),
  };
}

// --- PostgreSQL ---------------------------------------------------------------------------------

async function openPostgres(url: string, opts: OpenDatabaseOptions): Promise<HearthDb> {
  installInt8Parser();
  const schema = opts.schema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name: ${schema}`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  pool.on('error', (err) => {
    if (opts.onPoolError) opts.onPoolError(err);
  });
  try {
    if (schema !== undefined) {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`).catch((err: unknown) => {
        // Two processes creating the schema at the same time: the loser sees a duplicate.
        const code = (err as { code?: string }).code;
        if (code !== '23505' && code !== '42P06') throw err;
      });
    } else {
      await pool.query('SELECT 1');
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    close: () => kysely.destroy(), // ends the pool
    ping: () => timeQuery(kysely),
  };
}

async function timeQuery(kysely: Kysely<Database>): Promise<number> {
  const start = performance.now();
  await sql`SELECT 1`.execute(kysely);
  return performance.now() - start;
}
