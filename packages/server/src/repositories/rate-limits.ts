// Rate-limit counters (reference §0.8): a fixed window that starts at the first hit.

import { sql } from 'kysely';
import type { DbExecutor } from '../db/util.js';

/** The counters of reference §0.8 with their limit and window. */
export const RATE_LIMITS = {
  auth: { limit: 1000, windowMs: 3600_000 },
  'two-factor': { limit: 10, windowMs: 300_000 },
  'two-factor-generation': { limit: 20, windowMs: 3600_000 },
  'oauth-client': { limit: 50, windowMs: 3600_000 },
  'magic-link': { limit: 30, windowMs: 3600_000 },
  'confirm-flagship': { limit: 30, windowMs: 3600_000 },
  'send-hint': { limit: 2, windowMs: 3600_000 },
  'resend-onboarding-mail': { limit: 2, windowMs: 3600_000 },
} as const satisfies Record<string, { limit: number; windowMs: number }>;

export type RateLimitCounter = keyof typeof RATE_LIMITS;

/**
 * Counts one hit and answers the count in the current window (1 for the first hit of a window).
 * A window starts at its first hit and lasts `windowMs`; the next hit after it starts a new one.
 * One atomic upsert: correct under concurrent callers (PostgreSQL row lock, SQLite write lock).
 */
export async function hitRateLimit(
  db: DbExecutor,
  scope: string,
  counter: string,
  windowMs: number,
  now: number = Date.now(),
): Promise<number> {
  const expiredBefore = now - windowMs; // a window that started at or before this is over
  const row = await db
    .insertInto('rate_limits')
    .values({ scope, counter, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc.columns(['scope', 'counter']).doUpdateSet({
        // Both expressions read the old row, in both engines.
        count: sql<number>`CASE WHEN rate_limits.window_start <= ${expiredBefore} THEN 1 ELSE rate_limits.count + 1 END`,
        window_start: sql<number>`CASE WHEN rate_limits.window_start <= ${expiredBefore} THEN ${now} ELSE rate_limits.window_start END`,
      }),
    )
    .returning('count')
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** The current count (0 when the window is over or there was no hit), without counting. */
export async function peekRateLimit(
  db: DbExecutor,
  scope: string,
  counter: string,
  windowMs: number,
  now: number = Date.now(),
): Promise<number> {
  const row = await db
    .selectFrom('rate_limits')
    .select(['count', 'window_start'])
    .where('scope', '=', scope)
    .where('counter', '=', counter)
    .executeTakeFirst();
  if (!row || Number(row.window_start) <= now - windowMs) return 0;
  return Number(row.count);
}

export async function resetRateLimit(db: DbExecutor, scope: string, counter: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('scope', '=', scope).where('counter', '=', counter).execute();
}

/** Outcome of a hit against a limit: the (limit+1)-th hit "reached", later ones "exceeded". */
export function rateLimitState(count: number, limit: number): 'ok' | 'reached' | 'exceeded' {
  if (count <= limit) return 'ok';
  return count === limit + 1 ? 'reached' : 'exceeded';
}
