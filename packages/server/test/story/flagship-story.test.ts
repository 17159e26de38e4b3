// The seed's whole flagship story (packages/client/examples/flagship-story.mjs) run as a child
// process against a test server configured with Play Integrity keys from the companion script
// (examples/make-attestation-keys.mjs): the example must keep working with the built client.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSPHRASE, startTestServer, testEngines, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'client', 'examples');

async function node(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(examples, script), ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe.each(testEngines)('the flagship story example (%s)', (engine) => {
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-story-'));
    const made = await node('make-attestation-keys.mjs', ['--out', dir]);
    expect(made.code, made.stderr).toBe(0);
    server = await startTestServer({ engine, configYaml: readFileSync(join(dir, 'hearth-flagship.yaml'), 'utf8') });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every step, from the registration to opening a webapp', async () => {
    const domain = `story.test:${server.port}`;
    const story = await node('flagship-story.mjs', [
      '--public', `http://127.0.0.1:${server.port}`,
      '--admin', `http://127.0.0.1:${server.adminPort}`,
      '--admin-password', ADMIN_PASSPHRASE,
      '--domain', domain,
      '--play-integrity-keys', join(dir, 'attestation-keys.json'),
      '--iterations', '50000',
    ]);
    expect(story.code, `${story.stdout}\n${story.stderr}`).toBe(0);
    const steps = story.stdout.split('\n').filter((l) => /^[✓✗] /.test(l));
    expect(steps.map((l) => l.replace(/^(✓ \d+\. .+? \d{3})(?= |$).*$/, '$1'))).toEqual([
      '✓ 1. admin: create the instance 201',
      '✓ 2. register the OAuth client 201',
      '✓ 3. attestation challenge 201',
      '✓ 4. Play Integrity attestation 204',
      '✓ 5. onboarding: choose the passphrase 200',
      '✓ 6. admin: turn on two-factor authentication by mail 200',
      '✓ 7. login with the passphrase and the mailed 2FA code 200',
      '✓ 8. session code for a webview 201',
      '✓ 9. konnector token 201',
      '✓ 10. open a webapp 200',
    ]);
    // The 2FA round trip really happened: a 401 with the token, the code from the mail, a 200.
    expect(story.stdout).toContain('GET /public/prelogin → 200');
    expect(story.stdout).toMatch(/POST \/auth\/login\/flagship → 401\n.*passcode read from the "Your sign-in code for Story" mail\n\s+POST \/auth\/login\/flagship → 200/);
    expect(story.stdout).toContain('tokens, scope *');
    expect(story.stdout).toContain('aud konn sub banks');
    expect(story.stdout).toContain(`drive on ${domain}`);
    expect(story.stdout).toContain('flagship story: done');

    // Side effects seen from the server: the client is certified by the store, the instance is
    // onboarded with 2FA by mail, and one 2FA passcode mail went out.
    const instance = await server.instance(domain);
    expect(instance.onboardingFinished).toBe(true);
    expect(instance.authMode).toBe('two_factor_mail');
    const mails = await server.mails(instance);
    expect(mails.filter((m) => m.template === 'two_factor')).toHaveLength(1);
  });

  it('fails with exit code 1 and says which step broke (attestation keys the server does not know)', async () => {
    const other = mkdtempSync(join(tmpdir(), 'hearth-story-other-'));
    try {
      expect((await node('make-attestation-keys.mjs', ['--out', other])).code).toBe(0);
      const story = await node('flagship-story.mjs', [
        '--public', `http://127.0.0.1:${server.port}`,
        '--admin', `http://127.0.0.1:${server.adminPort}`,
        '--admin-password', ADMIN_PASSPHRASE,
        '--domain', `story2.test:${server.port}`,
        '--play-integrity-keys', join(other, 'attestation-keys.json'),
        '--iterations', '50000',
      ]);
      expect(story.code).toBe(1);
      expect(story.stdout).toContain('✓ 3. attestation challenge 201');
      expect(story.stdout).toMatch(/✗ 4\. Play Integrity attestation: expected 204, got 400: .*cannot decrypt the attestation/);
      expect(story.stdout).not.toContain('✓ 5.');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
