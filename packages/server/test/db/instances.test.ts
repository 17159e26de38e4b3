import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/repositories/errors.js';
import {
  countInstances,
  createInstance,
  deleteInstance,
  getInstanceByDomain,
  getInstanceById,
  listInstances,
  updateInstance,
  updateInstanceIf,
} from '../../src/repositories/instances.js';
import { putSettings, getSettings } from '../../src/repositories/settings.js';
import { createSession } from '../../src/repositories/sessions.js';
import { putCode, getCode } from '../../src/repositories/codes.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/database.js';

describe.each(testEngines)('instances repository (%s)', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase(engine);
  });
  afterEach(() => db.close());

  it('creates an instance with generated secrets and defaults', async () => {
    const inst = await createInstance(db.kysely, { domain: 'alice.localhost:8080', locale: 'fr' }, 1000);
    expect(inst.id).toMatch(/^[0-9a-f]{32}$/);
    expect(inst.domain).toBe('alice.localhost:8080');
    expect(inst.locale).toBe('fr');
    expect(inst.authMode).toBe('basic');
    expect(inst.magicLink).toBe(false);
    expect(inst.blocked).toBe(false);
    expect(inst.onboardingFinished).toBe(false);
    expect(inst.passwordDefined).toBeNull();
    expect(inst.diskQuota).toBeNull();
    expect(inst.registerToken).toMatch(/^[0-9a-f]{32}$/);
    expect(Buffer.from(inst.sessionSecret, 'base64')).toHaveLength(64);
    expect(Buffer.from(inst.oauthSecret, 'base64')).toHaveLength(128);
    expect(Buffer.from(inst.cliSecret, 'base64')).toHaveLength(64);
    expect(inst.securityStamp).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(inst.featureFlags).toEqual({});
    expect(inst.featureSets).toEqual([]);
    expect(inst.passphraseKdfIterations).toBe(650_000);
    expect(inst.createdAt).toBe(1000);
    expect(await getInstanceById(db.kysely, inst.id)).toEqual(inst);
  });

  it('round-trips booleans, tri-state, JSON and big numbers', async () => {
    const inst = await createInstance(db.kysely, {
      domain: 'bob.example.net',
      magicLink: true,
      passwordDefined: false,
      diskQuota: 5_000_000_000_000,
      featureFlags: { 'cozy.oauthclients.max': 3, nested: { a: [1, 'x'] } },
      featureSets: ['premium'],
      sponsorships: ['springfield'],
      authMode: 'two_factor_mail',
      passphraseHash: 'scrypt$32768$8$1$00$11',
    });
    const got = await getInstanceById(db.kysely, inst.id);
    expect(got?.magicLink).toBe(true);
    expect(got?.passwordDefined).toBe(false);
    expect(got?.diskQuota).toBe(5_000_000_000_000);
    expect(got?.featureFlags).toEqual({ 'cozy.oauthclients.max': 3, nested: { a: [1, 'x'] } });
    expect(got?.featureSets).toEqual(['premium']);
    expect(got?.sponsorships).toEqual(['springfield']);
    expect(got?.authMode).toBe('two_factor_mail');
    expect(got?.registerToken).toBeNull(); // a passphrase was given
  });

  it('rejects a duplicate domain with ConflictError', async () => {
    await createInstance(db.kysely, { domain: 'dup.example' });
    await expect(createInstance(db.kysely, { domain: 'dup.example' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('finds an instance by domain, then by old domain', async () => {
    const inst = await createInstance(db.kysely, { domain: 'new.example', oldDomain: 'old.example' });
    expect(await getInstanceByDomain(db.kysely, 'new.example')).toEqual({ instance: inst, viaOldDomain: false });
    expect(await getInstanceByDomain(db.kysely, 'old.example')).toEqual({ instance: inst, viaOldDomain: true });
    expect(await getInstanceByDomain(db.kysely, 'other.example')).toBeNull();
  });

  it('lists instances by domain with keyset paging', async () => {
    for (const d of ['c.example', 'a.example', 'b.example']) await createInstance(db.kysely, { domain: d });
    expect((await listInstances(db.kysely)).map((i) => i.domain)).toEqual(['a.example', 'b.example', 'c.example']);
    expect((await listInstances(db.kysely, { limit: 1, after: 'a.example' })).map((i) => i.domain)).toEqual([
      'b.example',
    ]);
    expect(await countInstances(db.kysely)).toBe(3);
  });

  it('applies a partial patch and leaves other fields alone', async () => {
    const inst = await createInstance(db.kysely, { domain: 'p.example', tos: '1.0' }, 1000);
    const up = await updateInstance(
      db.kysely,
      inst.id,
      { blocked: true, blockingReason: 'LOGIN_FAILED', passwordDefined: true, registerToken: null, tos: undefined },
      2000,
    );
    expect(up).toMatchObject({ blocked: true, blockingReason: 'LOGIN_FAILED', passwordDefined: true, registerToken: null });
    expect(up?.tos).toBe('1.0');
    expect(up?.updatedAt).toBe(2000);
    expect(up?.sessionSecret).toBe(inst.sessionSecret);
    expect(await updateInstance(db.kysely, 'f'.repeat(32), { blocked: true })).toBeNull();
    await expect(updateInstance(db.kysely, inst.id, { authMode: 'nope' as never })).rejects.toThrow(
      /Unknown authentication mode/,
    );
  });

  it('updateInstanceIf applies the patch only while the expected values hold', async () => {
    const inst = await createInstance(db.kysely, { domain: 'cas.example' });
    const token = inst.registerToken!;
    const first = await updateInstanceIf(db.kysely, inst.id, { registerToken: token }, { registerToken: null, passphraseHash: 'h1' });
    expect(first).toMatchObject({ registerToken: null, passphraseHash: 'h1' });
    // The token was consumed: a second use with the same expectation does nothing.
    expect(await updateInstanceIf(db.kysely, inst.id, { registerToken: token }, { passphraseHash: 'h2' })).toBeNull();
    expect(await updateInstanceIf(db.kysely, inst.id, { registerToken: null, passphraseHash: 'h1' }, { passphraseHash: 'h2' })).toMatchObject({ passphraseHash: 'h2' });
    expect((await getInstanceById(db.kysely, inst.id))?.passphraseHash).toBe('h2');
  });

  it('refuses to rename onto a taken domain', async () => {
    await createInstance(db.kysely, { domain: 'one.example' });
    const two = await createInstance(db.kysely, { domain: 'two.example' });
    await expect(updateInstance(db.kysely, two.id, { domain: 'one.example' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('deletes an instance and everything attached to it', async () => {
    const inst = await createInstance(db.kysely, { domain: 'gone.example' });
    await putSettings(db.kysely, inst.id, { email: 'a@b.c' }, null);
    await createSession(db.kysely, { instanceId: inst.id });
    await putCode(db.kysely, inst.id, 'magic_link', 'abc', { x: 1 }, 60_000);
    expect(await deleteInstance(db.kysely, inst.id)).toBe(true);
    expect(await getInstanceById(db.kysely, inst.id)).toBeNull();
    expect(await getSettings(db.kysely, inst.id)).toBeNull();
    expect(await getCode(db.kysely, inst.id, 'magic_link', 'abc')).toBeNull();
    const sessions = await db.kysely.selectFrom('sessions').selectAll().execute();
    expect(sessions).toHaveLength(0);
    expect(await deleteInstance(db.kysely, inst.id)).toBe(false);
  });

  it('composes in a transaction (rollback undoes the creation)', async () => {
    await expect(
      db.kysely.transaction().execute(async (trx) => {
        await createInstance(trx, { domain: 'rollback.example' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await getInstanceByDomain(db.kysely, 'rollback.example')).toBeNull();
  });
});
