// GET / PUT /settings/instance, PUT /settings/instance/auth_mode, DELETE /settings/instance/moved_from.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clearMovedFrom, getInstanceSettings, updateAuthMode, updateInstanceSettings } from '@hearth/client';
import { updateInstance, type Instance } from '../../../src/repositories/instances.js';
import { deleteSettings, getSettings, updateSettings } from '../../../src/repositories/settings.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { appToken, cliToken, rawFetch, registerTokenClient, startFakeUpstream, type FakeUpstream } from './fixtures.js';

const REV = /^\d+-[0-9a-f]{32}$/;

describe.each(testEngines)('instance settings (%s)', (engine) => {
  let server: TestServer;
  let manager: FakeUpstream;
  let alice: Instance;
  let cli: string;

  beforeAll(async () => {
    manager = await startFakeUpstream();
    manager.on((r) => (r.method === 'PUT' && r.url.startsWith('/api/v1/instances/') ? { status: 200, json: {} } : undefined));
    server = await startTestServer({
      engine,
      configYaml: [
        'contexts:',
        '  default:',
        '    default_redirection: drive/#/folder',
        '  signup:',
        '    signup_url: https://signup.example.com/',
        '  managed:',
        `    manager_url: ${manager.url}`,
        '  oidc:',
        '    help_link: https://help.example.com/',
        'authentication:',
        '  oidc:',
        '    oidc:',
        '      client_id: hearth',
        '      logout_url: https://idp.example.com/logout',
      ].join('\n'),
    });
    alice = await server.createInstance('alice', { passphrase: 'correct horse', kdf_iterations: 50000 });
    cli = await cliToken(server, alice);
  });
  afterAll(async () => {
    await server.stop();
    await manager.close();
  });

  const fresh = (i: Instance) => server.instance(i.domain);
  const read = async (i: Instance, token?: string) => {
    const res = await getInstanceSettings({ client: server.client(i.domain, { token: token ?? (await cliToken(server, i)) }) });
    expect(res.response.status).toBe(200);
    return res.data!.data;
  };
  const put = (i: Instance, token: string, attributes: Record<string, unknown>, rev?: string) =>
    updateInstanceSettings({
      client: server.client(i.domain, { token }),
      body: { data: { type: 'io.cozy.settings', id: 'io.cozy.settings.instance', ...(rev !== undefined ? { meta: { rev } } : {}), attributes } },
    });

  describe('GET /settings/instance', () => {
    it('answers 401 without a token', async () => {
      const res = await getInstanceSettings({ client: server.client(alice.domain) });
      expect(res.response.status).toBe(401);
      expect(res.error).toEqual({ error: 'No token in request' });
    });

    it('answers 400 for a token of another instance (cross-tenant)', async () => {
      const bob = await server.createInstance('bob-get');
      const res = await getInstanceSettings({ client: server.client(alice.domain, { token: await cliToken(server, bob) }) });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual({ error: 'Invalid JWT token' });
      expect(res.response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });

    it('answers 404 for an unknown host', async () => {
      const res = await getInstanceSettings({ client: server.client(`nobody.test:${server.port}`, { token: cli }) });
      expect(res.response.status).toBe(404);
      expect(res.error).toMatchObject({ errors: [{ status: '404', detail: 'Instance not found' }] });
    });

    it('overlays the instance values on the settings document', async () => {
      const res = await getInstanceSettings({ client: server.client(alice.domain, { token: cli }) });
      expect(res.response.status).toBe(200);
      expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
      const data = res.data!.data;
      expect(data).toMatchObject({ type: 'io.cozy.settings', id: 'io.cozy.settings.instance', links: { self: '/settings/instance' } });
      expect(data.meta.rev).toMatch(REV);
      expect(data.attributes).toEqual({
        email: 'alice@example.net',
        public_name: 'alice',
        locale: 'en',
        onboarding_finished: true,
        password_defined: true,
        auto_update: true,
        auth_mode: 'basic',
        tos: '',
        tos_latest: '',
        uuid: '',
        oidc_id: '',
        org_domain: '',
        org_id: '',
        context: 'default',
        default_redirection: 'drive/#/folder',
      });
    });

    it('accepts any valid token, whatever its permissions', async () => {
      const token = await cliToken(server, alice, 'io.cozy.files:GET');
      expect((await read(alice, token)).attributes.email).toBe('alice@example.net');
    });

    it('accepts the onboarding register token, and rejects a wrong one (400)', async () => {
      const carol = await server.createInstance('carol');
      expect(carol.registerToken).toMatch(/^[0-9a-f]{32}$/);
      const ok = await getInstanceSettings({ client: registerTokenClient(carol.domain, carol.registerToken!), query: {} as never });
      expect(ok.response.status).toBe(200);
      expect(ok.data!.data.attributes).toMatchObject({ password_defined: false, onboarding_finished: false, email: 'carol@example.net' });
      const bad = await getInstanceSettings({ client: registerTokenClient(carol.domain, '0'.repeat(32)), query: {} as never });
      expect(bad.response.status).toBe(400);
      expect(bad.error).toEqual({ error: 'Invalid JWT token' });
    });

    it('falls back to the first label of the domain for public_name, and to the context default redirection', async () => {
      const dave = await server.createInstance('dave', { public_name: null, context: 'oidc', sponsorships: ['acme'] });
      await updateSettings(server.hearth.services.db, dave.id, (doc) => ({ ...doc, default_redirection: 'https://evil.example.com/' }));
      await updateInstance(server.hearth.services.db, dave.id, { passwordDefined: null, orgDomain: 'org.example', orgId: 'org-1' });
      const attrs = (await read(dave)).attributes;
      expect(attrs.public_name).toBe('dave');
      expect(attrs.default_redirection).toBe('home/');
      expect(attrs).not.toHaveProperty('password_defined');
      expect(attrs).toMatchObject({
        context: 'oidc',
        sponsorships: ['acme'],
        oidc_logout_url: 'https://idp.example.com/logout',
        org_domain: 'org.example',
        org_id: 'org-1',
      });
    });

    it('answers the database 404 when the settings document is missing', async () => {
      const erin = await server.createInstance('erin');
      await deleteSettings(server.hearth.services.db, erin.id);
      const res = await getInstanceSettings({ client: server.client(erin.domain, { token: await cliToken(server, erin) }) });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ errors: [{ status: '404', title: 'not_found', detail: 'missing', source: {} }] });
    });
  });

  describe('PUT /settings/instance', () => {
    it('answers 401 without a token, 400 for a bad token, 403 without the permission, 404 for an unknown host', async () => {
      const body = { data: { attributes: { public_name: 'x' } } };
      const none = await updateInstanceSettings({ client: server.client(alice.domain), body });
      expect(none.response.status).toBe(401);
      const bad = await updateInstanceSettings({ client: server.client(alice.domain, { token: 'not.a.jwt' }), body });
      expect(bad.response.status).toBe(400);
      expect(bad.error).toEqual({ error: 'Invalid JWT token' });
      const readOnly = await updateInstanceSettings({ client: server.client(alice.domain, { token: await cliToken(server, alice, 'io.cozy.settings:GET') }), body });
      expect(readOnly.response.status).toBe(403);
      expect(readOnly.error).toEqual({ error: 'Forbidden' });
      const unknown = await updateInstanceSettings({ client: server.client(`nobody.test:${server.port}`, { token: cli }), body });
      expect(unknown.response.status).toBe(404);
      expect((await read(alice)).attributes.public_name).toBe('alice');
    });

    it('replaces the settings document with a new revision', async () => {
      const frank = await server.createInstance('frank');
      const token = await cliToken(server, frank);
      const before = await read(frank);
      const res = await put(frank, token, { email: 'frank@example.net', public_name: 'Frank', timezone: 'Europe/Paris', custom: { a: 1 } }, before.meta.rev);
      expect(res.response.status).toBe(200);
      expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
      const rev = res.data!.data.meta.rev;
      expect(rev).toMatch(/^2-[0-9a-f]{32}$/);
      expect(res.data!.data.attributes).toMatchObject({ public_name: 'Frank', timezone: 'Europe/Paris', custom: { a: 1 }, auth_mode: 'basic', context: 'default' });
      expect(res.data!.data.attributes).not.toHaveProperty('password_defined');
      const after = await read(frank);
      expect(after.meta.rev).toBe(rev);
      expect(after.attributes).toMatchObject({ public_name: 'Frank', timezone: 'Europe/Paris', custom: { a: 1 } });
      const stored = await getSettings(server.hearth.services.db, frank.id);
      expect(stored!.doc).toEqual({ email: 'frank@example.net', public_name: 'Frank', timezone: 'Europe/Paris', custom: { a: 1 } });
    });

    it('answers 409 conflict for a stale revision and changes nothing', async () => {
      const gina = await server.createInstance('gina');
      const token = await cliToken(server, gina);
      const first = await read(gina);
      const ok = await put(gina, token, { email: 'gina@example.net', public_name: 'Gina 1' }, first.meta.rev);
      expect(ok.response.status).toBe(200);
      const stale = await put(gina, token, { email: 'gina@example.net', public_name: 'Gina 2' }, first.meta.rev);
      expect(stale.response.status).toBe(409);
      expect(stale.error).toEqual({ errors: [{ status: '409', title: 'conflict', detail: 'Document update conflict.', source: {} }] });
      expect((await read(gina)).attributes.public_name).toBe('Gina 1');
    });

    it('does not write when nothing changes and echoes the revision that was sent', async () => {
      const hugo = await server.createInstance('hugo');
      const token = await cliToken(server, hugo);
      const current = await read(hugo);
      const old = '1-00000000000000000000000000000000';
      const res = await put(hugo, token, { email: 'hugo@example.net', public_name: 'hugo' }, old);
      expect(res.response.status).toBe(200);
      expect(res.data!.data.meta.rev).toBe(old);
      expect((await read(hugo)).meta.rev).toBe(current.meta.rev);
      const noRev = await put(hugo, token, { email: 'hugo@example.net', public_name: 'hugo' });
      expect(noRev.response.status).toBe(200);
      expect(noRev.data!.data.meta.rev).toBe(current.meta.rev);
    });

    it('a GET → PUT round trip of the settings app changes nothing', async () => {
      const ivy = await server.createInstance('ivy', { passphrase: 'pw ivy', kdf_iterations: 50000 });
      // (GET shows the context default for a missing default_redirection: a round trip would store it)
      await updateSettings(server.hearth.services.db, ivy.id, (doc) => ({ ...doc, default_redirection: 'photos/' }));
      const token = await appToken(server, ivy, 'settings', { settings: { type: 'io.cozy.settings' } });
      const got = await read(ivy, token);
      const res = await put(ivy, token, got.attributes as Record<string, unknown>, got.meta.rev);
      expect(res.response.status).toBe(200);
      expect(res.data!.data.meta.rev).toBe(got.meta.rev);
      expect((await read(ivy)).meta.rev).toBe(got.meta.rev);
    });

    it('answers 400 JSON:API for a text value holding a NUL character, and changes nothing', async () => {
      const before = await read(alice);
      const res = await put(alice, cli, { email: 'alice@example.net', public_name: 'Al\u0000ice' }, before.meta.rev);
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual({
        errors: [{ status: '400', title: 'Bad Request', detail: expect.stringContaining('must not contain a NUL character'), source: { pointer: '/data/attributes/public_name' } }],
      });
      expect((await read(alice)).meta.rev).toBe(before.meta.rev);
    });

    it('answers 400 "rev is missing" when something changes without a revision', async () => {
      const res = await put(alice, cli, { email: 'alice@example.net', public_name: 'Changed' });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual({ errors: [{ status: '400', title: 'Bad Request', detail: 'rev is missing', source: {} }] });
      expect((await read(alice)).attributes.public_name).toBe('alice');
    });

    it('answers 400 JSON:API for a body that is not JSON or has no attributes', async () => {
      const notJson = await rawFetch(alice.domain, '/settings/instance', {
        method: 'PUT',
        headers: { Authorization: `Bearer ${cli}`, 'Content-Type': 'application/vnd.api+json', Accept: 'application/json' },
        body: '{"data":',
      });
      expect(notJson.status).toBe(400);
      expect(notJson.headers.get('content-type')).toBe('application/vnd.api+json');
      const noAttributes = await rawFetch(alice.domain, '/settings/instance', {
        method: 'PUT',
        headers: { Authorization: `Bearer ${cli}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ data: { type: 'io.cozy.settings' } }),
      });
      expect(noAttributes.status).toBe(400);
      expect(((await noAttributes.json()) as { errors: { status: string }[] }).errors[0]!.status).toBe('400');
    });

    it('with a non-CLI token, keeps the protected keys and the stored email', async () => {
      const jack = await server.createInstance('jack');
      const token = await appToken(server, jack, 'settings', { settings: { type: 'io.cozy.settings' } });
      const got = await read(jack, token);
      const res = await put(
        jack,
        token,
        {
          email: 'attacker@example.com',
          pending_email: 'attacker@example.com',
          public_name: 'Jack',
          auth_mode: 'two_factor_mail',
          tos: '9.9.9',
          tos_latest: '9.9.9',
          uuid: 'forged',
          context: 'managed',
          oidc_id: 'forged',
          sponsorships: ['forged'],
          password_defined: false,
          org_id: 'forged',
        },
        got.meta.rev,
      );
      expect(res.response.status).toBe(200);
      expect(res.data!.data.attributes).toMatchObject({ email: 'jack@example.net', public_name: 'Jack', auth_mode: 'basic', tos: '', uuid: '', context: 'default', oidc_id: '', org_id: '' });
      expect(res.data!.data.attributes).not.toHaveProperty('pending_email');
      const stored = await getSettings(server.hearth.services.db, jack.id);
      expect(stored!.doc).toEqual({ email: 'jack@example.net', public_name: 'Jack' });
      const inst = await fresh(jack);
      expect(inst).toMatchObject({ authMode: 'basic', tos: null, uuid: null, context: 'default', oidcId: null, sponsorships: [] });
    });

    it('keeps phone and recovery_email when the context has a signup service', async () => {
      const kim = await server.createInstance('kim', { context: 'signup' });
      await updateSettings(server.hearth.services.db, kim.id, (doc) => ({ ...doc, phone: '+331234' }));
      const token = await appToken(server, kim, 'settings', { settings: { type: 'io.cozy.settings' } });
      const got = await read(kim, token);
      const res = await put(kim, token, { email: 'kim@example.net', public_name: 'kim', phone: '+339999', recovery_email: 'r@example.net', tz: 'UTC' }, got.meta.rev);
      expect(res.response.status).toBe(200);
      expect((await getSettings(server.hearth.services.db, kim.id))!.doc).toEqual({ email: 'kim@example.net', public_name: 'kim', phone: '+331234', tz: 'UTC' });
    });

    it('with a CLI token, updates the email and the instance-level keys', async () => {
      const leo = await server.createInstance('leo');
      const token = await cliToken(server, leo);
      const got = await read(leo);
      const res = await put(
        leo,
        token,
        { email: 'leo@new.example', public_name: 'leo', auth_mode: 'two_factor_mail', tos: '1.0.0', tos_latest: '2.0.0', uuid: 'uuid-leo', context: 'signup', oidc_id: 'sub-leo' },
        got.meta.rev,
      );
      expect(res.response.status).toBe(200);
      expect(res.data!.data.attributes).toMatchObject({ email: 'leo@new.example', auth_mode: 'two_factor_mail', tos: '1.0.0', tos_latest: '2.0.0', uuid: 'uuid-leo', context: 'signup', oidc_id: 'sub-leo' });
      expect(await fresh(leo)).toMatchObject({ authMode: 'two_factor_mail', tos: '1.0.0', tosLatest: '2.0.0', uuid: 'uuid-leo', context: 'signup', oidcId: 'sub-leo' });
      expect((await getSettings(server.hearth.services.db, leo.id))!.doc).toEqual({ email: 'leo@new.example', public_name: 'leo' });
      const unknownMode = await put(leo, token, { email: 'leo@new.example', public_name: 'leo', auth_mode: 'telepathy' }, res.data!.data.meta.rev);
      expect(unknownMode.response.status).toBe(400);
      expect(unknownMode.error).toMatchObject({ errors: [{ status: '400', detail: 'Unknown authentication mode' }] });
    });

    it('moves locale, onboarding_finished and auto_update (string only) to the instance', async () => {
      const mia = await server.createInstance('mia');
      const token = await appToken(server, mia, 'settings', { settings: { type: 'io.cozy.settings' } });
      const got = await read(mia, token);
      const res = await put(mia, token, { email: 'mia@example.net', public_name: 'mia', locale: 'fr', onboarding_finished: true, auto_update: 'false' }, got.meta.rev);
      expect(res.response.status).toBe(200);
      expect(res.data!.data.meta.rev).toBe(got.meta.rev);
      expect(res.data!.data.attributes).toMatchObject({ locale: 'fr', onboarding_finished: true, auto_update: false });
      expect(await fresh(mia)).toMatchObject({ locale: 'fr', onboardingFinished: true, noAutoUpdate: true });
      const asBoolean = await put(mia, token, { email: 'mia@example.net', public_name: 'mia', auto_update: true }, got.meta.rev);
      expect(asBoolean.response.status).toBe(200);
      expect(asBoolean.data!.data.attributes.auto_update).toBe(false);
      const back = await put(mia, token, { email: 'mia@example.net', public_name: 'mia', auto_update: 'true' }, got.meta.rev);
      expect(back.data!.data.attributes.auto_update).toBe(true);
      expect((await getSettings(server.hearth.services.db, mia.id))!.doc).toEqual({ email: 'mia@example.net', public_name: 'mia' });
    });

    it('pushes a changed public name to the manager (best effort)', async () => {
      const nora = await server.createInstance('nora', { context: 'managed', uuid: 'uuid-nora' });
      const token = await appToken(server, nora, 'settings', { settings: { type: 'io.cozy.settings' } });
      const got = await read(nora, token);
      const res = await put(nora, token, { email: 'nora@example.net', public_name: 'Nora N.' }, got.meta.rev);
      expect(res.response.status).toBe(200);
      await vi.waitFor(() => expect(manager.requests.some((r) => r.url === '/api/v1/instances/uuid-nora')).toBe(true));
      const pushed = manager.requests.find((r) => r.url === '/api/v1/instances/uuid-nora')!;
      expect(pushed.method).toBe('PUT');
      expect(JSON.parse(pushed.body)).toMatchObject({ public_name: 'Nora N.', email: 'nora@example.net', locale: 'en' });
    });
  });

  describe('PUT /settings/instance/auth_mode', () => {
    const setMode = (i: Instance, token: string | undefined, body: { auth_mode: 'basic' | 'two_factor_mail' | 'two_factor_oidc'; two_factor_activation_code?: string }) =>
      updateAuthMode({ client: server.client(i.domain, { token }), body });

    it('answers 401, 400, 403 (no whole-type PUT) and 404', async () => {
      expect((await setMode(alice, undefined, { auth_mode: 'basic' })).response.status).toBe(401);
      expect((await setMode(alice, 'x.y.z', { auth_mode: 'basic' })).response.status).toBe(400);
      const onlyId = await setMode(alice, await cliToken(server, alice, 'io.cozy.settings:PUT:io.cozy.settings.instance'), { auth_mode: 'two_factor_oidc' });
      expect(onlyId.response.status).toBe(403);
      expect(onlyId.error).toEqual({ error: 'Forbidden' });
      expect((await setMode({ ...alice, domain: `nobody.test:${server.port}` }, cli, { auth_mode: 'basic' })).response.status).toBe(404);
      expect((await fresh(alice)).authMode).toBe('basic');
    });

    it('answers 400 for an unknown mode', async () => {
      const res = await rawFetch(alice.domain, '/settings/instance/auth_mode', {
        method: 'PUT',
        headers: { Authorization: `Bearer ${cli}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ auth_mode: 'telepathy' }),
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/vnd.api+json');
    });

    it('applies basic and two_factor_oidc at once', async () => {
      const olga = await server.createInstance('olga');
      const token = await cliToken(server, olga);
      expect((await setMode(olga, token, { auth_mode: 'two_factor_oidc' })).response.status).toBe(204);
      expect((await read(olga)).attributes.auth_mode).toBe('two_factor_oidc');
      expect((await setMode(olga, token, { auth_mode: 'basic' })).response.status).toBe(204);
      expect((await fresh(olga)).authMode).toBe('basic');
    });

    it('two_factor_mail: mails an activation code, 422 for a wrong code, activates with the right one', async () => {
      const paul = await server.createInstance('paul');
      const token = await cliToken(server, paul);
      const ask = await setMode(paul, token, { auth_mode: 'two_factor_mail' });
      expect(ask.response.status).toBe(204);
      expect((await fresh(paul)).authMode).toBe('basic');
      const mails = (await server.mails(paul)).filter((m) => m.template === 'two_factor_mail_confirmation');
      expect(mails).toHaveLength(1);
      expect(mails[0]!.to).toBe('paul@example.net');
      const code = /\b(\d{6})\b/.exec(mails[0]!.text)?.[1];
      expect(code).toBeDefined();
      const wrongCode = code === '000000' ? '111111' : '000000';
      const wrong = await setMode(paul, token, { auth_mode: 'two_factor_mail', two_factor_activation_code: wrongCode });
      expect(wrong.response.status).toBe(422);
      expect(wrong.error).toEqual({
        errors: [{ status: '422', title: 'Invalid Parameter', detail: 'Invalid activation code', source: { parameter: 'two_factor_activation_code' } }],
      });
      expect((await fresh(paul)).authMode).toBe('basic');
      const right = await setMode(paul, token, { auth_mode: 'two_factor_mail', two_factor_activation_code: code! });
      expect(right.response.status).toBe(204);
      expect((await fresh(paul)).authMode).toBe('two_factor_mail');
      // already active: a no-op, no new mail
      expect((await setMode(paul, token, { auth_mode: 'two_factor_mail' })).response.status).toBe(204);
      expect((await server.mails(paul)).filter((m) => m.template === 'two_factor_mail_confirmation')).toHaveLength(1);
    });
  });

  describe('DELETE /settings/instance/moved_from', () => {
    it('answers 403 without a session, even with a token', async () => {
      const res = await clearMovedFrom({ client: server.client(alice.domain, { token: cli }) });
      expect(res.response.status).toBe(403);
      expect(res.error).toEqual({ error: 'Forbidden' });
    });

    it('answers 404 for an unknown host', async () => {
      const { cookie } = await server.login(alice);
      const res = await clearMovedFrom({ client: server.client(`nobody.test:${server.port}`, { cookie }) });
      expect(res.response.status).toBe(404);
    });

    it('removes moved_from with the session cookie (and is a no-op after)', async () => {
      const quinn = await server.createInstance('quinn', { passphrase: 'pw quinn', kdf_iterations: 50000 });
      await updateSettings(server.hearth.services.db, quinn.id, (doc) => ({ ...doc, moved_from: 'quinn.old.example', tz: 'UTC' }));
      const { cookie } = await server.login(quinn);
      const res = await clearMovedFrom({ client: server.client(quinn.domain, { cookie }) });
      expect(res.response.status).toBe(204);
      const stored = await getSettings(server.hearth.services.db, quinn.id);
      expect(stored!.doc).toEqual({ email: 'quinn@example.net', public_name: 'quinn', tz: 'UTC' });
      const again = await clearMovedFrom({ client: server.client(quinn.domain, { cookie }) });
      expect(again.response.status).toBe(204);
      expect((await getSettings(server.hearth.services.db, quinn.id))!.rev).toBe(stored!.rev);
    });
  });
});
