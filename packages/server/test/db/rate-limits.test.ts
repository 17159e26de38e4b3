import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RATE_LIMITS,
  hitRateLimit,
  peekRateLimit,
  rateLimitState,
  resetRateLimit,
} from '../../src/repositories/rate-limits.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/database.js';

describe.each(testEngines)('rate limits (%s)', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase(engine);
  });
  afterEach(() => db.close());

  it('counts in a fixed window that starts at the first hit', async () => {
    const W = 60_000;
    const t0 = 1_000_000;
    expect(await hitRateLimit(db.kysely, 'i1', 'magic-link', W, t0)).toBe(1);
    expect(await hitRateLimit(db.kysely, 'i1', 'magic-link', W, t0 + 10)).toBe(2);
    expect(await hitRateLimit(db.kysely, 'i1', 'magic-link', W, t0 + W - 1)).toBe(3);
    expect(await peekRateLimit(db.kysely, 'i1', 'magic-link', W, t0 + W - 1)).toBe(3);
    // The window started at t0, not at the last hit: it is over at t0 + W.
    expect(await peekRateLimit(db.kysely, 'i1', 'magic-link', W, t0 + W)).toBe(0);
    expect(await hitRateLimit(db.kysely, 'i1', 'magic-link', W, t0 + W)).toBe(1);
    expect(await hitRateLimit(db.kysely, 'i1', 'magic-link', W, t0 + W + 5)).toBe(2);
    // The new window started at t0 + W.
    expect(await hitRateLimit(db.kysely, 'i1', 'magic-link', W, t0 + 2 * W - 1)).toBe(3);
    expect(await hitRateLimit(db.kysely, 'i1', 'magic-link', W, t0 + 2 * W)).toBe(1);
  });

  it('keeps counters and scopes apart, and resets', async () => {
    await hitRateLimit(db.kysely, 'i1', 'auth', 1000, 0);
    await hitRateLimit(db.kysely, 'i1', 'auth', 1000, 0);
    expect(await hitRateLimit(db.kysely, 'i1', 'two-factor', 1000, 0)).toBe(1);
    expect(await hitRateLimit(db.kysely, 'i2', 'auth', 1000, 0)).toBe(1);
    await resetRateLimit(db.kysely, 'i1', 'auth');
    expect(await hitRateLimit(db.kysely, 'i1', 'auth', 1000, 1)).toBe(1);
    expect(await peekRateLimit(db.kysely, 'nobody', 'auth', 1000, 1)).toBe(0);
  });

  it('classifies the (limit+1)-th hit as reached and later ones as exceeded', () => {
    const { limit } = RATE_LIMITS['send-hint'];
    expect(limit).toBe(2);
    expect([1, 2, 3, 4].map((n) => rateLimitState(n, limit))).toEqual(['ok', 'ok', 'reached', 'exceeded']);
  });

  it('counts concurrent hits exactly once each', async () => {
    const other = await db.openSibling({ poolSize: 10 });
    const N = 60;
    const counts = await Promise.all(
      Array.from({ length: N }, (_, i) => hitRateLimit((i % 2 ? other : db).kysely, 'i1', 'oauth-client', 3600_000)),
    );
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(await peekRateLimit(db.kysely, 'i1', 'oauth-client', 3600_000)).toBe(N);
  });
});
