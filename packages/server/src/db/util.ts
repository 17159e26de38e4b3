// Small helpers shared by the repositories, the job queue and the mail outbox.

import { createHash, randomBytes } from 'node:crypto';
import { PostgresAdapter, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/** Anything a repository function can run on: the database or a transaction on it. */
export type DbExecutor = Kysely<Database> | Transaction<Database>;

/** A random id: 32 lowercase hex characters (16 random bytes), like a CouchDB uuid. */
export function newId(): string {
  return randomBytes(16).toString('hex');
}

/** Standard base64 of `bytes` random bytes (the format of the instance secrets). */
export function randomSecret(bytes: number): string {
  return randomBytes(bytes).toString('base64');
}

/**
 * Runs `fn` in a transaction: the caller's one when `db` already is a transaction, a new one
 * otherwise (on SQLite, `begin immediate`: see src/db/database.ts).
 */
export function withTransaction<T>(db: DbExecutor, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db as Transaction<Database>);
  return db.transaction().execute(fn);
}

export const toBool = (v: number | null | undefined): boolean => v === 1 || (v as unknown) === true;
export const fromBool = (v: boolean): number => (v ? 1 : 0);
export const toNullableBool = (v: number | null | undefined): boolean | null =>
  v === null || v === undefined ? null : toBool(v);
export const fromNullableBool = (v: boolean | null): number | null => (v === null ? null : fromBool(v));

export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  return JSON.parse(text) as T;
}

/** JSON with object keys sorted recursively: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function md5Hex(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** A CouchDB-style revision `N-<md5 of the canonical JSON>`, N = previous N + 1. */
export function nextRev(previous: string | null | undefined, content: unknown): string {
  return `${revNumber(previous) + 1}-${md5Hex(canonicalJson(content))}`;
}

export function revNumber(rev: string | null | undefined): number {
  if (!rev) return 0;
  const n = Number.parseInt(rev.slice(0, rev.indexOf('-')), 10);
  return Number.isFinite(n) ? n : 0;
}

/** A random revision suffix, for rows whose content is not worth hashing (sessions, clients). */
export function nextRandomRev(previous: string | null | undefined): string {
  return `${revNumber(previous) + 1}-${newId()}`;
}

/** A unique-constraint violation, in either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A UUIDv7 (RFC 9562): 48-bit ms timestamp, version 7, variant 10, random rest. */
export function newUuidV7(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  const ts = BigInt(now);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ts >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Which engine `db` runs on (repositories need it only for the rare non-portable statement). */
export function dialectOf(db: DbExecutor): 'sqlite' | 'postgres' {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}
