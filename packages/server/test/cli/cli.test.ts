// The `hearth` CLI, as built (dist/cli/main.js), against a real test server: stdout, stderr and
// exit codes (0 success, 1 usage or refused, 2 admin API unreachable, 3 not found).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getCapabilities } from '@hearth/client';
import { verifyJwt } from '../../src/security/index.js';
import { ADMIN_PASSPHRASE, startTestServer, testEngines, type TestServer } from '../helpers/server.js';

// Each case spawns the CLI several times (a node start each): generous limits for loaded machines.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 300_000 });

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with a clean environment (only PATH/HOME and the given variables). */
function runCli(args: string[], env: Record<string, string>, opts: { onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HEARTH_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      opts.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  // Build the CLI as shipped (tsc emits even when another file has a type error).
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const tsc = spawn(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'ignore' });
    tsc.on('error', reject);
    tsc.on('close', () => resolve());
  });
  if (!existsSync(cli) || statSync(cli).mtimeMs < started - 1000) throw new Error('the CLI was not built (dist/cli/main.js)');
}, 300_000);

describe('hearth (no server)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'hearth-cli-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('--help lists the commands (exit 0); no command is a usage error (exit 1)', async () => {
    const help = await runCli(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: hearth <command>');
    for (const cmd of ['serve', 'migrate', 'config check', 'instances']) expect(help.stdout).toContain(cmd);
    const none = await runCli([], {});
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('Usage: hearth');
    const unknown = await runCli(['frobnicate'], {});
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('hearth: unknown command "frobnicate"');
  });

  it('<cmd> --help prints the options of a command', async () => {
    const add = await runCli(['instances', 'add', '--help'], {});
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('Usage: hearth instances add <domain>');
    expect(add.stdout).toContain('--kdf-iterations');
    const group = await runCli(['instances', '--help'], {});
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('token-cli <domain> [scope…]');
    const config = await runCli(['config', '--help'], {});
    expect(config.stdout).toContain('Usage: hearth config check');
    const badOption = await runCli(['instances', 'ls', '--colour'], {});
    expect(badOption.code).toBe(1);
    expect(badOption.stderr).toContain("Unknown option '--colour'");
  });

  it('config check: prints the redacted configuration (YAML, or JSON with --json)', async () => {
    const env = { HEARTH_PORT: '8181', HEARTH_ADMIN_PASSPHRASE: 'a-secret-passphrase', HEARTH_DATA_DIR: dataDir };
    const yaml = await runCli(['config', 'check'], env);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toMatch(/public:\n\s+host: 0\.0\.0\.0\n\s+port: 8181/);
    expect(yaml.stdout).not.toContain('a-secret-passphrase');
    expect(yaml.stderr).toContain('The configuration is valid.');
    const json = await runCli(['config', 'check', '--json'], env);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { valid: boolean; config: { public: { port: number }; admin: { passphrase: string } } };
    expect(parsed.valid).toBe(true);
    expect(parsed.config.public.port).toBe(8181);
    expect(parsed.config.admin.passphrase).toBe('<redacted>');
  });

  it('config check: a bad HEARTH_PORT exits 1 with the issue', async () => {
    const bad = await runCli(['config', 'check'], { HEARTH_PORT: 'eighty', HEARTH_DATA_DIR: dataDir });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('HEARTH_PORT: must be an integer between 0 and 65535');
    expect(bad.stderr).not.toContain('eighty');
    const json = await runCli(['config', 'check', '--json'], { HEARTH_PORT: '99999', HEARTH_DATA_DIR: dataDir });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ valid: false, issues: [{ path: 'HEARTH_PORT', message: 'must be an integer between 0 and 65535' }] });
  });

  it('migrate applies the migrations once', async () => {
    const env = { HEARTH_DATA_DIR: join(dataDir, 'migrate') };
    const first = await runCli(['migrate'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Applied 1 migration to the sqlite database:\n  0001_initial');
    const second = await runCli(['migrate', '--json'], env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({ database: 'sqlite', applied: [] });
  });

  it('serve starts both listeners and stops gracefully on SIGTERM', async () => {
    const env = { HEARTH_DATA_DIR: join(dataDir, 'serve'), HEARTH_HOST: '127.0.0.1', HEARTH_PORT: '0', HEARTH_ADMIN_PORT: '0', HEARTH_DEMO_INSTANCE: '', HEARTH_ADMIN_PASSPHRASE: ADMIN_PASSPHRASE, HEARTH_LOG_LEVEL: 'info' };
    let adminUrl: string | undefined;
    let statusOk: Promise<boolean> | undefined;
    const run = await runCli(['serve'], env, {
      onStdout: (out, child) => {
        if (adminUrl) return;
        const line = out.split('\n').find((l) => l.includes('hearth is listening'));
        if (!line) return;
        adminUrl = `http://${(JSON.parse(line) as { admin: string }).admin}`;
        statusOk = fetch(`${adminUrl}/status`)
          .then((r) => r.ok)
          .finally(() => child.kill('SIGTERM'));
      },
    });
    expect(await statusOk).toBe(true);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"signal":"SIGTERM"');
    expect(run.stdout).toContain('hearth stopped');
  });

  it('exits 2 when the admin API is unreachable', async () => {
    const run = await runCli(['instances', 'ls'], { HEARTH_ADMIN_PORT: String(await closedPort()), HEARTH_DATA_DIR: dataDir });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('hearth: cannot reach the admin API at http://127.0.0.1:');
  });
});

describe.each(testEngines)('hearth instances (%s)', (engine) => {
  let server: TestServer;
  let dataDir: string;
  let env: Record<string, string>;
  const d = (name: string) => `${name}.test:${server.port}`;
  const hearth = (...args: string[]) => runCli(args, env);

  beforeAll(async () => {
    server = await startTestServer({ engine });
    dataDir = mkdtempSync(join(tmpdir(), 'hearth-cli-'));
    env = { HEARTH_ADMIN_HOST: '127.0.0.1', HEARTH_ADMIN_PORT: String(server.adminPort), HEARTH_ADMIN_PASSPHRASE: ADMIN_PASSPHRASE, HEARTH_DATA_DIR: dataDir };
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('add creates an instance and prints it with its onboarding link', async () => {
    const run = await hearth('instances', 'add', d('alice'), '--email', 'alice@example.com', '--public-name', 'Alice', '--locale', 'fr', '--feature-flag', 'cozy.oauthclients.max=3', '--feature-flag', 'name=x');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^domain: +${d('alice')}$`, 'm'));
    expect(run.stdout).toMatch(/^public_name: +Alice$/m);
    expect(run.stdout).toMatch(/^onboarding_finished: +no$/m);
    const token = /^register_token: +([0-9a-f]{32})$/m.exec(run.stdout)?.[1];
    expect(token).toBeDefined();
    expect(run.stdout).toContain(`onboarding_url:      http://${d('alice')}/auth/passphrase?registerToken=${token}`);
    const stored = await server.instance(d('alice'));
    expect(stored).toMatchObject({ locale: 'fr', registerToken: token, featureFlags: { 'cozy.oauthclients.max': 3, name: 'x' } });
  });

  it('add --json with a passphrase creates an onboarded instance', async () => {
    const run = await hearth('instances', 'add', d('bob'), '--passphrase', 'pass', '--kdf-iterations', '50000', '--email', 'bob@example.com', '--auth-mode', 'two_factor_mail', '--json');
    expect(run.code).toBe(0);
    const view = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(view).toMatchObject({ domain: d('bob'), onboarding_finished: true, password_defined: true, kdf_iterations: 50000, auth_mode: 'two_factor_mail' });
    expect(view).not.toHaveProperty('register_token');
  });

  it('add refuses a taken domain and invalid values (exit 1, message on stderr)', async () => {
    const taken = await hearth('instances', 'add', d('alice'));
    expect(taken.code).toBe(1);
    expect(taken.stdout).toBe('');
    expect(taken.stderr).toBe('hearth: instance already exists\n');
    const bad = await hearth('instances', 'add', d('carl'), '--passphrase', 'p', '--kdf-iterations', '10');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('hearth: kdf_iterations must be between 50000 and 5000000 (--kdf-iterations)\n');
    const notNumber = await hearth('instances', 'add', d('carl'), '--disk-quota', 'lots');
    expect(notNumber.code).toBe(1);
    expect(notNumber.stderr).toContain('--disk-quota must be a non-negative integer');
    const missing = await hearth('instances', 'add');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('hearth: missing <domain>');
    expect((await hearth('instances', 'show', d('carl'))).code).toBe(3);
  });

  it('ls prints a table, --json the list', async () => {
    const run = await hearth('instances', 'ls');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^DOMAIN +EMAIL +CONTEXT +ONBOARDED +BLOCKED +CREATED$/);
    expect(lines.find((l) => l.startsWith(d('alice')))).toMatch(/alice@example\.com +default +no +no +\d{4}-/);
    expect(lines.find((l) => l.startsWith(d('bob')))).toMatch(/bob@example\.com +default +yes +no/);
    const json = JSON.parse((await hearth('instances', 'ls', '--json')).stdout) as { count: number; instances: { domain: string }[] };
    expect(json.count).toBe(json.instances.length);
    expect(json.instances.map((i) => i.domain)).toEqual(expect.arrayContaining([d('alice'), d('bob')]));
  });

  it('show prints aligned key: value lines; an unknown domain exits 3', async () => {
    const run = await hearth('instances', 'show', d('alice'));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^email: +alice@example\.com$/m);
    expect(run.stdout).toMatch(/^feature_flags: +\{"cozy\.oauthclients\.max":3,"name":"x"\}$/m);
    expect(run.stdout).toMatch(/^disk_quota: +-$/m);
    const json = JSON.parse((await hearth('instances', 'show', d('alice'), '--json')).stdout) as { email: string };
    expect(json.email).toBe('alice@example.com');
    const missing = await hearth('instances', 'show', d('nobody'));
    expect(missing.code).toBe(3);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('hearth: instance not found\n');
  });

  it('modify changes the given fields, blocks and unblocks', async () => {
    const block = await hearth('instances', 'modify', d('alice'), '--blocked', '--blocking-reason', 'PAYMENT_FAILED', '--feature-flag', 'name=', '--feature-flag', 'new=true', '--disk-quota', '1000');
    expect(block.code).toBe(0);
    expect(block.stdout).toMatch(/^blocked: +yes$/m);
    expect(block.stdout).toMatch(/^blocking_reason: +PAYMENT_FAILED$/m);
    let stored = await server.instance(d('alice'));
    expect(stored).toMatchObject({ blocked: true, blockingReason: 'PAYMENT_FAILED', diskQuota: 1000, featureFlags: { 'cozy.oauthclients.max': 3, new: true } });
    const unblock = await hearth('instances', 'modify', d('alice'), '--no-blocked', '--email', '', '--disk-quota', '', '--onboarding-finished');
    expect(unblock.code).toBe(0);
    expect(unblock.stdout).toMatch(/^blocked: +no$/m);
    expect(unblock.stdout).toMatch(/^email: +-$/m);
    expect(unblock.stdout).not.toContain('register_token');
    stored = await server.instance(d('alice'));
    expect(stored).toMatchObject({ blocked: false, blockingReason: null, diskQuota: null, onboardingFinished: true });
    const nothing = await hearth('instances', 'modify', d('alice'));
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('nothing to change');
    const refused = await hearth('instances', 'modify', d('alice'), '--blocking-reason', 'MOVING');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('hearth: blocking_reason requires blocked (--blocking-reason)\n');
    expect((await hearth('instances', 'modify', d('nobody'), '--locale', 'en')).code).toBe(3);
  });

  it('token-cli prints the token alone, usable on the public API', async () => {
    const run = await hearth('instances', 'token-cli', d('alice'), 'io.cozy.settings', 'io.cozy.files:GET');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const token = run.stdout.trim();
    const alice = await server.instance(d('alice'));
    const verified = await verifyJwt(Buffer.from(alice.cliSecret, 'base64'), token, { audience: 'cli', issuers: [d('alice')] });
    expect(verified).toMatchObject({ ok: true, claims: { scope: 'io.cozy.settings io.cozy.files:GET' } });
    const caps = await getCapabilities({ client: server.client(d('alice'), { token }) });
    expect(caps.response.status).toBe(200);
    expect((await hearth('instances', 'token-cli', d('nobody'))).code).toBe(3);
  });

  it('token-app, token-konnector, client-oauth and token-oauth', async () => {
    const alice = await server.instance(d('alice'));
    const app = await hearth('instances', 'token-app', d('alice'), 'drive');
    expect(app.code).toBe(0);
    expect(JSON.parse(Buffer.from(app.stdout.split('.')[1]!, 'base64url').toString())).toMatchObject({ aud: ['app'], sub: 'drive', iss: d('alice') });
    const konn = await hearth('instances', 'token-konnector', d('alice'), 'ameli');
    expect(JSON.parse(Buffer.from(konn.stdout.split('.')[1]!, 'base64url').toString())).toMatchObject({ aud: ['konn'], sub: 'ameli' });
    const client = await hearth('instances', 'client-oauth', d('alice'), 'cozy://callback', 'CLI client', 'cli-software', '--flagship', '--json');
    expect(client.code).toBe(0);
    const created = JSON.parse(client.stdout) as { client_id: string; flagship: boolean; registration_access_token: string };
    expect(created).toMatchObject({ flagship: true, allow_login_scope: false, pending: false, client_name: 'CLI client' });
    const human = await hearth('instances', 'client-oauth', d('alice'), 'cozy://callback', 'CLI client', 'cli-software', '--allow-login-scope');
    expect(human.stdout).toMatch(/^client_name: +CLI client-2$/m);
    expect(human.stdout).toMatch(/^allow_login_scope: +yes$/m);
    const access = await hearth('instances', 'token-oauth', d('alice'), created.client_id, 'io.cozy.files');
    expect(access.code).toBe(0);
    const verified = await verifyJwt(Buffer.from(alice.oauthSecret, 'base64'), access.stdout.trim(), { audience: 'access', issuers: [d('alice')] });
    expect(verified).toMatchObject({ ok: true, claims: { sub: created.client_id, scope: 'io.cozy.files' } });
    const unknownClient = await hearth('instances', 'token-oauth', d('alice'), 'f'.repeat(32), '*');
    expect(unknownClient.code).toBe(1);
    expect(unknownClient.stderr).toBe('hearth: unknown OAuth client (--subject)\n');
  });

  it('mails prints the mails with their text', async () => {
    const none = await hearth('instances', 'mails', d('bob'));
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('No mail.\n');
    const bob = await server.instance(d('bob'));
    await server.hearth.services.sendMail({ instance: bob, template: 'two_factor', values: { TwoFactorPasscode: '482913' } });
    const run = await hearth('instances', 'mails', d('bob'));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^── \S+ +\w+.* +two_factor$/m);
    expect(run.stdout).toMatch(/^to: +bob@example\.com$/m);
    expect(run.stdout).toContain('482913');
    const json = JSON.parse((await hearth('instances', 'mails', d('bob'), '--json')).stdout) as { mails: { template: string }[] };
    expect(json.mails.map((m) => m.template)).toEqual(['two_factor']);
    expect((await hearth('instances', 'mails', d('nobody'))).code).toBe(3);
  });

  it('rm needs --force without a terminal, then deletes', async () => {
    const refused = await hearth('instances', 'rm', d('bob'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('without --force');
    expect((await hearth('instances', 'show', d('bob'))).code).toBe(0);
    const run = await hearth('instances', 'rm', d('bob'), '--force');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`Deleted ${d('bob')}.\n`);
    expect((await hearth('instances', 'show', d('bob'))).code).toBe(3);
    const again = await hearth('instances', 'rm', d('bob'), '--force');
    expect(again.code).toBe(3);
  });

  it('a wrong admin passphrase exits 1 with the reason', async () => {
    const run = await runCli(['instances', 'ls'], { ...env, HEARTH_ADMIN_PASSPHRASE: 'wrong' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('hearth: invalid admin credentials: the admin API refused the passphrase');
  });
});
