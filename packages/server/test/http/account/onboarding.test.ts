// POST /settings/passphrase, POST /settings/passphrase/flagship and GET /settings/passphrase.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkPassphrase,
  confirmEmailUpdate,
  getHint,
  getPassphraseParameters,
  registerPassphrase,
  registerPassphraseFlagship,
} from '@hearth/client';
import { installApp } from '../../../src/repositories/apps.js';
import { getCode } from '../../../src/repositories/codes.js';
import { listLoginHistory } from '../../../src/repositories/login-history.js';
import { getOAuthClient } from '../../../src/repositories/oauth-clients.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { cliToken, formBody, hashFor, ITERATIONS, jwtClaims, oauthClient, rawRequest, setCookieOf } from './helpers.js';

const CONFIG = `
contexts:
  custom:
    onboarded_redirection: drive/#/onboarded
flagship:
  contexts:
    beta:
      skip_certification: true
`;

const MOBILE_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36';

describe.each(testEngines)('onboarding: POST /settings/passphrase (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine, configYaml: CONFIG });
  });
  afterAll(() => server.stop());

  async function fresh(name: string, input: Parameters<TestServer['createInstance']>[1] = {}) {
    const instance = await server.createInstance(name, input);
    expect(instance.registerToken).toMatch(/^[0-9a-f]{32}$/);
    return instance;
  }

  it('registers from JSON: 200 {redirect} to the home app, a long-run session, the hint, the login entry', async () => {
    const instance = await fresh('json1');
    const passphrase = await hashFor(instance, 'correct horse');
    const res = await registerPassphrase({
      client: server.client(instance.domain),
      body: { register_token: instance.registerToken!, passphrase, iterations: ITERATIONS, key: '0.abc|def', hint: 'my cat' },
    });
    expect(res.response.status).toBe(200);
    expect(res.data).toEqual({ redirect: `http://home.json1.test:${server.port}/` });
    const cookie = setCookieOf(res.response)!;
    expect(cookie.header).toMatch(/^cozysessid=[A-Za-z0-9_-]{96}; /);
    expect(cookie.header).toContain('Max-Age=315360000');
    expect(cookie.header).toContain('Domain=.json1.test');

    const after = await server.instance(instance.domain);
    expect(after.registerToken).toBeNull();
    expect(after.onboardingFinished).toBe(true);
    expect(after.passwordDefined).toBe(true);
    expect(after.passphraseKdfIterations).toBe(ITERATIONS);
    expect(after.passphraseHint).toBe('my cat');
    expect(after.vaultKey).toBe('0.abc|def');
    expect(after.sessionSecret).not.toBe(instance.sessionSecret);

    const history = await listLoginHistory(server.hearth.services.db, instance.id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ method: 'registration' });

    // The session cookie works (the confirm route then looks at the token instead of redirecting to the login).
    const probe = await confirmEmailUpdate({ client: server.client(instance.domain, { cookie: cookie.pair }), query: { token: 'x' } });
    expect(probe.response.status).toBe(400);

    const token = await cliToken(server, instance.domain, 'io.cozy.settings');
    const check = await checkPassphrase({ client: server.client(instance.domain, { token }), body: { passphrase } });
    expect(check.response.status).toBe(204);
    const hint = await getHint({ client: server.client(instance.domain, { token }) });
    expect(hint.response.status).toBe(204);
  });

  it('registers from the onboarding form: 303 with Location and the cookie when Accept has text/html', async () => {
    const instance = await fresh('form1');
    const passphrase = await hashFor(instance, 'form password');
    const res = await registerPassphrase({
      client: server.client(instance.domain, { headers: { Accept: 'text/html,application/xhtml+xml' } }),
      body: { register_token: instance.registerToken!, passphrase, iterations: String(ITERATIONS), key: '0.k|k' } as never,
      ...formBody,
    });
    expect(res.response.status).toBe(303);
    expect(res.response.headers.get('location')).toBe(`http://home.form1.test:${server.port}/`);
    expect(setCookieOf(res.response)!.header).toContain('Max-Age=315360000');
    const after = await server.instance(instance.domain);
    expect(after.registerToken).toBeNull();
    expect(after.passphraseKdfIterations).toBe(ITERATIONS);
    expect(after.passphraseHint).toBeNull();
  });

  it('hashes a clear-text passphrase itself when the key is empty (and generates the vault keys)', async () => {
    const instance = await fresh('clear1');
    const res = await registerPassphrase({
      client: server.client(instance.domain),
      body: { register_token: instance.registerToken!, passphrase: 'my clear password', iterations: ITERATIONS },
    });
    expect(res.response.status).toBe(200);
    const after = await server.instance(instance.domain);
    expect(after.passphraseKdfIterations).toBe(ITERATIONS);
    expect(after.vaultKey).toMatch(/^0\.[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+$/);
    expect(after.vaultPrivateKey).toMatch(/^2\./);
    const token = await cliToken(server, instance.domain, 'io.cozy.settings');
    const client = server.client(instance.domain, { token });
    expect((await checkPassphrase({ client, body: { passphrase: await hashFor(instance, 'my clear password') } })).response.status).toBe(204);
    expect((await checkPassphrase({ client, body: { passphrase: 'my clear password' } })).response.status).toBe(403);
  });

  it('with iterations 0, hashes the clear text with the default 650 000 iterations', async () => {
    const instance = await fresh('clear0');
    const res = await registerPassphrase({
      client: server.client(instance.domain),
      body: { register_token: instance.registerToken!, passphrase: 'zero iterations', iterations: 0, key: '0.ignored|x' },
    });
    expect(res.response.status).toBe(200);
    const after = await server.instance(instance.domain);
    expect(after.passphraseKdfIterations).toBe(650_000);
    expect(after.vaultKey).not.toBe('0.ignored|x');
    const token = await cliToken(server, instance.domain, 'io.cozy.settings');
    const params = await getPassphraseParameters({ client: server.client(instance.domain, { token }) });
    expect(params.data?.data.attributes.iterations).toBe(650_000);
  });

  it('redirects a mobile browser to the flagship app install page', async () => {
    const instance = await fresh('mobile1');
    const res = await registerPassphrase({
      client: server.client(instance.domain, { headers: { 'User-Agent': MOBILE_UA } }),
      body: { register_token: instance.registerToken!, passphrase: await hashFor(instance, 'pw'), iterations: ITERATIONS, key: 'k' },
    });
    expect(res.response.status).toBe(200);
    expect(res.data).toEqual({ redirect: `http://mobile1.test:${server.port}/settings/install_flagship_app` });
  });

  it('uses the onboarded redirection of the context, and the requested redirection when that app is installed', async () => {
    const a = await fresh('ctx1', { context: 'custom' });
    const ra = await registerPassphrase({
      client: server.client(a.domain),
      body: { register_token: a.registerToken!, passphrase: await hashFor(a, 'pw'), iterations: ITERATIONS, key: 'k', redirection: 'photos/#/album' },
    });
    // photos is not installed: the context's onboarded redirection wins.
    expect(ra.data).toEqual({ redirect: `http://drive.ctx1.test:${server.port}/#/onboarded` });

    const b = await fresh('ctx2');
    await installApp(server.hearth.services.db, { instanceId: b.id, slug: 'photos', type: 'webapp' });
    const rb = await registerPassphrase({
      client: server.client(b.domain),
      body: { register_token: b.registerToken!, passphrase: await hashFor(b, 'pw'), iterations: ITERATIONS, key: 'k', redirection: 'photos/albums#/a/1' },
    });
    expect(rb.data).toEqual({ redirect: `http://photos.ctx2.test:${server.port}/albums#/a/1` });
  });

  it('rejects a register token that is not hexadecimal (400 JSON:API)', async () => {
    const instance = await fresh('bad1');
    const res = await registerPassphrase({
      client: server.client(instance.domain),
      body: { register_token: 'g'.repeat(32), passphrase: 'x', iterations: ITERATIONS },
    });
    expect(res.response.status).toBe(400);
    expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
    expect(JSON.stringify(res.error)).toContain('register_token');
    expect((await server.instance(instance.domain)).registerToken).toBe(instance.registerToken);
  });

  it('rejects iterations out of range (422 KdfIterations), 0 being accepted', async () => {
    const instance = await fresh('iter1');
    for (const [iterations, detail] of [
      [10_000, 'The KdfIterations number is too low'],
      [10_000_000, 'The KdfIterations number is too high'],
    ] as const) {
      const res = await registerPassphrase({
        client: server.client(instance.domain),
        body: { register_token: instance.registerToken!, passphrase: 'x', iterations },
      });
      expect(res.response.status).toBe(422);
      expect(res.error).toEqual({ errors: [{ status: '422', title: 'Invalid Parameter', detail, source: { parameter: 'KdfIterations' } }] });
    }
    expect((await server.instance(instance.domain)).registerToken).toBe(instance.registerToken);
  });

  it('rejects an empty passphrase, a wrong register token, and a second registration (400 JSON:API)', async () => {
    const instance = await fresh('err1');
    const client = server.client(instance.domain);
    const empty = await registerPassphrase({ client, body: { register_token: instance.registerToken!, passphrase: '', iterations: ITERATIONS } });
    expect(empty.response.status).toBe(400);
    expect(empty.error).toEqual({ errors: [{ status: '400', title: 'Bad Request', detail: 'Missing new passphrase', source: {} }] });

    const wrong = await registerPassphrase({ client, body: { register_token: '0'.repeat(32), passphrase: 'x', iterations: ITERATIONS } });
    expect(wrong.response.status).toBe(400);
    expect(wrong.error).toEqual({ errors: [{ status: '400', title: 'Bad Request', detail: 'Invalid register token', source: {} }] });
    expect(setCookieOf(wrong.response)).toBeNull();

    const ok = await registerPassphrase({ client, body: { register_token: instance.registerToken!, passphrase: await hashFor(instance, 'pw'), iterations: ITERATIONS, key: 'k' } });
    expect(ok.response.status).toBe(200);
    const again = await registerPassphrase({ client, body: { register_token: instance.registerToken!, passphrase: 'other', iterations: ITERATIONS, key: 'k' } });
    expect(again.response.status).toBe(400);
    expect(again.error).toEqual({ errors: [{ status: '400', title: 'Bad Request', detail: 'Empty register token', source: {} }] });
  });

  it('of two concurrent registrations with the same token, exactly one wins', async () => {
    const instance = await fresh('race1');
    const body = { register_token: instance.registerToken!, passphrase: await hashFor(instance, 'pw'), iterations: ITERATIONS, key: 'k' };
    const results = await Promise.all([1, 2, 3].map(() => registerPassphrase({ client: server.client(instance.domain), body })));
    const statuses = results.map((r) => r.response.status).sort();
    expect(statuses).toEqual([200, 400, 400]);
    expect(await listLoginHistory(server.hearth.services.db, instance.id)).toHaveLength(1);
  });

  it('answers 404 for an unknown host', async () => {
    const res = await registerPassphrase({
      client: server.client(`nobody.test:${server.port}`),
      body: { register_token: '0'.repeat(32), passphrase: 'x', iterations: ITERATIONS },
    });
    expect(res.response.status).toBe(404);
  });
});

describe.each(testEngines)('onboarding with flat subdomains (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine, configYaml: 'subdomains: flat\n' });
  });
  afterAll(() => server.stop());

  it('redirects to <label>-home.<rest> and names the cookie sess-<domain>', async () => {
    const instance = await server.createInstance('flat1');
    const res = await registerPassphrase({
      client: server.client(instance.domain),
      body: { register_token: instance.registerToken!, passphrase: await hashFor(instance, 'pw'), iterations: ITERATIONS, key: 'k' },
    });
    expect(res.response.status).toBe(200);
    expect(res.data).toEqual({ redirect: `http://flat1-home.test:${server.port}/` });
    expect(setCookieOf(res.response)!.header).toMatch(/^sess-flat1\.test=/);
  });
});

describe.each(testEngines)('onboarding: POST /settings/passphrase/flagship (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine, configYaml: CONFIG });
  });
  afterAll(() => server.stop());

  it('gives a certified flagship client its tokens (200): access and refresh, scope *', async () => {
    const instance = await server.createInstance('fs1');
    const client = await oauthClient(server, instance, { flagship: true });
    const passphrase = await hashFor(instance, 'flagship pw');
    const res = await registerPassphraseFlagship({
      client: server.client(instance.domain),
      body: { register_token: instance.registerToken!, passphrase, iterations: ITERATIONS, key: 'k', hint: 'a hint', client_id: client.id, client_secret: client.clientSecret },
    });
    expect(res.response.status).toBe(200);
    expect(setCookieOf(res.response)).toBeNull();
    const body = res.data as { access_token: string; refresh_token: string; token_type: string; scope: string };
    expect(body.token_type).toBe('bearer');
    expect(body.scope).toBe('*');
    expect(jwtClaims(body.access_token)).toMatchObject({ aud: ['access'], sub: client.id, scope: '*', iss: instance.domain });
    expect(jwtClaims(body.refresh_token)).toMatchObject({ aud: ['refresh'], sub: client.id, scope: '*', iss: instance.domain });

    // The access token is accepted by the API (signed with the OAuth secret, scope * for a flagship client).
    const params = await getPassphraseParameters({ client: server.client(instance.domain, { token: body.access_token }) });
    expect(params.response.status).toBe(200);
    expect(params.data?.data.attributes.iterations).toBe(ITERATIONS);

    const after = await server.instance(instance.domain);
    expect(after.registerToken).toBeNull();
    expect(after.onboardingFinished).toBe(true);
    expect(after.passphraseHint).toBe('a hint');
    expect(await listLoginHistory(server.hearth.services.db, instance.id)).toHaveLength(0);
    const stored = await getOAuthClient(server.hearth.services.db, instance.id, client.id);
    expect(stored?.createdAtOnboarding).toBe(false);
  });

  it('gives an uncertified client a session code (202) and marks it created_at_onboarding', async () => {
    const instance = await server.createInstance('fs2');
    const client = await oauthClient(server, instance, { pending: true });
    const res = await registerPassphraseFlagship({
      client: server.client(instance.domain),
      body: { register_token: instance.registerToken!, passphrase: await hashFor(instance, 'pw'), iterations: ITERATIONS, key: 'k', client_id: client.id, client_secret: client.clientSecret },
    });
    expect(res.response.status).toBe(202);
    const code = (res.data as { session_code: string }).session_code;
    expect(code).toMatch(/^[A-Za-z0-9]{32}$/);
    const stored = await getCode(server.hearth.services.db, instance.id, 'session_code', code);
    expect(stored).not.toBeNull();
    expect(stored!.expiresAt! - Date.now()).toBeGreaterThan(6.9 * 24 * 3600 * 1000);
    const after = await getOAuthClient(server.hearth.services.db, instance.id, client.id);
    expect(after?.createdAtOnboarding).toBe(true);
    expect(after?.pending).toBe(true);
    expect((await server.instance(instance.domain)).registerToken).toBeNull();
  });

  it('gives tokens to an uncertified client when the context skips the certification', async () => {
    const instance = await server.createInstance('fs3', { context: 'beta' });
    const client = await oauthClient(server, instance);
    const res = await registerPassphraseFlagship({
      client: server.client(instance.domain),
      body: { register_token: instance.registerToken!, passphrase: await hashFor(instance, 'pw'), iterations: ITERATIONS, key: 'k', client_id: client.id, client_secret: client.clientSecret },
    });
    expect(res.response.status).toBe(200);
    expect((res.data as { scope: string }).scope).toBe('*');
  });

  it('checks in order: iterations (422, 0 refused), the client (400 plain), its secret, then the register token (400 JSON:API)', async () => {
    const instance = await server.createInstance('fs4');
    const client = await oauthClient(server, instance, { flagship: true });
    const c = server.client(instance.domain);
    const base = { register_token: '0'.repeat(32), passphrase: 'x', key: 'k', client_id: 'f'.repeat(32), client_secret: 'nope' };

    const zero = await registerPassphraseFlagship({ client: c, body: { ...base, iterations: 0 } });
    expect(zero.response.status).toBe(422);
    expect(zero.error).toMatchObject({ errors: [{ detail: 'The KdfIterations number is too low', source: { parameter: 'KdfIterations' } }] });
    const missing = await registerPassphraseFlagship({ client: c, body: { ...base } });
    expect(missing.response.status).toBe(422);
    const high = await registerPassphraseFlagship({ client: c, body: { ...base, iterations: 5_000_001 } });
    expect(high.response.status).toBe(422);
    expect(high.error).toMatchObject({ errors: [{ detail: 'The KdfIterations number is too high' }] });

    const unknown = await registerPassphraseFlagship({ client: c, body: { ...base, iterations: ITERATIONS } });
    expect(unknown.response.status).toBe(400);
    expect(unknown.response.headers.get('content-type')).toBe('application/json');
    expect(unknown.error).toEqual({ error: 'the client must be registered' });

    const secret = await registerPassphraseFlagship({ client: c, body: { ...base, iterations: ITERATIONS, client_id: client.id } });
    expect(secret.response.status).toBe(400);
    expect(secret.error).toEqual({ error: 'invalid client_secret' });

    const token = await registerPassphraseFlagship({ client: c, body: { ...base, iterations: ITERATIONS, client_id: client.id, client_secret: client.clientSecret } });
    expect(token.response.status).toBe(400);
    expect(token.response.headers.get('content-type')).toBe('application/vnd.api+json');
    expect(token.error).toEqual({ errors: [{ status: '400', title: 'Bad Request', detail: 'Invalid register token', source: {} }] });

    const empty = await registerPassphraseFlagship({
      client: c,
      body: { ...base, iterations: ITERATIONS, client_id: client.id, client_secret: client.clientSecret, register_token: instance.registerToken!, passphrase: '' },
    });
    expect(empty.error).toMatchObject({ errors: [{ detail: 'Missing new passphrase' }] });

    const notHex = await registerPassphraseFlagship({ client: c, body: { ...base, iterations: ITERATIONS, register_token: 'zz' } });
    expect(notHex.response.status).toBe(400);
    expect(notHex.response.headers.get('content-type')).toBe('application/vnd.api+json');

    expect((await server.instance(instance.domain)).registerToken).toBe(instance.registerToken);
    const ok = await registerPassphraseFlagship({
      client: c,
      body: { ...base, iterations: ITERATIONS, client_id: client.id, client_secret: client.clientSecret, register_token: instance.registerToken!, passphrase: await hashFor(instance, 'pw') },
    });
    expect(ok.response.status).toBe(200);
    const again = await registerPassphraseFlagship({
      client: c,
      body: { ...base, iterations: ITERATIONS, client_id: client.id, client_secret: client.clientSecret, register_token: instance.registerToken!, passphrase: 'x' },
    });
    expect(again.error).toMatchObject({ errors: [{ detail: 'Empty register token' }] });
  });

  it('does not accept the client of another instance', async () => {
    const a = await server.createInstance('fs5');
    const b = await server.createInstance('fs6');
    const client = await oauthClient(server, b, { flagship: true });
    const res = await registerPassphraseFlagship({
      client: server.client(a.domain),
      body: { register_token: a.registerToken!, passphrase: 'x', iterations: ITERATIONS, client_id: client.id, client_secret: client.clientSecret },
    });
    expect(res.response.status).toBe(400);
    expect(res.error).toEqual({ error: 'the client must be registered' });
  });

  it('answers 404 for an unknown host', async () => {
    const res = await registerPassphraseFlagship({
      client: server.client(`nobody.test:${server.port}`),
      body: { register_token: '0'.repeat(32), passphrase: 'x', iterations: ITERATIONS, client_id: '0'.repeat(32), client_secret: 'x' },
    });
    expect(res.response.status).toBe(404);
  });
});

describe.each(testEngines)('GET /settings/passphrase (%s)', (engine) => {
  let server: TestServer;
  let domain: string;
  beforeAll(async () => {
    server = await startTestServer({ engine });
    domain = (await server.createInstance('params', { passphrase: 'pw', kdf_iterations: 60_000 })).domain;
  });
  afterAll(() => server.stop());

  it('answers the salt (without port), the kdf and the iterations', async () => {
    const token = await cliToken(server, domain, 'io.cozy.settings:GET');
    const res = await getPassphraseParameters({ client: server.client(domain, { token }) });
    expect(res.response.status).toBe(200);
    expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
    expect(res.data).toEqual({
      data: {
        type: 'io.cozy.settings',
        id: 'io.cozy.settings.passphrase',
        attributes: { salt: 'me@params.test', kdf: 0, iterations: 60_000 },
        meta: {},
        links: { self: '/settings/passphrase' },
      },
    });
  });

  it('401 without a token, 400 with a bad or foreign token, 403 without the permission', async () => {
    expect((await getPassphraseParameters({ client: server.client(domain) })).response.status).toBe(401);
    const bad = await getPassphraseParameters({ client: server.client(domain, { token: 'not.a.jwt' }) });
    expect(bad.response.status).toBe(400);
    expect(bad.error).toEqual({ error: 'Invalid JWT token' });
    const other = await server.createInstance('params-other');
    const foreign = await getPassphraseParameters({ client: server.client(domain, { token: await server.token(other, 'cli', { scope: 'io.cozy.settings' }) }) });
    expect(foreign.response.status).toBe(400);
    const denied = await getPassphraseParameters({ client: server.client(domain, { token: await cliToken(server, domain, 'io.cozy.files') }) });
    expect(denied.response.status).toBe(403);
    expect(denied.error).toEqual({ error: 'Forbidden' });
  });

  it('does not accept the onboarding register token (403)', async () => {
    const fresh = await server.createInstance('params-new');
    const res = await rawRequest(server, fresh.domain, `/settings/passphrase?registerToken=${fresh.registerToken}`, { headers: { Accept: 'application/json' } });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'Forbidden' });
  });

  it('answers 404 for an unknown host', async () => {
    expect((await getPassphraseParameters({ client: server.client(`nobody.test:${server.port}`) })).response.status).toBe(404);
  });
});
