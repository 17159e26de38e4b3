// Two `hearth serve` processes (the built CLI, packages/server/dist) on different ports sharing
// one database behave as one server (issue: performance and scale, "several processes, one
// PostgreSQL"). Run on PostgreSQL (a fresh database per run) when HEARTH_TEST_DATABASE_URL is set,
// and on one SQLite file shared by both processes.
//
// Each check sends its requests to both processes, most of them at the same moment:
// - a session opened on A is valid on B;
// - a session code, an attestation nonce and an OAuth authorization code are used once across both;
// - a magic-link code (reusable for 15 minutes, reference §0.9) is seen by both;
// - the `oauth-client` rate limit (50 an hour) counts the registrations of both;
// - mails and push notifications queued through both are delivered once each, by either worker.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import {
  createAccessToken,
  createAttestationChallenge,
  createClient,
  createConfig,
  createNotification,
  getAuthorizePage,
  getCurrentSession,
  openMagicLink,
  registerOAuthClient,
  submitAttestation,
  updateAuthMode,
  updateOAuthClientRegistration,
} from '@hearth/client';
import {
  checkSessionCode,
  createClient as createAdminClient,
  createConfig as createAdminConfig,
  createInstance,
  createMagicLinkCode,
  createSessionCodeAdmin,
  createToken,
  installApp,
  listMails,
} from '@hearth/client/admin';
import { loopbackFetch, loopbackFetchAs } from '../helpers/http.js';
import { startFakeFcm, startSmtpReceiver, waitFor, type FakeFcm } from '../helpers/fakes.js';
import { testDatabaseUrl, testEngines } from '../helpers/database.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', '..', 'dist', 'cli', 'main.js');
const ADMIN_PASSPHRASE = 'multi-process-admin';
const DOMAIN = 'multi.localhost';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Proc {
  name: string;
  port: number;
  adminPort: number;
  child: ChildProcess;
  output: string[];
}

async function startServe(name: string, env: Record<string, string>): Promise<Proc> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: { PATH: process.env.PATH ?? '', ...env, HEARTH_PORT: String(port), HEARTH_ADMIN_PORT: String(adminPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString('utf8')));
  const proc = { name, port, adminPort, child, output };
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`hearth serve ${name} exited with ${child.exitCode}:\n${output.join('')}`);
    try {
      return (await fetch(`http://127.0.0.1:${port}/status`)).status === 200;
    } catch {
      return false;
    }
  }, `hearth serve ${name}`, 30_000);
  return proc;
}

async function stopServe(p: Proc | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  p.child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (p.child.exitCode === null) p.child.kill('SIGKILL');
}

const describeBuilt = existsSync(cli) ? describe : describe.skip;

describeBuilt.each(testEngines)('two hearth serve processes on one %s database', (engine) => {
  let dir: string;
  let pgDatabase: string | undefined;
  let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  let fcm: FakeFcm;
  let a: Proc;
  let b: Proc;
  let cliToken: string;

  /** The generated public client for an instance through one process (same Host on every port). */
  const pub = (p: Proc, o: { token?: string; cookie?: string; accept?: string; domain?: string } = {}) =>
    createClient(
      createConfig({
        baseUrl: `http://127.0.0.1:${p.port}`,
        fetch: loopbackFetchAs(o.domain ?? DOMAIN),
        headers: { Accept: o.accept ?? 'application/json', ...(o.cookie ? { Cookie: o.cookie } : {}) },
        auth: o.token ? () => o.token : undefined,
      }),
    );
  const admin = (p: Proc) =>
    createAdminClient(
      createAdminConfig({
        baseUrl: `http://127.0.0.1:${p.adminPort}`,
        fetch: loopbackFetch as typeof fetch,
        headers: { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSPHRASE}`).toString('base64')}` },
      }),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-multi-'));
    [smtp, fcm] = await Promise.all([startSmtpReceiver(), startFakeFcm()]);
    let databaseUrl: string;
    if (engine === 'postgres') {
      pgDatabase = `hearth_multi_${process.pid}_${Date.now().toString(36)}`;
      const c = new pg.Client({ connectionString: testDatabaseUrl });
      await c.connect();
      await c.query(`CREATE DATABASE "${pgDatabase}"`);
      await c.end();
      const url = new URL(testDatabaseUrl!);
      url.pathname = `/${pgDatabase}`;
      databaseUrl = url.toString();
    } else {
      databaseUrl = `sqlite:${join(dir, 'shared.sqlite')}`;
    }
    const configFile = join(dir, 'hearth.yaml');
    writeFileSync(configFile, JSON.stringify({ notifications: { fcm: { url: fcm.url, credentials: fcm.credentials } } }));
    const env = {
      HEARTH_ENV: 'test',
      HEARTH_HOST: '127.0.0.1',
      HEARTH_ADMIN_PASSPHRASE: ADMIN_PASSPHRASE,
      HEARTH_DATABASE_URL: databaseUrl,
      HEARTH_CONFIG: configFile,
      HEARTH_SMTP_URL: smtp.url,
      HEARTH_DEMO_INSTANCE: '',
      HEARTH_LOG_LEVEL: 'warn',
    };
    // Both migrate at start: the second finds the schema up to date.
    a = await startServe('A', { ...env, HEARTH_DATA_DIR: join(dir, 'a') });
    b = await startServe('B', { ...env, HEARTH_DATA_DIR: join(dir, 'b') });

    const created = await createInstance({
      client: admin(a),
      body: { domain: DOMAIN, email: 'owner@example.net', public_name: 'Multi', passphrase: 'correct horse battery staple', kdf_iterations: 50_000, magic_link: true },
    });
    expect(created.response.status).toBe(201);
    const token = await createToken({ client: admin(b), path: { domain: DOMAIN }, body: { audience: 'cli', subject: 'cli', scope: 'io.cozy.settings' } });
    expect(token.response.status).toBe(201);
    cliToken = token.data!.token;
  }, 90_000);

  afterAll(async () => {
    await Promise.all([stopServe(a), stopServe(b)]);
    await Promise.all([smtp?.close(), fcm?.close()]);
    if (pgDatabase) {
      const c = new pg.Client({ connectionString: testDatabaseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${pgDatabase}" WITH (FORCE)`);
      await c.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  /** Opens a browser session through `p` with a magic-link code made by the other process's admin API. */
  async function magicSession(p: Proc, other: Proc): Promise<string> {
    const code = await createMagicLinkCode({ client: admin(other), path: { domain: DOMAIN } });
    expect(code.response.status).toBe(201);
    const opened = await openMagicLink({ client: pub(p, { accept: 'text/html' }), query: { code: code.data!.code } });
    expect(opened.response.status).toBe(303);
    const cookie = /^(cozysessid=[^;]+)/.exec(opened.response.headers.get('set-cookie') ?? '')?.[1];
    expect(cookie).toBeDefined();
    return cookie!;
  }

  it('a session opened on A is valid on B, and a magic-link code made on B works on A', async () => {
    const cookie = await magicSession(a, b);
    const onA = await getCurrentSession({ client: pub(a, { cookie }) });
    const onB = await getCurrentSession({ client: pub(b, { cookie }) });
    expect(onA.response.status).toBe(200);
    expect(onB.response.status).toBe(200);
    expect(onB.data!.data.id).toBe(onA.data!.data.id);
  });

  it('a session code is consumed once across both processes, even when both check it at once', async () => {
    for (let i = 0; i < 8; i++) {
      const made = await createSessionCodeAdmin({ client: admin(i % 2 ? a : b), path: { domain: DOMAIN } });
      expect(made.response.status).toBe(201);
      const body = { session_code: made.data!.session_code };
      const answers = await Promise.all([a, b].map((p) => checkSessionCode({ client: admin(p), path: { domain: DOMAIN }, body })));
      expect(answers.map((r) => r.response.status).sort()).toEqual([200, 403]);
    }
  });

  it('an attestation nonce is consumed once across both processes', async () => {
    const reg = await registerOAuthClient({
      client: pub(a),
      body: { redirect_uris: ['cozy://flagship'], client_name: 'Flagship', software_id: 'github.com/cozy/cozy-flagship-app' },
    });
    expect(reg.response.status).toBe(201);
    const { client_id, registration_access_token } = reg.data!;
    for (let i = 0; i < 5; i++) {
      const ch = await createAttestationChallenge({ client: pub(i % 2 ? a : b, { token: registration_access_token }), path: { clientId: client_id } });
      expect(ch.response.status).toBe(201);
      const body = { platform: 'android' as const, issuer: 'playintegrity', challenge: ch.data!.nonce, attestation: 'not.a.valid.jwe.value' };
      const answers = await Promise.all([a, b].map((p) => submitAttestation({ client: pub(p), path: { clientId: client_id }, body })));
      // Both fail (the attestation is garbage) but only one of them got past the nonce.
      expect(answers.map((r) => r.response.status)).toEqual([400, 400]);
      const errors = answers.map((r) => (r.error as { error: string }).error);
      expect(errors.filter((e) => e === 'invalid challenge')).toHaveLength(1);
    }
  });

  it('an authorization code is exchanged once across both processes', async () => {
    const reg = await registerOAuthClient({
      client: pub(b),
      body: { redirect_uris: ['https://app.example.org/callback'], client_name: 'Web client', software_id: 'org.example.web' },
    });
    expect(reg.response.status).toBe(201);
    const c = reg.data!;
    // No consent for a client created at onboarding (reference §3.12 step 9): the code comes at once.
    const put = await updateOAuthClientRegistration({
      client: pub(a, { token: c.registration_access_token }),
      path: { clientId: c.client_id },
      body: { client_id: c.client_id, redirect_uris: c.redirect_uris, client_name: c.client_name, software_id: c.software_id, created_at_onboarding: true },
    });
    expect(put.response.status).toBe(200);
    const cookie = await magicSession(b, a);
    for (let i = 0; i < 4; i++) {
      const page = await getAuthorizePage({
        client: pub(i % 2 ? a : b, { cookie, accept: 'text/html' }),
        query: { client_id: c.client_id, redirect_uri: 'https://app.example.org/callback', state: `s${i}`, response_type: 'code', scope: 'io.cozy.files' },
      });
      expect(page.response.status).toBe(302);
      const code = new URL(page.response.headers.get('location')!).searchParams.get('code')!;
      expect(code).toMatch(/^[0-9a-f]{32}$/);
      const form = { grant_type: 'authorization_code' as const, client_id: c.client_id, client_secret: c.client_secret, code };
      const answers = await Promise.all(
        [a, b].map((p) => createAccessToken({ client: pub(p), body: form })),
      );
      expect(answers.map((r) => r.response.status).sort()).toEqual([200, 400]);
      const refused = answers.find((r) => r.response.status === 400)!;
      expect(refused.error).toEqual({ error: 'invalid code' });
    }
  });

  it('the oauth-client rate limit (50 an hour) counts the registrations of both processes', async () => {
    const domain = 'burst.localhost';
    expect((await createInstance({ client: admin(b), body: { domain, email: 'burst@example.net' } })).response.status).toBe(201);
    const body = { redirect_uris: ['https://app.example.org/cb'], client_name: 'Burst', software_id: 'org.example.burst' };
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const pair = await Promise.all([a, b].map((p) => registerOAuthClient({ client: pub(p, { domain }), body })));
      statuses.push(...pair.map((r) => r.response.status));
    }
    expect(statuses).toEqual(Array<number>(50).fill(201));
    // The 51st registration of the hour is refused by either process.
    for (const p of [a, b]) {
      const refused = await registerOAuthClient({ client: pub(p, { domain }), body });
      expect(refused.response.status).toBe(404);
      expect(refused.error).toEqual({ error: 'Not found' });
    }
  });

  it('mails queued through both processes are delivered once each', async () => {
    const before = smtp.received.length;
    for (let i = 0; i < 10; i++) {
      const r = await updateAuthMode({ client: pub(i % 2 ? a : b, { token: cliToken }), body: { auth_mode: 'two_factor_mail' } });
      expect(r.response.status).toBe(204);
    }
    await waitFor(() => smtp.received.length >= before + 10, '10 mails');
    // Give a duplicate delivery time to show up before counting.
    await new Promise((r) => setTimeout(r, 1500));
    const activation = smtp.received.slice(before);
    expect(activation).toHaveLength(10);
    const mails = await listMails({ client: admin(a), path: { domain: DOMAIN } });
    const queued = mails.data!.mails.filter((m) => m.template === 'two_factor_mail_confirmation');
    expect(queued).toHaveLength(10);
    expect(queued.every((m) => m.status === 'sent')).toBe(true);
    // The second, third… codes differ from the first only by time: every mail is its own.
    expect(new Set(queued.map((m) => m.id)).size).toBe(10);
  });

  it('push notifications queued through both processes are delivered once each', async () => {
    const app = await installApp({
      client: admin(b),
      path: { domain: DOMAIN },
      body: { slug: 'drive', type: 'webapp', notifications: { share: { description: 'Shares' } } },
    });
    expect(app.response.status).toBe(201);
    const reg = await registerOAuthClient({
      client: pub(a),
      body: { redirect_uris: ['cozy://drive'], client_name: 'Drive mobile', software_id: 'io.cozy.drive.mobile', notification_platform: 'firebase', notification_device_token: 'device-ok-multi' },
    });
    expect(reg.response.status).toBe(201);
    const appToken = await createToken({ client: admin(a), path: { domain: DOMAIN }, body: { audience: 'app', subject: 'drive' } });
    expect(appToken.response.status).toBe(201);
    const before = fcm.delivered.length;
    for (let i = 0; i < 10; i++) {
      const r = await createNotification({
        client: pub(i % 2 ? a : b, { token: appToken.data!.token }),
        body: { data: { type: 'io.cozy.notifications', attributes: { title: `Shared ${i}`, category: 'share', preferred_channels: ['mobile'] } } },
      });
      expect(r.response.status).toBe(201);
    }
    await waitFor(() => fcm.delivered.length >= before + 10, '10 pushes');
    await new Promise((r) => setTimeout(r, 1500));
    const pushed = fcm.delivered.slice(before).map((d) => d.message.data.title);
    expect(pushed.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `Shared ${i}`).sort());
  });
});
