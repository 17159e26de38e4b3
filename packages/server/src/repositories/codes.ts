// Generic one-time / TTL codes (reference §0.9): session codes, magic links, email-verified codes,
// attestation nonces, email-update tokens, OIDC delegated codes, confirm-flagship state…
//
// `scope` is an instance id, or `context:<ctx>` for codes that belong to a context (OIDC
// delegated codes). Expired codes are never answered; purgeExpiredCodes removes them.

import { parseJson, type DbExecutor } from '../db/util.js';

export type CodeKind =
  | 'session_code'
  | 'magic_link'
  | 'email_verified'
  | 'nonce'
  | 'email_update'
  | 'oidc_delegated'
  | 'confirm_flagship'
  | (string & {});

/** TTLs of reference §0.9. */
export const CODE_TTL_MS = {
  session_code: 7 * 24 * 3600 * 1000,
  magic_link: 15 * 60 * 1000,
  email_verified: 15 * 60 * 1000,
  nonce: 7 * 24 * 3600 * 1000,
  email_update: 7 * 24 * 3600 * 1000,
  oidc_delegated: 3 * 3600 * 1000,
} as const;

export const contextScope = (context: string): string => `context:${context}`;

/**
 * Stores (or replaces) a code with its data. `ttlMs` null → no expiry.
 */
export async function putCode(
  db: DbExecutor,
  scope: string,
  kind: CodeKind,
  code: string,
  data: unknown,
  ttlMs: number | null,
  now: number = Date.now(),
): Promise<{ expiresAt: number | null }> {
  const expiresAt = ttlMs === null ? null : now + ttlMs;
  const text = JSON.stringify(data ?? null);
  await db
    .insertInto('codes')
    .values({ scope, kind, code, data: text, expires_at: expiresAt })
    .onConflict((oc) => oc.columns(['scope', 'kind', 'code']).doUpdateSet({ data: text, expires_at: expiresAt }))
    .execute();
  return { expiresAt };
}

/** The data of a valid (unexpired) code, or null. Does not consume it. */
export async function getCode<T = unknown>(
  db: DbExecutor,
  scope: string,
  kind: CodeKind,
  code: string,
  now: number = Date.now(),
): Promise<{ data: T; expiresAt: number | null } | null> {
  const row = await db
    .selectFrom('codes')
    .select(['data', 'expires_at'])
    .where('scope', '=', scope)
    .where('kind', '=', kind)
    .where('code', '=', code)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  if (!row) return null;
  return { data: parseJson<T>(row.data, null as T), expiresAt: row.expires_at === null ? null : Number(row.expires_at) };
}

/**
 * Deletes the code and answers its data when it was valid: one statement
 * (DELETE … RETURNING), so of concurrent callers exactly one wins. An expired code is deleted
 * too but answers null.
 */
export async function consumeCode<T = unknown>(
  db: DbExecutor,
  scope: string,
  kind: CodeKind,
  code: string,
  now: number = Date.now(),
): Promise<{ data: T; expiresAt: number | null } | null> {
  const row = await db
    .deleteFrom('codes')
    .where('scope', '=', scope)
    .where('kind', '=', kind)
    .where('code', '=', code)
    .returning(['data', 'expires_at'])
    .executeTakeFirst();
  if (!row) return null;
  const expiresAt = row.expires_at === null ? null : Number(row.expires_at);
  if (expiresAt !== null && expiresAt <= now) return null;
  return { data: parseJson<T>(row.data, null as T), expiresAt };
}

export async function deleteCode(db: DbExecutor, scope: string, kind: CodeKind, code: string): Promise<boolean> {
  const r = await db
    .deleteFrom('codes')
    .where('scope', '=', scope)
    .where('kind', '=', kind)
    .where('code', '=', code)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Deletes every code of a kind in a scope (e.g. all the nonces of an instance). */
export async function deleteCodes(db: DbExecutor, scope: string, kind?: CodeKind): Promise<number> {
  let q = db.deleteFrom('codes').where('scope', '=', scope);
  if (kind !== undefined) q = q.where('kind', '=', kind);
  const r = await q.executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function purgeExpiredCodes(db: DbExecutor, now: number = Date.now()): Promise<number> {
  const r = await db.deleteFrom('codes').where('expires_at', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
