// GET /settings/flags, /settings/disk-usage and /settings/clients-usage.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getClientsUsage, getDiskUsage, getFeatureFlags } from '@hearth/client';
import { crc32 } from '../../../src/domain/flags.js';
import { putFeatureFlagSource } from '../../../src/repositories/feature-flags.js';
import { updateInstance, type Instance } from '../../../src/repositories/instances.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { appToken, cliToken, closedPort, oauthToken, registerTokenClient, startFakeUpstream, type FakeUpstream } from './fixtures.js';

/** The bucket of an instance for a flag, computed with Node's own crc32. */
const bucket = (id: string, flag: string) => zlibCrc32(`${id}:${flag}`) / 2 ** 32;

describe('crc32', () => {
  it('matches the IEEE check value and Node’s zlib', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    for (const s of ['', 'a', 'instance:flag', 'é€😀']) expect(crc32(s)).toBe(zlibCrc32(s));
  });
});

describe.each(testEngines)('flags and usage (%s)', (engine) => {
  let server: TestServer;
  let manager: FakeUpstream;

  beforeAll(async () => {
    manager = await startFakeUpstream();
    manager.on((r) =>
      r.method === 'GET' && r.url.startsWith('/api/v1/features?')
        ? { status: 200, json: { flags: { manager_flag: 5, shared: 'manager', config_only: 'manager' } } }
        : undefined,
    );
    server = await startTestServer({
      engine,
      configYaml: [
        'contexts:',
        '  managed:',
        `    manager_url: ${manager.url}`,
        '    features:',
        '      - config_only: config',
        '      - shared: config',
        '      - listed_flag',
        '  dead:',
        `    manager_url: http://127.0.0.1:${await closedPort()}`,
        '    features:',
        '      config_only: config-dead',
        'clouderies:',
        '  managed:',
        '    api:',
        `      url: ${manager.url}`,
        '      token: flags-token',
        'feature_flags:',
        '  default:',
        '    default_flag: 1',
        '    shared: default',
        '    overridden_default: config-default',
        '  contexts:',
        '    managed:',
        '      ratio_all:',
        '        - ratio: 1',
        '          value: everyone',
        '      ratio_half:',
        '        - ratio: 0.5',
        '          value: first-half',
        '        - ratio: 0.5',
        '          value: second-half',
        '      ratio_nobody:',
        '        - ratio: 0',
        '          value: nobody',
      ].join('\n'),
    });
    await putFeatureFlagSource(server.hearth.services.db, 'context', 'managed', { stored_ctx: [{ ratio: 1, value: 'stored' }], ratio_all: [{ ratio: 1, value: 'stored-wins' }] });
    await putFeatureFlagSource(server.hearth.services.db, 'default', '', { stored_default: true, overridden_default: 'stored-default' });
  });
  afterAll(async () => {
    await server.stop();
    await manager.close();
  });

  const unknownHost = () => `nobody.test:${server.port}`;

  describe('GET /settings/flags', () => {
    let rich: Instance;
    beforeAll(async () => {
      rich = await server.createInstance('rich', {
        context: 'managed',
        feature_sets: ['s1', 's2'],
        feature_flags: { instance_flag: true, shared: 'instance', 'cozy.oauthclients.max': 3 },
      });
    });

    it('answers 403 for every token failure and 404 for an unknown host', async () => {
      for (const token of [undefined, 'bad.bad.bad']) {
        const res = await getFeatureFlags({ client: server.client(rich.domain, { token }) });
        expect(res.response.status).toBe(403);
        expect(res.error).toEqual({ error: 'Forbidden' });
      }
      const bob = await server.createInstance('flags-bob');
      expect((await getFeatureFlags({ client: server.client(rich.domain, { token: await cliToken(server, bob) }) })).response.status).toBe(403);
      expect((await getFeatureFlags({ client: server.client(unknownHost(), { token: await cliToken(server, rich) }) })).response.status).toBe(404);
    });

    it('merges the five sources, first one wins', async () => {
      const before = manager.requests.length;
      const res = await getFeatureFlags({ client: server.client(rich.domain, { token: await appToken(server, rich, 'home') }) });
      expect(res.response.status).toBe(200);
      const half = bucket(rich.id, 'ratio_half') < 0.5 ? 'first-half' : 'second-half';
      expect(res.data).toEqual({
        data: {
          type: 'io.cozy.settings',
          id: 'io.cozy.settings.flags',
          attributes: {
            instance_flag: true,
            shared: 'instance',
            'cozy.oauthclients.max': 3,
            manager_flag: 5,
            config_only: 'manager',
            listed_flag: true,
            ratio_all: 'stored-wins',
            ratio_half: half,
            stored_ctx: 'stored',
            default_flag: 1,
            overridden_default: 'stored-default',
            stored_default: true,
          },
          meta: {},
          links: { self: '/settings/flags' },
        },
      });
      const calls = manager.requests.slice(before);
      expect(calls).toHaveLength(1);
      const url = new URL(calls[0]!.url, manager.url);
      expect(url.pathname).toBe('/api/v1/features');
      expect(url.searchParams.get('sets')).toBe('s1,s2');
      expect(url.searchParams.get('context')).toBe('managed');
      expect(calls[0]!.headers.authorization).toBe('Bearer flags-token');
    });

    it('caches the manager answer, and lists the sources with ?include', async () => {
      const before = manager.requests.length;
      const res = await getFeatureFlags({ client: server.client(rich.domain, { token: await cliToken(server, rich, 'io.cozy.files') }), query: { include: 'source' } });
      expect(res.response.status).toBe(200);
      expect(manager.requests.length).toBe(before);
      const included = res.data!.included!;
      expect(included.map((s) => s.id)).toEqual([
        'io.cozy.settings.flags.instance',
        'io.cozy.settings.flags.manager',
        'io.cozy.settings.flags.config',
        'io.cozy.settings.flags.context',
        'io.cozy.settings.flags.default',
      ]);
      for (const s of included) expect(s).toMatchObject({ type: 'io.cozy.settings', meta: {}, links: { self: '/settings/flags' } });
      expect(included[0]!.attributes).toEqual({ instance_flag: true, shared: 'instance', 'cozy.oauthclients.max': 3 });
      expect(included[1]!.attributes).toEqual({ sets: ['s1', 's2'], manager_flag: 5, shared: 'manager', config_only: 'manager' });
      expect(included[2]!.attributes).toEqual({ config_only: 'config', shared: 'config', listed_flag: true });
      expect(included[3]!.attributes).toMatchObject({ stored_ctx: [{ ratio: 1, value: 'stored' }], ratio_nobody: [{ ratio: 0, value: 'nobody' }] });
      expect(included[4]!.attributes).toEqual({ default_flag: 1, shared: 'default', overridden_default: 'stored-default', stored_default: true });
      const plain = await getFeatureFlags({ client: server.client(rich.domain, { token: await cliToken(server, rich) }), query: { include: '' } });
      expect(plain.data!).not.toHaveProperty('included');
    });

    it('does not ask the manager without feature sets; skips a failing manager', async () => {
      const plain = await server.createInstance('flags-plain', { context: 'managed' });
      const before = manager.requests.length;
      const res = await getFeatureFlags({ client: registerTokenClient(plain.domain, plain.registerToken!), query: {} as never });
      expect(res.response.status).toBe(200);
      expect(manager.requests.length).toBe(before);
      expect(res.data!.data.attributes).toMatchObject({ config_only: 'config', shared: 'config', ratio_all: 'stored-wins' });
      const dead = await server.createInstance('flags-dead', { context: 'dead', feature_sets: ['s1'] });
      const deadRes = await getFeatureFlags({ client: server.client(dead.domain, { token: await cliToken(server, dead) }), query: { include: 'yes' } });
      expect(deadRes.response.status).toBe(200);
      expect(deadRes.data!.data.attributes).toMatchObject({ config_only: 'config-dead', shared: 'default', default_flag: 1 });
      expect(deadRes.data!.included![1]!.attributes).toEqual({});
    });

    it('buckets ratios by crc32 of "<instance id>:<flag>"', async () => {
      for (let i = 0; i < 8; i++) {
        const inst = await server.createInstance(`ratio-${i}`, { context: 'managed' });
        const res = await getFeatureFlags({ client: server.client(inst.domain, { token: await cliToken(server, inst) }) });
        const value = res.data!.data.attributes.ratio_half;
        expect(value).toBe(bucket(inst.id, 'ratio_half') < 0.5 ? 'first-half' : 'second-half');
        expect(res.data!.data.attributes).not.toHaveProperty('ratio_nobody');
      }
    });
  });

  describe('GET /settings/disk-usage', () => {
    let disk: Instance;
    beforeAll(async () => {
      disk = await server.createInstance('disk', { disk_quota: 5_000_000_000, passphrase: 'pw disk', kdf_iterations: 50000 });
      await updateInstance(server.hearth.services.db, disk.id, { diskFilesBytes: 10_305_070, diskVersionsBytes: 2_040_608, diskTrashBytes: 456_789 });
    });
    const usage = (inst: Instance, opts: { token?: string; cookie?: string }, include?: 'trash') =>
      getDiskUsage({ client: server.client(inst.domain, opts), ...(include ? { query: { include } } : {}) });

    it('gives the sizes as strings, with the quota and, on demand, the trash', async () => {
      const token = await cliToken(server, disk, 'io.cozy.settings:GET');
      const res = await usage(disk, { token });
      expect(res.response.status).toBe(200);
      expect(res.data).toEqual({
        data: {
          type: 'io.cozy.settings',
          id: 'io.cozy.settings.disk-usage',
          attributes: { used: '12345678', quota: '5000000000', files: '10305070', versions: '2040608' },
          meta: {},
          links: { self: '/settings/disk-usage' },
        },
      });
      const withTrash = await usage(disk, { token }, 'trash');
      expect(withTrash.data!.data.attributes.trash).toBe('456789');
    });

    it('omits the quota when there is none (null or 0)', async () => {
      const free = await server.createInstance('disk-free');
      const token = await cliToken(server, free);
      expect((await usage(free, { token })).data!.data.attributes).toEqual({ used: '0', files: '0', versions: '0' });
      await updateInstance(server.hearth.services.db, free.id, { diskQuota: 0 });
      expect((await usage(free, { token })).data!.data.attributes).not.toHaveProperty('quota');
    });

    it('accepts the id-only permission and a POST permission on io.cozy.files', async () => {
      for (const scope of ['io.cozy.settings:GET:io.cozy.settings.disk-usage', 'io.cozy.files:POST:some-folder-id']) {
        const res = await usage(disk, { token: await cliToken(server, disk, scope) });
        expect(res.response.status).toBe(200);
      }
    });

    it('accepts a webapp token with the session cookie, not without it', async () => {
      const { cookie, sessionId } = await server.login(disk);
      const token = await appToken(server, disk, 'photos', { files: { type: 'io.cozy.files', verbs: ['GET'] } });
      expect((await usage(disk, { token, cookie })).response.status).toBe(200);
      const withSession = await server.token(disk, 'app', { sub: 'photos', session_id: sessionId });
      expect((await usage(disk, { token: withSession, cookie })).response.status).toBe(200);
      const alone = await usage(disk, { token });
      expect(alone.response.status).toBe(403);
      expect(alone.error).toEqual({ error: 'Forbidden' });
    });

    it('answers 403 without the permission, 401 without a token, 400 for a bad one, 404 for an unknown host', async () => {
      for (const scope of ['io.cozy.files:GET', 'io.cozy.settings:GET:io.cozy.settings.instance']) {
        const res = await usage(disk, { token: await cliToken(server, disk, scope) });
        expect(res.response.status).toBe(403);
      }
      expect((await usage(disk, {})).response.status).toBe(401);
      const bad = await usage(disk, { token: 'a.b.c' });
      expect(bad.response.status).toBe(400);
      expect(bad.error).toEqual({ error: 'Invalid JWT token' });
      expect((await getDiskUsage({ client: server.client(unknownHost(), { token: await cliToken(server, disk) }) })).response.status).toBe(404);
    });
  });

  describe('GET /settings/clients-usage', () => {
    const clientsUsage = (inst: Instance, token?: string) => getClientsUsage({ client: server.client(inst.domain, { token }) });

    it('counts the connected clients against cozy.oauthclients.max', async () => {
      const inst = await server.createInstance('clients', { feature_flags: { 'cozy.oauthclients.max': 2 } });
      const token = await cliToken(server, inst, 'io.cozy.settings:GET:io.cozy.settings.clients-usage');
      const first = await clientsUsage(inst, token);
      expect(first.response.status).toBe(200);
      expect(first.data).toEqual({
        data: {
          type: 'io.cozy.settings',
          id: 'io.cozy.settings.clients-usage',
          attributes: { limit: 2, count: 0, limitReached: false, limitExceeded: false },
          meta: {},
          links: { self: '/settings/clients-usage' },
        },
      });
      await oauthToken(server, inst, 'io.cozy.files', { kind: 'desktop' });
      await oauthToken(server, inst, 'io.cozy.files', { kind: null });
      await oauthToken(server, inst, 'io.cozy.files', { kind: '' });
      await oauthToken(server, inst, 'io.cozy.files', { kind: 'mobile' });
      expect((await clientsUsage(inst, token)).data!.data.attributes).toEqual({ limit: 2, count: 2, limitReached: true, limitExceeded: false });
      await oauthToken(server, inst, 'io.cozy.files', { kind: 'browser' });
      expect((await clientsUsage(inst, token)).data!.data.attributes).toEqual({ limit: 2, count: 3, limitReached: true, limitExceeded: true });
    });

    it('has no limit when the flag is missing or negative', async () => {
      const none = await server.createInstance('clients-none');
      await oauthToken(server, none, 'io.cozy.files');
      expect((await clientsUsage(none, await cliToken(server, none))).data!.data.attributes).toEqual({ count: 1, limitReached: false, limitExceeded: false });
      const negative = await server.createInstance('clients-neg', { feature_flags: { 'cozy.oauthclients.max': -1 } });
      expect((await clientsUsage(negative, await cliToken(server, negative))).data!.data.attributes).toEqual({ count: 0, limitReached: false, limitExceeded: false });
    });

    it('reads the limit from the other flag sources too (context rollout)', async () => {
      await putFeatureFlagSource(server.hearth.services.db, 'context', 'limited', { 'cozy.oauthclients.max': [{ ratio: 1, value: 0 }] });
      const inst = await server.createInstance('clients-ctx', { context: 'limited' });
      expect((await clientsUsage(inst, await cliToken(server, inst))).data!.data.attributes).toEqual({ limit: 0, count: 0, limitReached: true, limitExceeded: false });
    });

    it('answers 403 without the permission, 401 without a token, 400 for a bad one, 404 for an unknown host', async () => {
      const inst = await server.createInstance('clients-auth');
      const forbidden = await clientsUsage(inst, await cliToken(server, inst, 'io.cozy.settings:GET:io.cozy.settings.disk-usage'));
      expect(forbidden.response.status).toBe(403);
      expect(forbidden.error).toEqual({ error: 'Forbidden' });
      expect((await clientsUsage(inst)).response.status).toBe(401);
      expect((await clientsUsage(inst, 'a.b.c')).response.status).toBe(400);
      expect((await getClientsUsage({ client: server.client(unknownHost(), { token: await cliToken(server, inst) }) })).response.status).toBe(404);
    });
  });
});
