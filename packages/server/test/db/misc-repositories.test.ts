import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getApp, installApp, listApps, uninstallApp } from '../../src/repositories/apps.js';
import { deleteAvatar, getAvatar, putAvatar } from '../../src/repositories/avatars.js';
import { ConflictError } from '../../src/repositories/errors.js';
import {
  deleteFeatureFlagSource,
  getFeatureFlagSource,
  putFeatureFlagSource,
} from '../../src/repositories/feature-flags.js';
import { createInstance } from '../../src/repositories/instances.js';
import {
  getNotification,
  insertNotification,
  lastNotificationBySource,
  setNotificationLastSent,
} from '../../src/repositories/notifications.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/database.js';

describe.each(testEngines)('apps, avatars, notifications, feature flags (%s)', (engine) => {
  let db: TestDatabase;
  let instanceId: string;
  beforeEach(async () => {
    db = await createTestDatabase(engine);
    instanceId = (await createInstance(db.kysely, { domain: 'alice.example' })).id;
  });
  afterEach(() => db.close());

  it('installs, reads and lists apps; a taken slug is a conflict', async () => {
    const perms = { files: { type: 'io.cozy.files', verbs: ['GET'] } };
    const drive = await installApp(db.kysely, { instanceId, slug: 'drive', type: 'webapp', name: 'Drive', editor: 'Cozy', permissions: perms, now: 9 });
    expect(drive).toEqual({ instanceId, slug: 'drive', type: 'webapp', name: 'Drive', editor: 'Cozy', version: null, permissions: perms, notifications: {}, createdAt: 9 });
    const ameli = await installApp(db.kysely, { instanceId, slug: 'ameli', type: 'konnector' });
    expect(ameli.name).toBe('ameli');
    await expect(installApp(db.kysely, { instanceId, slug: 'drive', type: 'konnector' })).rejects.toBeInstanceOf(ConflictError);
    expect(await getApp(db.kysely, instanceId, 'drive')).toEqual(drive);
    expect(await getApp(db.kysely, instanceId, 'drive', 'konnector')).toBeNull();
    expect((await listApps(db.kysely, instanceId)).map((a) => a.slug)).toEqual(['ameli', 'drive']);
    expect((await listApps(db.kysely, instanceId, 'webapp')).map((a) => a.slug)).toEqual(['drive']);
    expect(await uninstallApp(db.kysely, instanceId, 'drive')).toBe(true);
    expect(await getApp(db.kysely, instanceId, 'drive')).toBeNull();
  });

  it('stores binary avatars byte for byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await putAvatar(db.kysely, instanceId, 'image/png', bytes, 1);
    expect(await getAvatar(db.kysely, instanceId)).toEqual({ contentType: 'image/png', data: bytes, updatedAt: 1 });
    await putAvatar(db.kysely, instanceId, 'image/jpeg', new Uint8Array([0, 255, 0]), 2);
    const got = await getAvatar(db.kysely, instanceId);
    expect(got?.contentType).toBe('image/jpeg');
    expect([...got!.data]).toEqual([0, 255, 0]);
    expect(await deleteAvatar(db.kysely, instanceId)).toBe(true);
    expect(await getAvatar(db.kysely, instanceId)).toBeNull();
  });

  it('answers the last notification of a source', async () => {
    const src = 'cozy/app/drive/shared_file/';
    expect(await lastNotificationBySource(db.kysely, instanceId, src)).toBeNull();
    await insertNotification(db.kysely, { instanceId, sourceId: src, doc: { title: 'one' }, state: 1, createdAt: 10 });
    const second = await insertNotification(db.kysely, { instanceId, sourceId: src, doc: { title: 'two' }, state: { s: 'x' }, createdAt: 20, lastSent: null });
    await insertNotification(db.kysely, { instanceId, sourceId: 'other', doc: { title: 'three' }, createdAt: 30 });
    const last = await lastNotificationBySource(db.kysely, instanceId, src);
    expect(last).toEqual(second);
    expect(last).toMatchObject({ doc: { title: 'two' }, state: { s: 'x' }, lastSent: null });
    await setNotificationLastSent(db.kysely, second.id, 25);
    expect((await getNotification(db.kysely, instanceId, second.id))?.lastSent).toBe(25);
    const noState = await lastNotificationBySource(db.kysely, instanceId, 'other');
    expect(noState?.state).toBeNull();
    expect(noState?.lastSent).toBe(30);
  });

  it('gets and puts feature-flag sources', async () => {
    expect(await getFeatureFlagSource(db.kysely, 'default')).toBeNull();
    await putFeatureFlagSource(db.kysely, 'default', 'ignored', { a: 1 });
    await putFeatureFlagSource(db.kysely, 'context', 'cozy_beta', { b: [{ ratio: 0.5, value: true }] });
    expect(await getFeatureFlagSource(db.kysely, 'default')).toEqual({ a: 1 });
    expect(await getFeatureFlagSource(db.kysely, 'context', 'cozy_beta')).toEqual({ b: [{ ratio: 0.5, value: true }] });
    expect(await getFeatureFlagSource(db.kysely, 'context', 'other')).toBeNull();
    await putFeatureFlagSource(db.kysely, 'default', '', { a: 2 });
    expect(await getFeatureFlagSource(db.kysely, 'default')).toEqual({ a: 2 });
    expect(await deleteFeatureFlagSource(db.kysely, 'context', 'cozy_beta')).toBe(true);
  });
});
