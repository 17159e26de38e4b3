// PUT /settings/passphrase, POST /settings/passphrase/check, GET/PUT /settings/hint, POST /settings/vault.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { checkPassphrase, confirmEmailUpdate, getHint, getPassphraseParameters, initVault, updateHint, updatePassphrase } from '@hearth/client';
import { SessionDuration } from '../../../src/domain/sessions.js';
import { listJobs } from '../../../src/jobs/queue.js';
import { updateInstance } from '../../../src/repositories/instances.js';
import { getSession } from '../../../src/repositories/sessions.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { cliToken, hashFor, ITERATIONS, oauthClient, setCookieOf } from './helpers.js';

const CONFIG = `
contexts:
  oidc:
    disable_password_authentication: true
`;

describe.each(testEngines)('PUT /settings/passphrase (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine, configYaml: CONFIG });
  });
  afterAll(() => server.stop());

  const PW = 'old password';

  /** Whether a session cookie is still a valid login (the confirm route redirects to the login page otherwise). */
  async function loggedIn(domain: string, cookie: string): Promise<boolean> {
    const res = await confirmEmailUpdate({ client: server.client(domain, { cookie }), query: { token: 'probe' } });
    return res.response.status === 400;
  }

  it('changes the passphrase: 204, a new session with the current duration, the secret rotated, OAuth tokens kept', async () => {
    const instance = await server.createInstance('chg1', { passphrase: PW, kdf_iterations: ITERATIONS });
    const client = await oauthClient(server, instance);
    const token = await server.token(instance, 'access', { sub: client.id, scope: 'io.cozy.settings' });
    const appCookie = await server.login(instance, SessionDuration.NormalRun);
    const other = await server.login(instance, SessionDuration.LongRun);
    const newHash = await hashFor(instance, 'new password', 60_000);
    const res = await updatePassphrase({
      client: server.client(instance.domain, { token, cookie: appCookie.cookie }),
      body: { current_passphrase: await hashFor(instance, PW), new_passphrase: newHash, iterations: 60_000, key: '0.new|key' },
    });
    expect(res.response.status).toBe(204);
    const cookie = setCookieOf(res.response)!;
    expect(cookie.header).toMatch(/^cozysessid=/);
    expect(cookie.header).not.toContain('Max-Age'); // a NormalRun session stays a browser-session cookie

    const after = await server.instance(instance.domain);
    expect(after.sessionSecret).not.toBe(instance.sessionSecret);
    expect(after.securityStamp).not.toBe(instance.securityStamp);
    expect(after.passphraseKdfIterations).toBe(60_000);
    expect(after.vaultKey).toBe('0.new|key');

    expect(await loggedIn(instance.domain, cookie.pair)).toBe(true);
    expect(await loggedIn(instance.domain, appCookie.cookie)).toBe(false);
    expect(await loggedIn(instance.domain, other.cookie)).toBe(false);
    // The replaced session is gone; the new one keeps the duration.
    expect(await getSession(server.hearth.services.db, instance.id, appCookie.sessionId)).toBeNull();

    // The OAuth token survives and sees the new passphrase.
    const c = server.client(instance.domain, { token });
    expect((await checkPassphrase({ client: c, body: { passphrase: newHash } })).response.status).toBe(204);
    expect((await checkPassphrase({ client: c, body: { passphrase: await hashFor(instance, PW) } })).response.status).toBe(403);
    const params = await getPassphraseParameters({ client: c });
    expect(params.data?.data.attributes.iterations).toBe(60_000);
  });

  it('opens a long-run session when the request has no cookie; keeps the vault key when none is sent', async () => {
    const instance = await server.createInstance('chg2', { passphrase: PW, kdf_iterations: ITERATIONS });
    const token = await cliToken(server, instance.domain, 'io.cozy.settings');
    const res = await updatePassphrase({
      client: server.client(instance.domain, { token }),
      body: { current_passphrase: await hashFor(instance, PW), new_passphrase: await hashFor(instance, 'second'), iterations: ITERATIONS },
    });
    expect(res.response.status).toBe(204);
    expect(setCookieOf(res.response)!.header).toContain('Max-Age=315360000');
    expect((await server.instance(instance.domain)).vaultKey).toBe(instance.vaultKey);
  });

  it('keeps a short-run duration', async () => {
    const instance = await server.createInstance('chg3', { passphrase: PW, kdf_iterations: ITERATIONS });
    const token = await cliToken(server, instance.domain, 'io.cozy.settings');
    const short = await server.login(instance, SessionDuration.ShortRun);
    const res = await updatePassphrase({
      client: server.client(instance.domain, { token, cookie: short.cookie }),
      body: { current_passphrase: await hashFor(instance, PW), new_passphrase: await hashFor(instance, 'third'), iterations: ITERATIONS },
    });
    expect(res.response.status).toBe(204);
    expect(setCookieOf(res.response)!.header).toContain('Max-Age=300');
  });

  it('refuses a wrong current passphrase (400), out-of-range iterations (422) and an empty new passphrase (400)', async () => {
    const instance = await server.createInstance('chg4', { passphrase: PW, kdf_iterations: ITERATIONS });
    const token = await cliToken(server, instance.domain, 'io.cozy.settings');
    const client = server.client(instance.domain, { token });
    const current = await hashFor(instance, PW);

    const wrong = await updatePassphrase({ client, body: { current_passphrase: await hashFor(instance, 'nope'), new_passphrase: 'x', iterations: ITERATIONS } });
    expect(wrong.response.status).toBe(400);
    expect(wrong.error).toEqual({ errors: [{ status: '400', title: 'Bad Request', detail: 'Invalid passphrase', source: {} }] });
    expect(setCookieOf(wrong.response)).toBeNull();

    const low = await updatePassphrase({ client, body: { current_passphrase: current, new_passphrase: 'x', iterations: 49_999 } });
    expect(low.response.status).toBe(422);
    expect(low.error).toEqual({ errors: [{ status: '422', title: 'Invalid Parameter', detail: 'The KdfIterations number is too low', source: { parameter: 'KdfIterations' } }] });
    const high = await updatePassphrase({ client, body: { current_passphrase: current, new_passphrase: 'x', iterations: 5_000_001 } });
    expect(high.response.status).toBe(422);

    const empty = await updatePassphrase({ client, body: { current_passphrase: current, new_passphrase: '', iterations: ITERATIONS } });
    expect(empty.response.status).toBe(400);
    expect(empty.error).toMatchObject({ errors: [{ detail: 'Missing new passphrase' }] });

    const notJson = await updatePassphrase({ client, body: '{nope' as never, bodySerializer: (b: unknown) => String(b) });
    expect(notJson.response.status).toBe(400);
    expect(notJson.response.headers.get('content-type')).toBe('application/vnd.api+json');

    const after = await server.instance(instance.domain);
    expect(after.passphraseHash).toBe(instance.passphraseHash);
    expect(after.sessionSecret).toBe(instance.sessionSecret);
  });

  it('accepts iterations 0 on the normal path and stores them as is', async () => {
    const instance = await server.createInstance('chg5', { passphrase: PW, kdf_iterations: ITERATIONS });
    const token = await cliToken(server, instance.domain, 'io.cozy.settings');
    const res = await updatePassphrase({
      client: server.client(instance.domain, { token }),
      body: { current_passphrase: await hashFor(instance, PW), new_passphrase: 'legacy-hash', iterations: 0 },
    });
    expect(res.response.status).toBe(204);
    const after = await server.instance(instance.domain);
    expect(after.passphraseKdfIterations).toBe(0);
    expect((await checkPassphrase({ client: server.client(instance.domain, { token }), body: { passphrase: 'legacy-hash' } })).response.status).toBe(204);
  });

  it('with 2FA by mail: a passcode mail and a base64 token first, then the change with token and passcode', async () => {
    const instance = await server.createInstance('tfa1', { passphrase: PW, kdf_iterations: ITERATIONS, auth_mode: 'two_factor_mail' });
    const token = await cliToken(server, instance.domain, 'io.cozy.settings');
    const client = server.client(instance.domain, { token });

    const wrong = await updatePassphrase({ client, body: { current_passphrase: await hashFor(instance, 'nope') } });
    expect(wrong.response.status).toBe(400);
    expect(wrong.error).toMatchObject({ errors: [{ detail: 'Invalid passphrase' }] });
    expect(await server.mails(instance)).toHaveLength(0);

    const first = await updatePassphrase({ client, body: { current_passphrase: await hashFor(instance, PW) } });
    expect(first.response.status).toBe(200);
    const tfaToken = (first.data as { two_factor_token: string }).two_factor_token;
    const raw = Buffer.from(tfaToken, 'base64').toString('utf8');
    expect(raw).toMatch(/^[A-Za-z0-9_-]{96}$/);
    expect(Buffer.from(raw, 'utf8').toString('base64')).toBe(tfaToken);

    const mails = (await server.mails(instance)).filter((m) => m.template === 'two_factor');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toBe('tfa1@example.net');
    expect(mails[0]!.mode).toBe('noreply');
    const passcode = /\b(\d{6})\b/.exec(mails[0]!.text)![1]!;
    const wrongCode = passcode === '000000' ? '111111' : '000000';
    const newHash = await hashFor(instance, 'after 2fa');

    const bad = await updatePassphrase({ client, body: { new_passphrase: newHash, iterations: ITERATIONS, two_factor_token: tfaToken, two_factor_passcode: wrongCode } });
    expect(bad.response.status).toBe(400);
    expect(bad.error).toEqual({ errors: [{ status: '400', title: 'Bad Request', detail: 'Invalid two-factor parameters', source: {} }] });
    // The raw token (as the /auth routes carry it) is not what this route expects.
    const rawSent = await updatePassphrase({ client, body: { new_passphrase: newHash, iterations: ITERATIONS, two_factor_token: raw, two_factor_passcode: passcode } });
    expect(rawSent.response.status).toBe(400);

    const ok = await updatePassphrase({ client, body: { new_passphrase: newHash, iterations: ITERATIONS, two_factor_token: tfaToken, two_factor_passcode: passcode } });
    expect(ok.response.status).toBe(204);
    expect(setCookieOf(ok.response)).not.toBeNull();
    expect((await checkPassphrase({ client, body: { passphrase: newHash } })).response.status).toBe(204);

    // The token worked once: the session secret it was bound to is gone.
    const again = await updatePassphrase({ client, body: { new_passphrase: await hashFor(instance, 'third'), iterations: ITERATIONS, two_factor_token: tfaToken, two_factor_passcode: passcode } });
    expect(again.response.status).toBe(400);
    expect(again.error).toMatchObject({ errors: [{ detail: 'Invalid two-factor parameters' }] });
  });

  it('force: refused with a defined password and a non-CLI token; accepted with a CLI token (clear text with iterations 0)', async () => {
    const instance = await server.createInstance('force1', { passphrase: PW, kdf_iterations: ITERATIONS });
    const oauth = await oauthClient(server, instance);
    const access = await server.token(instance, 'access', { sub: oauth.id, scope: 'io.cozy.settings' });
    const refused = await updatePassphrase({ client: server.client(instance.domain, { token: access }), body: { force: true, new_passphrase: 'x', iterations: 0 } });
    expect(refused.response.status).toBe(400);
    expect(refused.error).toEqual({
      errors: [{ status: '400', title: 'Bad Request', detail: 'Bitwarden extension has already been installed on this Cozy, cannot force update the passphrase.', source: {} }],
    });

    const cli = await cliToken(server, instance.domain, 'io.cozy.settings');
    const session = await server.login(instance);
    const ok = await updatePassphrase({
      client: server.client(instance.domain, { token: cli, cookie: session.cookie }),
      body: { force: true, new_passphrase: 'forced clear text', iterations: 0, publicKey: 'PUB', privateKey: '2.priv' },
    });
    expect(ok.response.status).toBe(204);
    expect(setCookieOf(ok.response)).not.toBeNull(); // the request had a session
    const after = await server.instance(instance.domain);
    expect(after.passphraseKdfIterations).toBe(650_000);
    expect(after.sessionSecret).not.toBe(instance.sessionSecret);
    expect(after.vaultKey).not.toBe(instance.vaultKey);
    const check = await checkPassphrase({ client: server.client(instance.domain, { token: cli }), body: { passphrase: await hashFor(instance, 'forced clear text', 650_000) } });
    expect(check.response.status).toBe(204);
  });

  it('force: allowed while no password is defined, and on an OIDC context without vault; no cookie without a session', async () => {
    const a = await server.createInstance('force2', { passphrase: PW, kdf_iterations: ITERATIONS });
    await updateInstance(server.hearth.services.db, a.id, { passwordDefined: false });
    const ca = await oauthClient(server, a);
    const ta = await server.token(a, 'access', { sub: ca.id, scope: 'io.cozy.settings' });
    const ra = await updatePassphrase({
      client: server.client(a.domain, { token: ta }),
      body: { force: true, new_passphrase: await hashFor(a, 'forced'), iterations: ITERATIONS, key: '0.forced|k', publicKey: 'PUB', privateKey: '2.p' },
    });
    expect(ra.response.status).toBe(204);
    expect(setCookieOf(ra.response)).toBeNull();
    const after = await server.instance(a.domain);
    expect(after.passwordDefined).toBe(true);
    expect(after.vaultKey).toBe('0.forced|k');
    expect(after.vaultPublicKey).toBe('PUB');

    const b = await server.createInstance('force3', { passphrase: PW, kdf_iterations: ITERATIONS, context: 'oidc' });
    await updateInstance(server.hearth.services.db, b.id, { passwordDefined: null });
    const cb = await oauthClient(server, b);
    const tb = await server.token(b, 'access', { sub: cb.id, scope: 'io.cozy.settings' });
    const body = { force: true, new_passphrase: await hashFor(b, 'forced'), iterations: ITERATIONS, key: 'k' };
    expect((await updatePassphrase({ client: server.client(b.domain, { token: tb }), body })).response.status).toBe(204);

    const c = await server.createInstance('force4', { passphrase: PW, kdf_iterations: ITERATIONS, context: 'oidc' });
    await updateInstance(server.hearth.services.db, c.id, { passwordDefined: null, vaultExtensionInstalled: true });
    const cc = await oauthClient(server, c);
    const tc = await server.token(c, 'access', { sub: cc.id, scope: 'io.cozy.settings' });
    const refused = await updatePassphrase({ client: server.client(c.domain, { token: tc }), body });
    expect(refused.response.status).toBe(400);
    expect((await server.instance(c.domain)).passphraseHash).toBe(c.passphraseHash);
  });

  it('401 without a token, 400 with a bad token, 403 without PUT on io.cozy.settings, 404 for an unknown host', async () => {
    const instance = await server.createInstance('chg-auth', { passphrase: PW, kdf_iterations: ITERATIONS });
    const body = { current_passphrase: await hashFor(instance, PW), new_passphrase: 'x', iterations: ITERATIONS };
    const session = await server.login(instance);
    const cookieOnly = await updatePassphrase({ client: server.client(instance.domain, { cookie: session.cookie }), body });
    expect(cookieOnly.response.status).toBe(401);
    expect(cookieOnly.error).toEqual({ error: 'No token in request' });
    const bad = await updatePassphrase({ client: server.client(instance.domain, { token: 'x.y.z' }), body });
    expect(bad.response.status).toBe(400);
    expect(bad.response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const getOnly = await updatePassphrase({ client: server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings:GET') }), body });
    expect(getOnly.response.status).toBe(403);
    const other = await server.createInstance('chg-other', { passphrase: PW, kdf_iterations: ITERATIONS });
    const foreign = await updatePassphrase({ client: server.client(instance.domain, { token: await server.token(other, 'cli', { scope: 'io.cozy.settings' }) }), body });
    expect(foreign.response.status).toBe(400);
    expect((await updatePassphrase({ client: server.client(`nobody.test:${server.port}`), body })).response.status).toBe(404);
    expect((await server.instance(instance.domain)).passphraseHash).toBe(instance.passphraseHash);
  });
});

describe.each(testEngines)('POST /settings/passphrase/check and the hint (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine });
  });
  afterAll(() => server.stop());

  it('check: 204 for the right passphrase, 403 for a wrong one, 400 without one; no rate limit', async () => {
    const instance = await server.createInstance('check1', { passphrase: 'pw', kdf_iterations: ITERATIONS });
    const client = server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings') });
    expect((await checkPassphrase({ client, body: { passphrase: await hashFor(instance, 'pw') } })).response.status).toBe(204);
    for (let i = 0; i < 3; i++) {
      const wrong = await checkPassphrase({ client, body: { passphrase: await hashFor(instance, 'wrong') } });
      expect(wrong.response.status).toBe(403);
      expect(wrong.response.headers.get('content-type')).toBe('application/vnd.api+json');
      expect(wrong.error).toEqual({ errors: [{ status: '403', title: 'Forbidden', detail: 'Invalid passphrase', source: {} }] });
    }
    expect((await server.instance(instance.domain)).blocked).toBe(false);
    const missing = await checkPassphrase({ client, body: {} as never });
    expect(missing.response.status).toBe(400);
  });

  it('check: re-hashes a hash made with old scrypt parameters', async () => {
    const instance = await server.createInstance('check2', { passphrase: 'pw', kdf_iterations: ITERATIONS });
    const { scryptSync, randomBytes } = await import('node:crypto');
    const hash = await hashFor(instance, 'pw');
    const salt = randomBytes(16);
    const key = scryptSync(Buffer.from(hash), salt, 32, { N: 1024, r: 8, p: 1 });
    await updateInstance(server.hearth.services.db, instance.id, { passphraseHash: `scrypt$1024$8$1$${salt.toString('hex')}$${key.toString('hex')}` });
    const client = server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings') });
    expect((await checkPassphrase({ client, body: { passphrase: hash } })).response.status).toBe(204);
    expect((await server.instance(instance.domain)).passphraseHash).toMatch(/^scrypt\$32768\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    expect((await checkPassphrase({ client, body: { passphrase: hash } })).response.status).toBe(204);
  });

  it('check: needs PUT on io.cozy.settings (403 with GET only), a token (401), a valid one (400); 404 unknown host', async () => {
    const instance = await server.createInstance('check3', { passphrase: 'pw', kdf_iterations: ITERATIONS });
    const body = { passphrase: await hashFor(instance, 'pw') };
    const get = await checkPassphrase({ client: server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings:GET') }), body });
    expect(get.response.status).toBe(403);
    expect(get.error).toEqual({ error: 'Forbidden' });
    expect((await checkPassphrase({ client: server.client(instance.domain), body })).response.status).toBe(401);
    expect((await checkPassphrase({ client: server.client(instance.domain, { token: 'bad' }), body })).response.status).toBe(400);
    expect((await checkPassphrase({ client: server.client(`nobody.test:${server.port}`), body })).response.status).toBe(404);
  });

  it('hint: 404 No hint, set (204), present (204), refused when it is the passphrase (422), removed with the empty string', async () => {
    const instance = await server.createInstance('hint1', { passphrase: 'my secret', kdf_iterations: ITERATIONS });
    const client = server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings') });
    const none = await getHint({ client });
    expect(none.response.status).toBe(404);
    expect(none.error).toEqual({ errors: [{ status: '404', title: 'Not Found', detail: 'No hint', source: {} }] });

    expect((await updateHint({ client, body: { hint: 'the name of my cat' } })).response.status).toBe(204);
    expect((await server.instance(instance.domain)).passphraseHint).toBe('the name of my cat');
    expect((await getHint({ client })).response.status).toBe(204);

    const same = await updateHint({ client, body: { hint: 'my secret' } });
    expect(same.response.status).toBe(422);
    expect(same.error).toEqual({
      errors: [{ status: '422', title: 'Invalid Parameter', detail: 'The hint cannot be the same as the password', source: { parameter: 'hint' } }],
    });
    expect((await server.instance(instance.domain)).passphraseHint).toBe('the name of my cat');

    expect((await updateHint({ client, body: { hint: '' } })).response.status).toBe(204);
    expect((await server.instance(instance.domain)).passphraseHint).toBeNull();
    expect((await getHint({ client })).response.status).toBe(404);
  });

  it('hint: permissions (GET for reading, PUT for writing), 401, 400, 404', async () => {
    const instance = await server.createInstance('hint2', { passphrase: 'pw', kdf_iterations: ITERATIONS });
    const getOnly = server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings:GET') });
    expect((await getHint({ client: getOnly })).response.status).toBe(404);
    const put = await updateHint({ client: getOnly, body: { hint: 'x' } });
    expect(put.response.status).toBe(403);
    const putOnly = server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings:PUT') });
    expect((await getHint({ client: putOnly })).response.status).toBe(403);
    expect((await getHint({ client: server.client(instance.domain) })).response.status).toBe(401);
    expect((await updateHint({ client: server.client(instance.domain), body: { hint: 'x' } })).response.status).toBe(401);
    expect((await getHint({ client: server.client(instance.domain, { token: 'bad' }) })).response.status).toBe(400);
    expect((await updateHint({ client: server.client(instance.domain, { token: 'bad' }), body: { hint: 'x' } })).response.status).toBe(400);
    const noBody = await updateHint({ client: putOnly, body: {} as never });
    expect(noBody.response.status).toBe(400);
    expect((await updateHint({ client: server.client(`nobody.test:${server.port}`), body: { hint: 'x' } })).response.status).toBe(404);
    expect((await getHint({ client: server.client(`nobody.test:${server.port}`) })).response.status).toBe(404);
    expect((await server.instance(instance.domain)).passphraseHint).toBeNull();
  });
});

describe.each(testEngines)('POST /settings/vault (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine });
  });
  afterAll(() => server.stop());

  it('queues the accounts-to-organization migration once and marks the extension installed', async () => {
    const instance = await server.createInstance('vault1', { passphrase: 'pw', kdf_iterations: ITERATIONS });
    const client = server.client(instance.domain, { token: await cliToken(server, instance.domain, 'com.bitwarden.ciphers') });
    expect((await initVault({ client })).response.status).toBe(204);
    const jobs = await listJobs(server.hearth.services.db, { queue: 'migrations', instanceId: instance.id });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.payload).toEqual({ type: 'accounts-to-organization' });
    expect(jobs[0]!.status).toBe('queued');
    expect((await server.instance(instance.domain)).vaultExtensionInstalled).toBe(true);

    expect((await initVault({ client })).response.status).toBe(204);
    expect(await listJobs(server.hearth.services.db, { queue: 'migrations', instanceId: instance.id })).toHaveLength(1);
  });

  it('needs POST on com.bitwarden.ciphers (403), a token (401), a valid one (400); 404 unknown host', async () => {
    const instance = await server.createInstance('vault2', { passphrase: 'pw', kdf_iterations: ITERATIONS });
    const denied = await initVault({ client: server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings') }) });
    expect(denied.response.status).toBe(403);
    expect((await initVault({ client: server.client(instance.domain, { token: await cliToken(server, instance.domain, 'com.bitwarden.ciphers:GET') }) })).response.status).toBe(403);
    expect((await initVault({ client: server.client(instance.domain) })).response.status).toBe(401);
    expect((await initVault({ client: server.client(instance.domain, { token: 'bad' }) })).response.status).toBe(400);
    expect((await initVault({ client: server.client(`nobody.test:${server.port}`) })).response.status).toBe(404);
    expect((await server.instance(instance.domain)).vaultExtensionInstalled).toBe(false);
  });

  it('answers 500 JSON:API when the job cannot be queued, and changes nothing', async () => {
    const instance = await server.createInstance('vault3', { passphrase: 'pw', kdf_iterations: ITERATIONS });
    const client = server.client(instance.domain, { token: await cliToken(server, instance.domain, 'com.bitwarden.ciphers') });
    const db = server.hearth.services.db;
    await sql`ALTER TABLE jobs RENAME TO jobs_away`.execute(db);
    try {
      const res = await initVault({ client });
      expect(res.response.status).toBe(500);
      expect(res.error).toEqual({ errors: [{ status: '500', title: 'Internal Server Error', detail: 'the migrations job could not be queued', source: {} }] });
    } finally {
      await sql`ALTER TABLE jobs_away RENAME TO jobs`.execute(db);
    }
    expect((await server.instance(instance.domain)).vaultExtensionInstalled).toBe(false);
  });
});
