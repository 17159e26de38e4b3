#!/usr/bin/env node
// `pnpm bench`: Hearth's hot routes against a bare Express 5 route answering the same bytes, in
// the same run, A/B alternated, with autocannon. Hearth and the bare server run as child
// processes (so their RSS is theirs); autocannon runs here. Prints one line per scenario and
// writes BENCHMARKS.md at the repository root.
//
//   pnpm bench                          embedded SQLite
//   HEARTH_BENCH_DATABASE_URL=postgres://… pnpm bench     also on PostgreSQL
//   BENCH_DURATION=10 BENCH_CONNECTIONS=50 pnpm bench
// Needs the built server (`pnpm build`).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const root = join(pkg, '..', '..');
const dist = (p) => import(join(pkg, 'dist', p));
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PASSWORD = 'bench passphrase';

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function waitFor(url, headers = {}, timeoutMs = 30_000) {
  const started = performance.now();
  for (;;) {
    try {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      return performance.now() - started;
    } catch {
      if (performance.now() - started > timeoutMs) throw new Error(`${url} did not answer`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Creates the data the scenarios need directly in the database, before the server starts. */
async function seed(env, { extraInstances = 0 } = {}) {
  const { loadConfig } = await dist('config/config.js');
  const { createLogger } = await dist('log.js');
  const { createServices } = await dist('services.js');
  const { createInstance } = await dist('domain/instances.js');
  const { createOAuthClient } = await dist('repositories/oauth-clients.js');
  const { signJwt } = await dist('security/index.js');
  const config = loadConfig({ env: { ...env, HEARTH_LOG_LEVEL: 'silent' } });
  const services = await createServices(config, createLogger(config));
  const domain = `bench.localhost:${env.HEARTH_PORT}`;
  const instance = await createInstance(services, { domain, email: 'bench@example.net', public_name: 'Bench', passphrase: PASSWORD, kdf_iterations: 50_000 });
  for (let i = 0; i < extraInstances; i += 500) {
    await services.db.transaction().execute(async (tx) => {
      const { createInstance: insert } = await dist('repositories/instances.js');
      for (let j = i; j < Math.min(i + 500, extraInstances); j++) await insert(tx, { domain: `filler-${j}.localhost:${env.HEARTH_PORT}`, onboardingFinished: true });
    });
  }
  const client = await createOAuthClient(services.db, { instanceId: instance.id, clientName: 'Bench', softwareId: 'bench', flagship: true, pending: false, metadata: { redirect_uris: ['https://bench.example/cb'] } });
  const key = Buffer.from(instance.oauthSecret, 'base64');
  const access = await signJwt(key, { aud: 'access', iss: domain, sub: client.id, scope: 'io.cozy.settings' });
  const refresh = await signJwt(key, { aud: 'refresh', iss: domain, sub: client.id, scope: 'io.cozy.settings' });
  const settings = await (await dist('repositories/settings.js')).getSettings(services.db, instance.id);
  await services.close();
  return { domain, access, refresh, client, rev: settings.rev };
}

function startHearth(env) {
  const started = performance.now();
  const child = spawn(process.execPath, [join(pkg, 'dist', 'cli', 'main.js'), 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return { child, started };
}

function startBare(port, body, contentType) {
  const code = `
    const express = require(${JSON.stringify(join(pkg, 'node_modules', 'express'))});
    const app = express();
    const body = Buffer.from(${JSON.stringify(body)});
    app.get('/settings/capabilities', (req, res) => { res.set('Content-Type', ${JSON.stringify(contentType)}); res.send(body); });
    app.listen(${port}, '127.0.0.1');`;
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

/** `  ✔ what` or `  ✖ what`. */
function verdictOf(ok, what) {
  return `  ${ok ? '✔' : '✖'} ${what}`;
}

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

function summary(r) {
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

async function benchEngine(label, dbEnv) {
  const port = await freePort();
  const baseEnv = {
    HEARTH_ENV: 'production',
    HEARTH_HOST: '127.0.0.1',
    HEARTH_PORT: String(port),
    HEARTH_ADMIN_PORT: String(await freePort()),
    HEARTH_ADMIN_PASSPHRASE: 'bench-admin-passphrase',
    HEARTH_DEMO_INSTANCE: '',
    HEARTH_LOG_LEVEL: 'warn',
    ...dbEnv,
  };
  const rows = [];
  const measure = async (name, fn) => {
    const r = await fn();
    rows.push({ engine: label, scenario: name, ...r });
    console.log(`${label.padEnd(10)} ${name.padEnd(48)} ${r.line}`);
  };

  for (const extra of [0, 10_000]) {
    if (extra && process.env.BENCH_SKIP_10K) continue;
    // A fresh database for each round (a new SQLite file; PostgreSQL is emptied after a round).
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-'));
    const env = { ...baseEnv, HEARTH_DATA_DIR: dataDir };
    const data = await seed(env, { extraInstances: extra });
    const base = `http://127.0.0.1:${port}`;
    const host = data.domain;
    const auth = { host, authorization: `Bearer ${data.access}`, accept: 'application/json' };
    const { child, started } = startHearth(env);
    await waitFor(`${base}/status`);
    const coldStart = performance.now() - started;
    await new Promise((r) => setTimeout(r, 500));
    const idleRss = rssMiB(child.pid);
    const suffix = extra ? ` (${extra} instances)` : '';
    if (!extra) {
      await measure('cold start to first answer, idle RSS', async () => ({
        line: `${coldStart.toFixed(0)} ms${verdictOf(coldStart < 1500, 'budget < 1500 ms')}, idle RSS ${idleRss.toFixed(0)} MiB${label === 'sqlite' ? verdictOf(idleRss < 150, 'budget < 150 MiB') : ''}`,
        coldStartMs: coldStart,
        idleRssMiB: idleRss,
        ok: coldStart < 1500 && (label !== 'sqlite' || idleRss < 150),
      }));
    }

    const capabilities = await fetch(`${base}/settings/capabilities`, { headers: auth });
    const capBody = await capabilities.text();
    const barePort = await freePort();
    const bare = startBare(barePort, capBody, capabilities.headers.get('content-type'));
    await waitFor(`http://127.0.0.1:${barePort}/settings/capabilities`);

    const scenarios = [
      ['GET /settings/capabilities (OAuth token)', { url: `${base}/settings/capabilities`, headers: auth }, 0.6],
      ['GET /settings/instance (OAuth token)', { url: `${base}/settings/instance`, headers: auth }, 0.45],
      ['GET /settings/flags (OAuth token)', { url: `${base}/settings/flags`, headers: auth }, 0.45],
      ['GET /public/prelogin', { url: `${base}/public/prelogin`, headers: { host, accept: 'application/json' } }, null],
      [
        'PUT /settings/instance (unchanged document)',
        {
          url: `${base}/settings/instance`,
          method: 'PUT',
          headers: { ...auth, 'content-type': 'application/vnd.api+json' },
          body: JSON.stringify({ data: { type: 'io.cozy.settings', id: 'io.cozy.settings.instance', meta: { rev: data.rev }, attributes: { email: 'bench@example.net', public_name: 'Bench' } } }),
        },
        null,
      ],
      [
        'POST /auth/access_token (refresh grant)',
        {
          url: `${base}/auth/access_token`,
          method: 'POST',
          headers: { host, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', client_id: data.client.id, client_secret: data.client.clientSecret, refresh_token: data.refresh }).toString(),
        },
        null,
      ],
    ];
    for (const [name, opts, budget] of scenarios) {
      let bestH;
      let bestB;
      for (let round = 0; round < ROUNDS; round++) {
        const b = summary(await run({ url: `http://127.0.0.1:${barePort}/settings/capabilities` }));
        const h = summary(await run(opts));
        if (!bestB || b.rps > bestB.rps) bestB = b;
        if (!bestH || h.rps > bestH.rps) bestH = h;
      }
      const ratio = bestH.rps / bestB.rps;
      const p99x = bestH.p99 / Math.max(bestB.p99, 1);
      const checks = [];
      if (!extra && budget !== null && label === 'sqlite') checks.push([ratio >= budget, `budget ${budget * 100}%`]);
      if (!extra && name.startsWith('GET /settings/capabilities') && label === 'sqlite') checks.push([p99x <= 2, 'p99 budget ×2']);
      const one = extra ? rows.find((r) => r.engine === label && r.scenario === name) : undefined;
      // With many instances, the hot routes stay within 10% of their one-instance throughput.
      if (one && budget !== null) checks.push([bestH.rps >= one.hearth.rps * 0.9, `within 10% of 1 instance (${((bestH.rps / one.hearth.rps - 1) * 100).toFixed(0)}%)`]);
      if (bestH.non2xx || bestH.errors) checks.push([false, 'non-2xx or errors']);
      await measure(name + suffix, async () => ({
        line: `${bestH.rps.toFixed(0)} req/s, p50 ${bestH.p50} ms, p99 ${bestH.p99} ms, non-2xx ${bestH.non2xx}; bare ${bestB.rps.toFixed(0)} req/s p99 ${bestB.p99} ms; ratio ${(ratio * 100).toFixed(0)}%, p99 ×${p99x.toFixed(1)}, RSS ${rssMiB(child.pid).toFixed(0)} MiB${checks.map(([ok, what]) => verdictOf(ok, what)).join('')}`,
        hearth: bestH,
        bare: bestB,
        ratio,
        budget,
        ok: checks.every(([ok]) => ok),
      }));
    }

    if (!extra) {
      // Login storm: 20 flagship logins (scrypt) continuously while capabilities is measured.
      const { hashPassphrase } = await import(join(root, 'packages', 'client', 'dist', 'index.js'));
      const passphrase = await hashPassphrase(PASSWORD, host, 50_000);
      const storm = autocannon({
        url: `${base}/auth/login/flagship`,
        method: 'POST',
        connections: 20,
        duration: DURATION + 2,
        headers: { host, accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ passphrase, client_id: data.client.id, client_secret: data.client.clientSecret }),
      });
      await new Promise((r) => setTimeout(r, 1000));
      const during = summary(await run({ url: `${base}/settings/capabilities`, headers: auth }));
      const logins = summary(await storm);
      await measure('capabilities during 20 concurrent flagship logins', async () => ({
        line: `${during.rps.toFixed(0)} req/s, p99 ${during.p99} ms${verdictOf(during.p99 < 25, 'budget < 25 ms')}; logins ${logins.rps.toFixed(1)}/s p99 ${logins.p99} ms, non-2xx ${logins.non2xx}`,
        hearth: during,
        logins,
        ok: during.p99 < 25 && logins.non2xx === 0,
      }));
    }
    bare.kill();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    if (dbEnv.HEARTH_DATABASE_URL) {
      // A fresh schema per round: drop what the round created.
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: dbEnv.HEARTH_DATABASE_URL });
      await c.connect();
      await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      await c.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}

const rows = [...(await benchEngine('sqlite', {}))];
if (process.env.HEARTH_BENCH_DATABASE_URL) rows.push(...(await benchEngine('postgres', { HEARTH_DATABASE_URL: process.env.HEARTH_BENCH_DATABASE_URL })));

const failed = rows.filter((r) => r.ok === false);
const versions = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).dependencies;
const md = [
  '# Benchmarks',
  '',
  `Run by \`pnpm bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, express ${versions.express}, openapi-backend ${versions['openapi-backend']}, better-sqlite3 ${versions['better-sqlite3']}, kysely ${versions.kysely}.`,
  `autocannon: ${CONNECTIONS} connections, ${DURATION} s per run, best of ${ROUNDS} runs alternated with the bare Express 5 route (same bytes) on the same machine. Hearth runs with HEARTH_ENV=production (responses are validated only in development and tests).`,
  '',
  '| engine | scenario | result |',
  '|---|---|---|',
  ...rows.map((r) => `| ${r.engine} | ${r.scenario} | ${r.line.replace(/\|/g, '/')} |`),
  '',
  `Budgets (issue "Performance and scale"; ratios on the embedded default): ${failed.length === 0 ? 'every budget held in this run.' : `not held in this run: ${failed.map((r) => `${r.engine} ${r.scenario}`).join('; ')}.`}`,
  '',
].join('\n');
writeFileSync(join(root, 'BENCHMARKS.md'), md);
console.log(`\n${failed.length === 0 ? '✔ every budget held' : `✖ ${failed.length} scenario(s) missed a budget`}; written to BENCHMARKS.md`);
