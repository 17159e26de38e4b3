// Schema migrations: a static, in-code list (no filesystem scanning, so it works from a bundle).
// Add a migration: create migrations/000N_name.ts exporting up/down, then list it below. Never
// edit a migration that has shipped.

import { Kysely, Migrator, type Migration, type MigrationProvider, type MigrationResult } from 'kysely';
import type { HearthDb } from './database.js';
import type { Database } from './schema.js';
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

function createMigrator(db: HearthDb | Kysely<Database>): Migrator {
  // Migration functions are written against Kysely<any> (they run before the types hold).
  return new Migrator({ db: kyselyOf(db) as unknown as Kysely<any>, provider });
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
  const { error, results = [] } = await createMigrator(db).migrateToLatest();
  if (error) throw new MigrationError(error, results);
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/** The state of every known migration (applied or pending). */
export async function migrationStatus(
  db: HearthDb | Kysely<Database>,
): Promise<{ name: string; executedAt: Date | null }[]> {
  const infos = await createMigrator(db).getMigrations();
  return infos.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}
