// Schema migrations: a static, in-code list (no filesystem scanning, so it works from a bundle).
// Add a migration: create migrations/000N_name.ts exporting up/down, then list it below. Never
// edit a migration that has shipped.

import { Kysely, Migrator, sql, type Migration, type MigrationProvider, type MigrationResult } from 'kysely';
import type { HearthDb } from './database.js';
import type { Database } from './schema.js';
import { dialectOf } from './util.js';
import * as m0001 from './migrations/0001_initial.js';

export const migrations: Readonly<Record<string, Migration>> = {
  '0001_initial': m0001,
};

const provider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};

function kyselyOf(db: HearthDb | Kysely<Database>): Kysely<Database> {
  return db instanceof Kysely ? db : db.kysely;
}

async function createMigrator(db: HearthDb | Kysely<Database>): Promise<Migrator> {
  const kysely = kyselyOf(db);
  // Kysely looks for its migration tables in *every* schema unless told which one: with several
  // Hearth schemas in one PostgreSQL database (tests, or several deployments), it would find
  // another schema's tables and skip creating its own. Pin them to the current schema.
  let migrationTableSchema: string | undefined;
  if (dialectOf(kysely) === 'postgres') {
    const r = await sql<{ s: string | null }>`SELECT current_schema() AS s`.execute(kysely);
    migrationTableSchema = r.rows[0]?.s ?? undefined;
  }
  // Migration functions are written against Kysely<any> (they run before the types hold).
  return new Migrator({ db: kysely as unknown as Kysely<any>, provider, migrationTableSchema });
}

export class MigrationError extends Error {
  readonly results: readonly MigrationResult[];
  constructor(cause: unknown, results: readonly MigrationResult[]) {
    const failed = results.find((r) => r.status === 'Error');
    super(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${String((cause as Error)?.message ?? cause)}`, {
      cause,
    });
    this.name = 'MigrationError';
    this.results = results;
  }
}

/**
 * Brings the schema to the latest migration. Safe to call at every start, and from several
 * processes at once (Kysely's Migrator takes a lock). Answers the names of the migrations applied.
 */
export async function migrateToLatest(db: HearthDb | Kysely<Database>): Promise<{ applied: string[] }> {
  for (let attempt = 1; ; attempt++) {
    const { error, results = [] } = await (await createMigrator(db)).migrateToLatest();
    if (!error) return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
    // Kysely's PostgreSQL introspection reads every schema of the database; when another process
    // drops a schema meanwhile (other test runs, other deployments), it fails with
    // invalid_schema_name. Trying again is safe: applied migrations are recorded and skipped.
    if ((error as { code?: string }).code === '3F000' && attempt < 5) {
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      continue;
    }
    throw new MigrationError(error, results);
  }
}

/** The state of every known migration (applied or pending). */
export async function migrationStatus(
  db: HearthDb | Kysely<Database>,
): Promise<{ name: string; executedAt: Date | null }[]> {
  const infos = await (await createMigrator(db)).getMigrations();
  return infos.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}
