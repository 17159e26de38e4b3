// Admin API: health, and creating, listing, reading, changing and deleting instances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCapabilities, hashPassphrase } from '@hearth/client';
import {
  createInstance,
  deleteInstance,
  getAdminStatus,
  getInstance,
  listInstances,
  updateInstance,
  type AdminInstance,
} from '@hearth/client/admin';
import { hitRateLimit, peekRateLimit, RATE_LIMITS } from '../../src/repositories/rate-limits.js';
import { getSettings } from '../../src/repositories/settings.js';
import { sessionSecretKey, verifyJwt, verifyPassphrase } from '../../src/security/index.js';
import { loopbackFetch } from '../helpers/http.js';
import { ADMIN_PASSPHRASE, startTestServer, testEngines, type TestServer } from '../helpers/server.js';

type AdminClient = Parameters<typeof listInstances>[0] extends infer O ? NonNullable<O> extends { client?: infer C } ? NonNullable<C> : never : never;

describe.each(testEngines)('admin API: instances (%s)', (engine) => {
  let server: TestServer;
  let admin: AdminClient;
  const d = (name: string) => `${name}.test:${server.port}`;

  /** A raw request to the admin port (invalid JSON and the like). */
  const raw = (method: string, path: string, body?: string, password = ADMIN_PASSPHRASE) =>
    loopbackFetch(`http://127.0.0.1:${server.adminPort}${path}`, {
      method,
      body,
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
    });

  beforeAll(async () => {
    server = await startTestServer({ engine });
    admin = server.adminClient() as unknown as AdminClient;
  });
  afterAll(() => server.stop());

  describe('GET /status', () => {
    it('answers 200 without credentials', async () => {
      const res = await getAdminStatus({ client: server.adminClient({ password: 'wrong' }) as unknown as AdminClient });
      expect(res.response.status).toBe(200);
      expect(res.data).toEqual({ status: 'OK', database: 'healthy' });
    });
  });

  describe('authentication', () => {
    it('answers 401 without credentials, with WWW-Authenticate', async () => {
      const res = await loopbackFetch(`http://127.0.0.1:${server.adminPort}/instances`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="hearth-admin"');
      expect(await res.json()).toEqual({ error: 'missing admin credentials' });
    });

    it('answers 401 with a wrong passphrase', async () => {
      const wrong = server.adminClient({ password: 'not-the-passphrase' }) as unknown as AdminClient;
      for (const res of [
        await listInstances({ client: wrong }),
        await createInstance({ client: wrong, body: { domain: d('intruder') } }),
        await getInstance({ client: wrong, path: { domain: d('intruder') } }),
        await updateInstance({ client: wrong, path: { domain: d('intruder') }, body: {} }),
        await deleteInstance({ client: wrong, path: { domain: d('intruder') } }),
      ]) {
        expect(res.response.status).toBe(401);
        expect(res.response.headers.get('www-authenticate')).toBe('Basic realm="hearth-admin"');
        expect(res.error).toEqual({ error: 'invalid admin credentials' });
      }
      const list = await listInstances({ client: admin });
      expect(list.data?.instances.map((i) => i.domain)).not.toContain(d('intruder'));
    });
  });

  describe('POST /instances', () => {
    it('creates an instance that is not onboarded (201), with its register token', async () => {
      const res = await createInstance({
        client: admin,
        body: { domain: d('alice'), email: 'alice@example.com', locale: 'fr', timezone: 'Europe/Paris', uuid: 'u-1', tos_latest: '1.0.0' },
      });
      expect(res.response.status).toBe(201);
      const view = res.data!;
      expect(view).toMatchObject({
        domain: d('alice'),
        email: 'alice@example.com',
        public_name: 'alice', // the first label of the domain
        locale: 'fr',
        timezone: 'Europe/Paris',
        context: 'default',
        kdf_iterations: 650000,
        auth_mode: 'basic',
        magic_link: false,
        oidc_id: null,
        franceconnect_id: null,
        disk_quota: null,
        feature_flags: {},
        feature_sets: [],
        sponsorships: [],
        tos: null,
        tos_latest: '1.0.0',
        uuid: 'u-1',
        onboarding_finished: false,
        password_defined: false,
        blocked: false,
        blocking_reason: null,
        old_domain: null,
      });
      expect(view.register_token).toMatch(/^[0-9a-f]{32}$/);
      expect((await server.instance(d('alice'))).registerToken).toBe(view.register_token);
      expect(await server.mails(await server.instance(d('alice')))).toEqual([]);
    });

    it('creates an onboarded instance with a passphrase (201): hashed as a client would', async () => {
      const res = await createInstance({
        client: admin,
        body: {
          domain: d('bob'),
          email: 'bob@example.com',
          public_name: 'Bob',
          passphrase: 'correct horse',
          kdf_iterations: 50000,
          auth_mode: 'two_factor_mail',
          context: 'cozy_beta',
          disk_quota: 5000000000,
          feature_flags: { 'cozy.oauthclients.max': 3 },
          feature_sets: ['premium'],
          sponsorships: ['springfield'],
          magic_link: true,
          oidc_id: 'sub-1',
        },
      });
      expect(res.response.status).toBe(201);
      expect(res.data).toMatchObject({
        public_name: 'Bob',
        kdf_iterations: 50000,
        auth_mode: 'two_factor_mail',
        context: 'cozy_beta',
        disk_quota: 5000000000,
        feature_flags: { 'cozy.oauthclients.max': 3 },
        feature_sets: ['premium'],
        sponsorships: ['springfield'],
        magic_link: true,
        oidc_id: 'sub-1',
        onboarding_finished: true,
        password_defined: true,
      });
      expect(res.data).not.toHaveProperty('register_token');
      const stored = await server.instance(d('bob'));
      expect(stored.registerToken).toBeNull();
      const clientHash = await hashPassphrase('correct horse', d('bob'), 50000);
      expect((await verifyPassphrase(clientHash, stored.passphraseHash)).ok).toBe(true);
      expect((await verifyPassphrase(await hashPassphrase('wrong', d('bob'), 50000), stored.passphraseHash)).ok).toBe(false);
    });

    it('answers 409 for a taken domain', async () => {
      await server.createInstance('taken');
      const res = await createInstance({ client: admin, body: { domain: d('taken'), email: 'other@example.com' } });
      expect(res.response.status).toBe(409);
      expect(res.error).toEqual({ error: 'instance already exists' });
      const settings = await getSettings(server.hearth.services.db, (await server.instance(d('taken'))).id);
      expect(settings?.doc.email).toBe('taken@example.net');
    });

    it.each([
      [{}, { error: 'domain is required', field: 'domain' }],
      [{ domain: 'Alice.Localhost' }, { error: 'invalid domain: Alice.Localhost', field: 'domain' }],
      [{ domain: 'x.test', kdf_iterations: 1000, passphrase: 'p' }, { error: 'kdf_iterations must be between 50000 and 5000000', field: 'kdf_iterations' }],
      [{ domain: 'x.test', kdf_iterations: 100000 }, { error: 'kdf_iterations requires passphrase', field: 'kdf_iterations' }],
      [{ domain: 'x.test', auth_mode: 'two_factor_mail' }, { error: 'two_factor_mail requires an email', field: 'auth_mode' }],
      [{ domain: 'x.test', auth_mode: 'two_factor_oidc' }, { error: 'auth_mode must be one of basic, two_factor_mail', field: 'auth_mode' }],
      [{ domain: 'x.test', password: 'secret' }, { error: 'unknown field', field: 'password' }],
      [{ domain: 'x.test', email: 'not-an-email' }, { error: 'email must be a valid email', field: 'email' }],
      [{ domain: 'x.test', magic_link: 'yes' }, { error: 'magic_link must be a boolean', field: 'magic_link' }],
      [{ domain: 'x.test', feature_sets: [1] }, { error: 'feature_sets must be a string', field: 'feature_sets.0' }],
    ])('answers 400 for %j', async (body, expected) => {
      const res = await createInstance({ client: admin, body: body as never });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual(expected);
      const list = await listInstances({ client: admin });
      expect(list.data?.instances.map((i) => i.domain)).not.toContain('x.test');
    });

    it('answers 400 for a body that is not JSON or not an object', async () => {
      for (const body of ['{"domain":', '[]', '"x.test"']) {
        const res = await raw('POST', '/instances', body);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({ error: 'invalid JSON body' });
      }
    });
  });

  describe('GET /instances and GET /instances/{domain}', () => {
    it('lists every instance sorted by domain, with count (200)', async () => {
      await server.createInstance('zed');
      await server.createInstance('adam');
      const res = await listInstances({ client: admin });
      expect(res.response.status).toBe(200);
      const domains = res.data!.instances.map((i) => i.domain);
      expect(res.data!.count).toBe(domains.length);
      expect(domains).toEqual([...domains].sort());
      expect(domains).toEqual(expect.arrayContaining([d('adam'), d('zed'), d('alice'), d('bob')]));
    });

    it('reads an instance (200), with the port as is or %3A-encoded', async () => {
      const a = await getInstance({ client: admin, path: { domain: d('alice') } });
      expect(a.response.status).toBe(200);
      expect(a.data?.email).toBe('alice@example.com');
      const encoded = await raw('GET', `/instances/alice.test%3A${server.port}`);
      expect(encoded.status).toBe(200);
      expect(((await encoded.json()) as AdminInstance).domain).toBe(d('alice'));
    });

    it('answers 404 for an unknown domain, even one too long to exist', async () => {
      const res = await getInstance({ client: admin, path: { domain: d('nobody') } });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'instance not found' });
      const long = await getInstance({ client: admin, path: { domain: `${'a'.repeat(300)}.test` } });
      expect(long.response.status).toBe(404);
      expect(long.error).toEqual({ error: 'instance not found' });
    });

    it('does not answer for an old domain', async () => {
      await server.createInstance('moved');
      await updateInstance({ client: admin, path: { domain: d('moved') }, body: { old_domain: 'moved.oldhost.example' } });
      const res = await getInstance({ client: admin, path: { domain: 'moved.oldhost.example' } });
      expect(res.response.status).toBe(404);
    });
  });

  describe('PATCH /instances/{domain}', () => {
    it('changes only the given fields; {} changes nothing (200)', async () => {
      await server.createInstance('carol');
      const before = await getInstance({ client: admin, path: { domain: d('carol') } });
      const same = await updateInstance({ client: admin, path: { domain: d('carol') }, body: {} });
      expect(same.response.status).toBe(200);
      expect(same.data).toEqual(before.data);
      const res = await updateInstance({
        client: admin,
        path: { domain: d('carol') },
        body: {
          public_name: 'Carol',
          email: 'carol@new.example',
          timezone: 'Europe/Berlin',
          locale: 'de',
          disk_quota: 10,
          feature_flags: { a: 1 },
          feature_sets: ['x'],
          tos: '1.0',
          uuid: 'uuid-carol',
          magic_link: true,
        },
      });
      expect(res.response.status).toBe(200);
      expect(res.data).toMatchObject({
        public_name: 'Carol',
        email: 'carol@new.example',
        timezone: 'Europe/Berlin',
        locale: 'de',
        disk_quota: 10,
        feature_flags: { a: 1 },
        feature_sets: ['x'],
        tos: '1.0',
        uuid: 'uuid-carol',
        magic_link: true,
      });
      // feature_flags replace the map; null removes optional values.
      const again = await updateInstance({
        client: admin,
        path: { domain: d('carol') },
        body: { feature_flags: { b: true }, disk_quota: null, timezone: null, email: null, uuid: null },
      });
      expect(again.data).toMatchObject({ feature_flags: { b: true }, disk_quota: null, timezone: null, email: null, uuid: null, public_name: 'Carol' });
      const read = await getInstance({ client: admin, path: { domain: d('carol') } });
      expect(read.data).toEqual(again.data);
    });

    it('blocks (reason UNKNOWN by default) and unblocks, resetting the auth counter', async () => {
      const dave = await server.createInstance('dave');
      const blocked = await updateInstance({ client: admin, path: { domain: d('dave') }, body: { blocked: true } });
      expect(blocked.data).toMatchObject({ blocked: true, blocking_reason: 'UNKNOWN' });
      const reason = await updateInstance({ client: admin, path: { domain: d('dave') }, body: { blocking_reason: 'PAYMENT_FAILED' } });
      expect(reason.data).toMatchObject({ blocked: true, blocking_reason: 'PAYMENT_FAILED' });
      const db = server.hearth.services.db;
      for (let i = 0; i < 3; i++) await hitRateLimit(db, dave.id, 'auth', RATE_LIMITS.auth.windowMs);
      expect(await peekRateLimit(db, dave.id, 'auth', RATE_LIMITS.auth.windowMs)).toBe(3);
      const unblocked = await updateInstance({ client: admin, path: { domain: d('dave') }, body: { blocked: false } });
      expect(unblocked.data).toMatchObject({ blocked: false, blocking_reason: null });
      expect(await peekRateLimit(db, dave.id, 'auth', RATE_LIMITS.auth.windowMs)).toBe(0);
      expect((await server.instance(d('dave'))).blockingReason).toBeNull();
    });

    it('sets a passphrase: new session secret, onboarding finished, register token cleared', async () => {
      const eve = await server.createInstance('eve');
      expect(eve.onboardingFinished).toBe(false);
      const oauthSecret = eve.oauthSecret;
      const res = await updateInstance({ client: admin, path: { domain: d('eve') }, body: { passphrase: 'new pass', kdf_iterations: 50000 } });
      expect(res.response.status).toBe(200);
      expect(res.data).toMatchObject({ onboarding_finished: true, password_defined: true, kdf_iterations: 50000 });
      expect(res.data).not.toHaveProperty('register_token');
      const after = await server.instance(d('eve'));
      expect(after.registerToken).toBeNull();
      expect(after.sessionSecret).not.toBe(eve.sessionSecret);
      expect(after.oauthSecret).toBe(oauthSecret);
      expect((await verifyPassphrase(await hashPassphrase('new pass', d('eve'), 50000), after.passphraseHash)).ok).toBe(true);
    });

    it('keeps the onboarding open when the body says so', async () => {
      await server.createInstance('fay');
      const res = await updateInstance({ client: admin, path: { domain: d('fay') }, body: { passphrase: 'p', kdf_iterations: 50000, onboarding_finished: false } });
      expect(res.data).toMatchObject({ onboarding_finished: false, password_defined: true });
      expect(res.data?.register_token).toMatch(/^[0-9a-f]{32}$/);
    });

    it('old_domain becomes the salt domain of the passphrase', async () => {
      await server.createInstance('gus', { passphrase: 'old', kdf_iterations: 50000 });
      const res = await updateInstance({
        client: admin,
        path: { domain: d('gus') },
        body: { old_domain: 'gus.oldhost.example', passphrase: 'moved pass', kdf_iterations: 50000, tos: '1.0' },
      });
      expect(res.data).toMatchObject({ old_domain: 'gus.oldhost.example', tos: '1.0' });
      const stored = await server.instance(d('gus'));
      expect((await verifyPassphrase(await hashPassphrase('moved pass', 'gus.oldhost.example', 50000), stored.passphraseHash)).ok).toBe(true);
      expect((await verifyPassphrase(await hashPassphrase('moved pass', d('gus'), 50000), stored.passphraseHash)).ok).toBe(false);
    });

    it('a new passphrase makes webapp tokens invalid but keeps CLI tokens', async () => {
      const hal = await server.createInstance('hal', { passphrase: 'p', kdf_iterations: 50000 });
      const cli = await server.token(hal, 'cli', { scope: 'io.cozy.settings' });
      const app = await server.token(hal, 'app', { sub: 'drive' });
      const verifyApp = async () =>
        verifyJwt(sessionSecretKey((await server.instance(d('hal'))).sessionSecret), app, { audience: 'app', issuers: [d('hal')] });
      expect((await verifyApp()).ok).toBe(true);
      await updateInstance({ client: admin, path: { domain: d('hal') }, body: { passphrase: 'q', kdf_iterations: 50000 } });
      expect((await verifyApp()).ok).toBe(false);
      const res = await getCapabilities({ client: server.client(d('hal'), { token: cli }) });
      expect(res.response.status).toBe(200);
    });

    it('switches to two-factor by mail only with an email', async () => {
      await createInstance({ client: admin, body: { domain: d('ivy') } });
      const refused = await updateInstance({ client: admin, path: { domain: d('ivy') }, body: { auth_mode: 'two_factor_mail' } });
      expect(refused.response.status).toBe(400);
      expect(refused.error).toEqual({ error: 'two_factor_mail requires an email', field: 'auth_mode' });
      const ok = await updateInstance({ client: admin, path: { domain: d('ivy') }, body: { auth_mode: 'two_factor_mail', email: 'ivy@example.com' } });
      expect(ok.data).toMatchObject({ auth_mode: 'two_factor_mail', email: 'ivy@example.com' });
      const removeEmail = await updateInstance({ client: admin, path: { domain: d('ivy') }, body: { email: null } });
      expect(removeEmail.response.status).toBe(400);
      expect(removeEmail.error).toEqual({ error: 'two_factor_mail requires an email', field: 'email' });
      expect((await getInstance({ client: admin, path: { domain: d('ivy') } })).data?.email).toBe('ivy@example.com');
    });

    it.each([
      [{ blocking_reason: 'SOMETHING' }, { error: 'blocking_reason must be one of LOGIN_FAILED, PAYMENT_FAILED, IMPORTING, MOVING, UNKNOWN', field: 'blocking_reason' }],
      [{ blocking_reason: 'PAYMENT_FAILED' }, { error: 'blocking_reason requires blocked', field: 'blocking_reason' }],
      [{ blocked: false, blocking_reason: 'MOVING' }, { error: 'blocking_reason requires blocked', field: 'blocking_reason' }],
      [{ domain: 'other.test' }, { error: 'unknown field', field: 'domain' }],
      [{ kdf_iterations: 100000 }, { error: 'kdf_iterations requires passphrase', field: 'kdf_iterations' }],
      [{ old_domain: 'Not A Domain' }, { error: 'invalid old_domain: Not A Domain', field: 'old_domain' }],
      [{ public_name: null }, { error: 'public_name must be a string', field: 'public_name' }],
    ])('answers 400 for %j and changes nothing', async (body, expected) => {
      await server.createInstance('jay').catch(() => undefined);
      const before = await getInstance({ client: admin, path: { domain: d('jay') } });
      const res = await updateInstance({ client: admin, path: { domain: d('jay') }, body: body as never });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual(expected);
      expect((await getInstance({ client: admin, path: { domain: d('jay') } })).data).toEqual(before.data);
    });

    it('answers 404 for an unknown domain', async () => {
      const res = await updateInstance({ client: admin, path: { domain: d('nobody') }, body: { blocked: true } });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'instance not found' });
    });
  });

  describe('DELETE /instances/{domain}', () => {
    it('deletes the instance (204): its host answers 404, the domain can be created again', async () => {
      const kim = await server.createInstance('kim');
      const token = await server.token(kim, 'cli', { scope: 'io.cozy.settings' });
      expect((await getCapabilities({ client: server.client(d('kim'), { token }) })).response.status).toBe(200);
      const res = await deleteInstance({ client: admin, path: { domain: d('kim') } });
      expect(res.response.status).toBe(204);
      expect((await getInstance({ client: admin, path: { domain: d('kim') } })).response.status).toBe(404);
      expect((await getCapabilities({ client: server.client(d('kim'), { token }) })).response.status).toBe(404);
      const again = await deleteInstance({ client: admin, path: { domain: d('kim') } });
      expect(again.response.status).toBe(404);
      expect(again.error).toEqual({ error: 'instance not found' });
      expect((await createInstance({ client: admin, body: { domain: d('kim') } })).response.status).toBe(201);
    });
  });
});

describe.each(testEngines)('admin API: status with a dead database (%s)', (engine) => {
  it('answers 503 when the database does not answer', async () => {
    const server = await startTestServer({ engine });
    await server.hearth.services.database.close();
    try {
      const res = await getAdminStatus({ client: server.adminClient() as unknown as AdminClient });
      expect(res.response.status).toBe(503);
      expect(res.data ?? res.error).toEqual({ status: 'KO', database: 'unhealthy' });
    } finally {
      await server.stop().catch(() => undefined);
    }
  });
});
