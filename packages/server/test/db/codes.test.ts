import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CODE_TTL_MS,
  consumeCode,
  contextScope,
  deleteCode,
  deleteCodes,
  getCode,
  purgeExpiredCodes,
  putCode,
} from '../../src/repositories/codes.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/database.js';

describe.each(testEngines)('one-time and TTL codes (%s)', (engine) => {
  let db: TestDatabase;
  const scope = 'a'.repeat(32);
  beforeEach(async () => {
    db = await createTestDatabase(engine);
  });
  afterEach(() => db.close());

  it('stores a code with data and answers it until it expires', async () => {
    const expiresAt = (await putCode(db.kysely, scope, 'magic_link', 'CODE1', { redirect: '/x' }, CODE_TTL_MS.magic_link, 1_000)).expiresAt!;
    expect(expiresAt).toBe(1_000 + 15 * 60_000);
    expect(await getCode(db.kysely, scope, 'magic_link', 'CODE1', 1_000)).toEqual({ data: { redirect: '/x' }, expiresAt });
    // Reusable: reading does not consume.
    expect(await getCode(db.kysely, scope, 'magic_link', 'CODE1', expiresAt - 1)).not.toBeNull();
    expect(await getCode(db.kysely, scope, 'magic_link', 'CODE1', expiresAt)).toBeNull();
    // Kind, scope and code all matter.
    await putCode(db.kysely, scope, 'magic_link', 'CODE2', null, null, 0);
    expect(await getCode(db.kysely, scope, 'email_verified', 'CODE2', 0)).toBeNull();
    expect(await getCode(db.kysely, 'b'.repeat(32), 'magic_link', 'CODE2', 0)).toBeNull();
    expect(await getCode(db.kysely, scope, 'magic_link', 'CODE2', Number.MAX_SAFE_INTEGER)).toEqual({ data: null, expiresAt: null });
  });

  it('replaces a code put twice and purges expired ones', async () => {
    await putCode(db.kysely, scope, 'email_update', 'T', { email: 'old@x' }, 10, 0);
    await putCode(db.kysely, scope, 'email_update', 'T', { email: 'new@x' }, 100, 0);
    expect((await getCode(db.kysely, scope, 'email_update', 'T', 50))?.data).toEqual({ email: 'new@x' });
    await putCode(db.kysely, scope, 'nonce', 'N', 'client-id', 10, 0);
    expect(await purgeExpiredCodes(db.kysely, 60)).toBe(1);
    expect(await getCode(db.kysely, scope, 'email_update', 'T', 50)).not.toBeNull();
    expect(await deleteCode(db.kysely, scope, 'email_update', 'T')).toBe(true);
    expect(await deleteCode(db.kysely, scope, 'email_update', 'T')).toBe(false);
  });

  it('consumes a code once; an expired code is not answered', async () => {
    await putCode(db.kysely, scope, 'session_code', 'S', { sessionId: 'x' }, CODE_TTL_MS.session_code, 0);
    expect(await consumeCode(db.kysely, scope, 'session_code', 'S', 1)).toEqual({ data: { sessionId: 'x' }, expiresAt: CODE_TTL_MS.session_code });
    expect(await consumeCode(db.kysely, scope, 'session_code', 'S', 1)).toBeNull();
    await putCode(db.kysely, scope, 'session_code', 'E', {}, 10, 0);
    expect(await consumeCode(db.kysely, scope, 'session_code', 'E', 10)).toBeNull();
    expect(await getCode(db.kysely, scope, 'session_code', 'E', 0)).toBeNull(); // deleted anyway
  });

  it('lets exactly one of 10 concurrent consumers win', async () => {
    const other = await db.openSibling({ poolSize: 10 });
    for (let round = 0; round < 5; round++) {
      const code = `C${round}`;
      await putCode(db.kysely, scope, 'nonce', code, { round }, CODE_TTL_MS.nonce);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => consumeCode((i % 2 ? other : db).kysely, scope, 'nonce', code)),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]?.data).toEqual({ round });
    }
  });

  it('keeps context-scoped codes apart and deletes codes by scope and kind', async () => {
    const ctx = contextScope('cozy_beta');
    expect(ctx).toBe('context:cozy_beta');
    await putCode(db.kysely, ctx, 'oidc_delegated', 'D', { sub: 'u' }, CODE_TTL_MS.oidc_delegated, 0);
    await putCode(db.kysely, scope, 'nonce', 'N1', 1, null);
    await putCode(db.kysely, scope, 'nonce', 'N2', 2, null);
    await putCode(db.kysely, scope, 'magic_link', 'M', 3, null);
    expect(await deleteCodes(db.kysely, scope, 'nonce')).toBe(2);
    expect(await getCode(db.kysely, scope, 'magic_link', 'M')).not.toBeNull();
    expect((await getCode(db.kysely, ctx, 'oidc_delegated', 'D', 0))?.data).toEqual({ sub: 'u' });
  });
});
