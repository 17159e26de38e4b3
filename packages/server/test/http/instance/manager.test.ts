// The routes that talk to the manager / cloudery: sign_tos, deletion, external ties, premium,
// warnings, and the context. A fake manager (which is also the cloudery API) runs on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getContext, getExternalTies, getWarnings, redirectToPremium, requestInstanceDeletion, signTos } from '@hearth/client';
import { updateInstance, type Instance } from '../../../src/repositories/instances.js';
import { updateSettings } from '../../../src/repositories/settings.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { appToken, cliToken, closedPort, oauthToken, rawFetch, registerTokenClient, startFakeUpstream, type FakeUpstream } from './fixtures.js';

const CLOUDERY_TOKEN = 'cloudery-secret-token';

describe.each(testEngines)('manager and cloudery routes (%s)', (engine) => {
  let server: TestServer;
  let manager: FakeUpstream;
  let deadPort: number;

  beforeAll(async () => {
    manager = await startFakeUpstream();
    deadPort = await closedPort();
    manager.on((r) => {
      if (r.method === 'PUT' && /^\/api\/v1\/instances\/uuid-[a-z]+\/tos$/.test(r.url)) return r.url.includes('uuid-failing') ? { status: 500, json: {} } : { status: 204 };
      if (r.method === 'DELETE' && r.url.startsWith('/api/admin/instances/')) return r.url.includes('uuid-failing') ? { status: 500, json: {} } : { status: 204 };
      if (r.method === 'GET' && r.url === '/api/v1/instances/uuid-ios') return { status: 200, json: { has_blocking_subscription: true, blocking_subscription_vendor: 'ios' } };
      if (r.method === 'GET' && r.url === '/api/v1/instances/uuid-free') return { status: 200, json: { has_blocking_subscription: false, blocking_subscription_vendor: 'android' } };
      if (r.method === 'GET' && r.url === '/api/v1/instances/uuid-novendor') return { status: 200, json: { has_blocking_subscription: true } };
      if (r.method === 'GET' && r.url === '/api/v1/instances/uuid-failing') return { status: 503, json: {} };
      return undefined;
    });
    server = await startTestServer({
      engine,
      configYaml: [
        'contexts:',
        '  default:',
        '    help_link: https://help.example.com/',
        '  managed:',
        `    manager_url: ${manager.url}/`,
        '    help_link: https://managed.example.com/help',
        '    enable_premium_links: true',
        '    logos:',
        '      home:',
        '        light:',
        '          - src: /logos/main.svg',
        '            alt: Main',
        '            type: main',
        '    antivirus:',
        '      enabled: true',
        '      max_file_size: 100',
        '  sponsor1:',
        '    logos:',
        '      home:',
        '        light:',
        '          - src: /logos/sponsor1.svg',
        '            alt: Sponsor 1',
        '            type: secondary',
        '        dark:',
        '          - src: /logos/sponsor1-dark.svg',
        '            alt: Sponsor 1',
        '            type: secondary',
        '  dead:',
        `    manager_url: http://127.0.0.1:${deadPort}`,
        'clouderies:',
        '  managed:',
        '    api:',
        `      url: ${manager.url}`,
        `      token: ${CLOUDERY_TOKEN}`,
        '  dead:',
        '    api:',
        `      url: http://127.0.0.1:${deadPort}`,
        '      token: dead-token',
      ].join('\n'),
    });
  });
  afterAll(async () => {
    await server.stop();
    await manager.close();
  });

  const requestsTo = (path: string) => manager.requests.filter((r) => r.url.split('?')[0] === path);
  const unknownHost = () => `nobody.test:${server.port}`;

  describe('PUT /settings/instance/sign_tos', () => {
    let signer: Instance;
    beforeAll(async () => {
      signer = await server.createInstance('signer', { context: 'managed', uuid: 'uuid-signer', tos_latest: '2.1.0-20250101' });
    });

    it('answers 401 without a token, 400 for a bad token, 404 for an unknown host', async () => {
      expect((await signTos({ client: server.client(signer.domain) })).response.status).toBe(401);
      const bad = await signTos({ client: server.client(signer.domain, { token: 'bad.bad.bad' }) });
      expect(bad.response.status).toBe(400);
      expect(bad.error).toEqual({ error: 'Invalid JWT token' });
      expect((await signTos({ client: server.client(unknownHost(), { token: await cliToken(server, signer) }) })).response.status).toBe(404);
    });

    it('answers 403 to a webapp token, whatever its permissions', async () => {
      const token = await appToken(server, signer, 'settings', { all: { type: 'io.cozy.settings' } });
      const res = await signTos({ client: server.client(signer.domain, { token }) });
      expect(res.response.status).toBe(403);
      expect(res.error).toEqual({ error: 'Forbidden' });
      expect((await server.instance(signer.domain)).tos).toBeNull();
    });

    it('with a manager, sends the version to the manager and records the signature (OAuth token)', async () => {
      const token = await oauthToken(server, signer, 'io.cozy.files');
      const res = await signTos({ client: server.client(signer.domain, { token }) });
      expect(res.response.status).toBe(204);
      const calls = requestsTo('/api/v1/instances/uuid-signer/tos');
      expect(calls).toHaveLength(1);
      expect(calls[0]!.method).toBe('PUT');
      expect(calls[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(calls[0]!.headers.authorization).toBe(`Bearer ${CLOUDERY_TOKEN}`);
      expect(Object.fromEntries(new URLSearchParams(calls[0]!.body))).toEqual({ version: '2.1.0' });
      expect((await server.instance(signer.domain)).tos).toBe('2.1.0-20250101');
    });

    it('without a manager, signs locally (CLI token)', async () => {
      const local = await server.createInstance('local-tos', { tos_latest: '3.0.0' });
      const before = manager.requests.length;
      const res = await signTos({ client: server.client(local.domain, { token: await cliToken(server, local, 'io.cozy.files') }) });
      expect(res.response.status).toBe(204);
      expect((await server.instance(local.domain)).tos).toBe('3.0.0');
      expect(manager.requests.length).toBe(before);
    });

    it('does nothing without a latest version', async () => {
      const none = await server.createInstance('no-tos', { context: 'managed', uuid: 'uuid-none' });
      const res = await signTos({ client: server.client(none.domain, { token: await cliToken(server, none) }) });
      expect(res.response.status).toBe(204);
      expect(requestsTo('/api/v1/instances/uuid-none/tos')).toHaveLength(0);
      expect((await server.instance(none.domain)).tos).toBeNull();
    });

    it('answers 502 when the manager fails, and records nothing', async () => {
      const failing = await server.createInstance('failing-tos', { context: 'managed', uuid: 'uuid-failing', tos_latest: '2.0.0' });
      const res = await signTos({ client: server.client(failing.domain, { token: await cliToken(server, failing) }) });
      expect(res.response.status).toBe(502);
      expect(res.error).toMatchObject({ errors: [{ status: '502', title: 'Bad Gateway' }] });
      expect((await server.instance(failing.domain)).tos).toBeNull();
    });
  });

  describe('POST /settings/instance/deletion', () => {
    let doomed: Instance;
    beforeAll(async () => {
      doomed = await server.createInstance('doomed', { context: 'managed', uuid: 'uuid-doomed' });
    });

    it('answers 401, 400 and 404', async () => {
      expect((await requestInstanceDeletion({ client: server.client(doomed.domain) })).response.status).toBe(401);
      expect((await requestInstanceDeletion({ client: server.client(doomed.domain, { token: 'x.y.z' }) })).response.status).toBe(400);
      const token = await appToken(server, doomed, 'settings');
      expect((await requestInstanceDeletion({ client: server.client(unknownHost(), { token }) })).response.status).toBe(404);
    });

    it('answers 403 to any token but the settings app one', async () => {
      const drive = await appToken(server, doomed, 'drive', { all: { type: 'io.cozy.settings' } });
      const cli = await cliToken(server, doomed, '*');
      const oauth = await oauthToken(server, doomed, 'io.cozy.settings');
      for (const token of [drive, cli, oauth]) {
        const res = await requestInstanceDeletion({ client: server.client(doomed.domain, { token }) });
        expect(res.response.status).toBe(403);
        expect(res.error).toEqual({ error: 'Forbidden' });
      }
      expect(requestsTo('/api/admin/instances/uuid-doomed')).toHaveLength(0);
    });

    it('asks the cloudery to delete the instance', async () => {
      const token = await appToken(server, doomed, 'settings');
      const res = await requestInstanceDeletion({ client: server.client(doomed.domain, { token }) });
      expect(res.response.status).toBe(204);
      const calls = requestsTo('/api/admin/instances/uuid-doomed');
      expect(calls).toHaveLength(1);
      expect(calls[0]!.method).toBe('DELETE');
      expect(calls[0]!.headers.authorization).toBe(`Bearer ${CLOUDERY_TOKEN}`);
      expect((await server.instance(doomed.domain)).deleting).toBe(false);
    });

    it('answers 502 when the cloudery fails, is unreachable or is not configured', async () => {
      const failing = await server.createInstance('failing-del', { context: 'managed', uuid: 'uuid-failing' });
      const dead = await server.createInstance('dead-del', { context: 'dead', uuid: 'uuid-dead' });
      const unconfigured = await server.createInstance('noconf-del', { uuid: 'uuid-noconf' });
      for (const inst of [failing, dead, unconfigured]) {
        const res = await requestInstanceDeletion({ client: server.client(inst.domain, { token: await appToken(server, inst, 'settings') }) });
        expect(res.response.status).toBe(502);
        expect(res.error).toEqual({ errors: [{ status: '502', title: 'Bad Gateway', detail: 'the cloudery could not delete the instance', source: {} }] });
      }
      expect(requestsTo('/api/admin/instances/uuid-failing')).toHaveLength(1);
    });
  });

  describe('GET /settings/external-ties', () => {
    it('answers 403 without a session or a webapp token (CLI, OAuth, bad token, nothing)', async () => {
      const inst = await server.createInstance('ties-403', { context: 'managed', uuid: 'uuid-ios' });
      const tokens = [undefined, await cliToken(server, inst, '*'), await oauthToken(server, inst, 'io.cozy.settings'), 'bad.bad.bad'];
      for (const token of tokens) {
        const res = await getExternalTies({ client: server.client(inst.domain, { token }) });
        expect(res.response.status).toBe(403);
        expect(res.error).toEqual({ error: 'Forbidden' });
      }
      expect(requestsTo('/api/v1/instances/uuid-ios')).toHaveLength(0);
    });

    it('answers 404 for an unknown host', async () => {
      const res = await getExternalTies({ client: server.client(unknownHost()) });
      expect(res.response.status).toBe(404);
    });

    it('reports a blocking subscription and its vendor (session cookie)', async () => {
      const inst = await server.createInstance('ties-ios', { context: 'managed', uuid: 'uuid-ios', passphrase: 'pw', kdf_iterations: 50000 });
      const { cookie } = await server.login(inst);
      const res = await getExternalTies({ client: server.client(inst.domain, { cookie }) });
      expect(res.response.status).toBe(200);
      expect(res.data).toEqual({
        data: {
          type: 'io.cozy.settings',
          id: 'io.cozy.settings.external-ties',
          attributes: { has_blocking_subscription: true, blocking_subscription: { vendor: 'ios' } },
          meta: {},
          links: { self: '/settings/external-ties' },
        },
      });
      const call = requestsTo('/api/v1/instances/uuid-ios')[0]!;
      expect(call.method).toBe('GET');
      expect(call.headers.authorization).toBe(`Bearer ${CLOUDERY_TOKEN}`);
    });

    it('no blocking subscription (webapp token); no vendor is shown', async () => {
      const inst = await server.createInstance('ties-free', { context: 'managed', uuid: 'uuid-free' });
      const token = await appToken(server, inst, 'settings');
      const res = await getExternalTies({ client: server.client(inst.domain, { token }) });
      expect(res.response.status).toBe(200);
      expect(res.data!.data.attributes).toEqual({ has_blocking_subscription: false });
    });

    it('without a manager, nothing ties the instance (no call)', async () => {
      const inst = await server.createInstance('ties-none', { uuid: 'uuid-nomanager' });
      const before = manager.requests.length;
      const res = await getExternalTies({ client: server.client(inst.domain, { token: await appToken(server, inst, 'home') }) });
      expect(res.response.status).toBe(200);
      expect(res.data!.data.attributes).toEqual({ has_blocking_subscription: false });
      expect(manager.requests.length).toBe(before);
    });

    it('answers 502 when the manager fails, is unreachable, or names no vendor', async () => {
      for (const [name, context, uuid] of [
        ['ties-fail', 'managed', 'uuid-failing'],
        ['ties-dead', 'dead', 'uuid-dead'],
        ['ties-novendor', 'managed', 'uuid-novendor'],
      ] as const) {
        const inst = await server.createInstance(name, { context, uuid });
        const res = await getExternalTies({ client: server.client(inst.domain, { token: await appToken(server, inst, 'settings') }) });
        expect(res.response.status).toBe(502);
        expect(res.error).toMatchObject({ errors: [{ status: '502', title: 'Bad Gateway', source: {} }] });
      }
    });
  });

  describe('GET /settings/premium', () => {
    it('answers 403 without a session, even with a token', async () => {
      const inst = await server.createInstance('premium-403', { context: 'managed', uuid: 'uuid-premium' });
      for (const token of [undefined, await appToken(server, inst, 'settings')]) {
        const res = await redirectToPremium({ client: server.client(inst.domain, { token }) });
        expect(res.response.status).toBe(403);
        expect(res.error).toEqual({ error: 'Forbidden' });
      }
    });

    it('redirects (301) to the premium page of the manager', async () => {
      const inst = await server.createInstance('premium', { context: 'managed', uuid: 'uuid-premium' });
      const { cookie } = await server.login(inst);
      const res = await redirectToPremium({ client: server.client(inst.domain, { cookie }) });
      expect(res.response.status).toBe(301);
      expect(res.response.headers.get('location')).toBe(`${manager.url}/cozy/instances/uuid-premium/premium`);
    });

    it('answers 404 without a manager, and for an unknown host', async () => {
      const inst = await server.createInstance('premium-none', { uuid: 'uuid-premium-none' });
      const { cookie } = await server.login(inst);
      const res = await redirectToPremium({ client: server.client(inst.domain, { cookie }) });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ errors: [{ status: '404', title: 'Not Found', detail: 'This instance has no manager', source: {} }] });
      expect((await redirectToPremium({ client: server.client(unknownHost(), { cookie }) })).response.status).toBe(404);
    });
  });

  describe('GET /settings/warnings', () => {
    const warnings = async (inst: Instance) => getWarnings({ client: server.client(inst.domain, { token: await cliToken(server, inst, 'io.cozy.files') }) });

    it('answers 401 without a token, 400 for a bad token, and the register token is accepted', async () => {
      const inst = await server.createInstance('warn-auth');
      expect((await getWarnings({ client: server.client(inst.domain) })).response.status).toBe(401);
      expect((await getWarnings({ client: server.client(inst.domain, { token: 'a.b.c' }) })).response.status).toBe(400);
      const res = await getWarnings({ client: registerTokenClient(inst.domain, inst.registerToken!), query: {} as never });
      expect(res.response.status).toBe(404);
    });

    it('answers 404 with the literal {"errors": []} when there is nothing to do, and for an unknown host', async () => {
      const inst = await server.createInstance('warn-none', { context: 'managed' });
      const res = await rawFetch(inst.domain, '/settings/warnings', { headers: { Authorization: `Bearer ${await cliToken(server, inst)}` } });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/vnd.api+json');
      expect(await res.text()).toBe('{"errors":[]}');
      const unknown = await getWarnings({ client: server.client(unknownHost(), { token: await cliToken(server, inst) }) });
      expect(unknown.response.status).toBe(404);
      expect(unknown.error).toMatchObject({ errors: [{ detail: 'Instance not found' }] });
    });

    it('answers 402 tos-updated with the manager TOS page when new terms are not signed', async () => {
      const inst = await server.createInstance('warn-tos', { context: 'managed', tos_latest: '2.0.0' });
      const res = await warnings(inst);
      expect(res.response.status).toBe(402);
      const page = new URL(`${manager.url}/cozy/tos`);
      page.searchParams.set('domain', inst.domain);
      expect(res.error).toEqual({
        errors: [{ status: '402', title: 'TOS Updated', code: 'tos-updated', detail: 'Terms of services have been updated', source: {}, links: { self: page.toString() } }],
      });
    });

    it('no TOS warning once the version is signed, or long before the date of the new terms', async () => {
      const signed = await server.createInstance('warn-signed', { tos_latest: '2.0.0-20200101' });
      await updateInstance(server.hearth.services.db, signed.id, { tos: '2.0.0' });
      expect((await warnings(signed)).response.status).toBe(404);
      const future = await server.createInstance('warn-future', { tos_latest: '3.0.0-29991231' });
      expect((await warnings(future)).response.status).toBe(404);
      const past = await server.createInstance('warn-past', { tos_latest: '3.0.0-20200101' });
      const res = await warnings(past);
      expect(res.response.status).toBe(402);
      expect(res.error).toEqual({ errors: [{ status: '402', title: 'TOS Updated', code: 'tos-updated', detail: 'Terms of services have been updated', source: {} }] });
    });

    it('answers 410 moved first, followed by the TOS warning', async () => {
      const inst = await server.createInstance('warn-moved', { context: 'managed', tos_latest: '2.0.0' });
      await updateSettings(server.hearth.services.db, inst.id, (doc) => ({ ...doc, moved_to: 'warn-moved.newhost.example' }));
      const res = await warnings(inst);
      expect(res.response.status).toBe(410);
      const errors = (res.error as { errors: { status: string; code: string; links: unknown }[] }).errors;
      expect(errors.map((e) => e.status)).toEqual(['410', '402']);
      expect(errors[0]).toEqual({
        status: '410',
        title: 'Cozy has been moved',
        code: 'moved',
        detail: 'The Cozy has been moved to a new address',
        source: {},
        links: { related: 'https://warn-moved.newhost.example' },
      });
    });
  });

  describe('GET /settings/context', () => {
    it('answers 403 for every token failure (none, bad, expired) and 404 for an unknown host', async () => {
      const inst = await server.createInstance('ctx-403', { context: 'managed' });
      const expired = await server.token(inst, 'cli', { scope: 'io.cozy.settings' }, Date.now() - 24 * 3600 * 1000);
      for (const token of [undefined, 'bad.bad.bad', expired]) {
        const res = await getContext({ client: server.client(inst.domain, { token }) });
        expect(res.response.status).toBe(403);
        expect(res.error).toEqual({ error: 'Forbidden' });
      }
      expect((await getContext({ client: server.client(unknownHost(), { token: await cliToken(server, inst) }) })).response.status).toBe(404);
    });

    it('gives the context configuration, the sponsors logos, manager_url and antivirus', async () => {
      const inst = await server.createInstance('ctx-managed', { context: 'managed', sponsorships: ['sponsor1', 'unknown-sponsor'] });
      const token = await appToken(server, inst, 'home');
      const res = await getContext({ client: server.client(inst.domain, { token }) });
      expect(res.response.status).toBe(200);
      expect(res.data).toEqual({
        data: {
          type: 'io.cozy.settings',
          id: 'io.cozy.settings.context',
          attributes: {
            manager_url: manager.url,
            help_link: 'https://managed.example.com/help',
            enable_premium_links: true,
            logos: {
              home: {
                light: [
                  { src: '/logos/main.svg', alt: 'Main', type: 'main' },
                  { src: '/logos/sponsor1.svg', alt: 'Sponsor 1', type: 'secondary' },
                ],
                dark: [{ src: '/logos/sponsor1-dark.svg', alt: 'Sponsor 1', type: 'secondary' }],
              },
            },
            antivirus: { enabled: true, max_file_size: 100 },
          },
          meta: {},
          links: { self: '/settings/context' },
        },
      });
      // the configuration itself is not changed by the merge
      const again = await getContext({ client: server.client((await server.createInstance('ctx-managed2', { context: 'managed' })).domain, { token: await cliToken(server, await server.instance(`ctx-managed2.test:${server.port}`)) }) });
      expect((again.data!.data.attributes.logos as { home: { light: unknown[] } }).home.light).toHaveLength(1);
    });

    it('without a manager: no manager_url, antivirus off; the register token is accepted', async () => {
      const inst = await server.createInstance('ctx-default');
      const res = await getContext({ client: registerTokenClient(inst.domain, inst.registerToken!), query: {} as never });
      expect(res.response.status).toBe(200);
      expect(res.data!.data.attributes).toEqual({ help_link: 'https://help.example.com/', antivirus: { enabled: false } });
    });
  });
});
