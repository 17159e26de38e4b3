#!/usr/bin/env node
// Contract tests with dredd 14.1.0 against a fresh Hearth server (the built one, packages/server/dist).
//
//   node packages/server/dredd/run.mjs            (or: pnpm dredd)
//
// 1. starts Hearth in this process on free loopback ports, with a temporary data directory (SQLite);
// 2. writes dredd-only copies of the bundles (openapi/dist/openapi.json, admin.json): query parameters
//    whose name is not a URI template variable (`page[limit]`, `long-run-session`) removed (dredd drops
//    every transaction of such an operation; hooks add them back to the URL when needed),
//    `$schema` removed, the servers replaced by the test server;
// 3. runs dredd for both documents (in parallel, hooks in hooks.cjs seed the data through the admin API
//    and provoke every documented status); the hooks write a JSON report of every transaction;
// 4. prints one summary line per document and the total, and exits non-zero on any failure or when an
//    operation of either document has no transaction.
import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const serverDir = resolve(here, '..');
const repo = resolve(serverDir, '../..');
const dist = join(serverDir, 'dist');
const ADMIN_PASSPHRASE = 'dredd-admin-passphrase';
const verbose = process.argv.includes('--verbose') || process.env.HEARTH_DREDD_VERBOSE === '1';

if (!existsSync(join(dist, 'server.js'))) {
  console.error('dredd: packages/server/dist is missing; build the server first (pnpm build)');
  process.exit(2);
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** A dredd-only copy of a bundle. */
function dreddCopy(doc, serverUrl) {
  const copy = JSON.parse(JSON.stringify(doc));
  const strip = (node) => {
    if (Array.isArray(node)) return node.forEach(strip);
    if (node && typeof node === 'object') {
      delete node.$schema;
      for (const v of Object.values(node)) strip(v);
    }
  };
  strip(copy);
  copy.servers = [{ url: serverUrl }];
  const resolveRef = (p) => (p && p.$ref ? p.$ref.split('/').slice(1).reduce((o, k) => o[k], copy) : p);
  const bracketed = (p) => {
    const r = resolveRef(p);
    return r && r.in === 'query' && !/^[A-Za-z0-9_.]+$/.test(r.name);
  };
  for (const item of Object.values(copy.paths)) {
    if (item.parameters) item.parameters = item.parameters.filter((p) => !bracketed(p));
    for (const m of METHODS) if (item[m]?.parameters) item[m].parameters = item[m].parameters.filter((p) => !bracketed(p));
  }
  return copy;
}

function operationsOf(doc) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths)) for (const m of METHODS) if (item[m]) ops.push({ method: m.toUpperCase(), path, id: item[m].operationId });
  return ops;
}

function runDredd(name, specFile, endpoint, env) {
  return new Promise((resolvePromise) => {
    const bin = join(serverDir, 'node_modules/.bin/dredd');
    const args = [specFile, endpoint, `--hookfiles=${join(here, 'hooks.cjs')}`, '--language=nodejs', '--loglevel=warning', '--reporter=cli'];
    const child = spawn(bin, args, { cwd: serverDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolvePromise({ name, code, out }));
  });
}

const started = Date.now();
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-dredd-'));

// A local stand-in for the cloudery's admin API: it accepts the deletion requests of
// POST /settings/instance/deletion (the `dredd-cloudery` context) with its bearer token.
const CLOUDERY_TOKEN = 'dredd-cloudery-token';
const cloudery = createHttpServer((req, res) => {
  const ok = req.method === 'DELETE' && /^\/api\/admin\/instances\/[^/]+$/.test(req.url ?? '') && req.headers.authorization === `Bearer ${CLOUDERY_TOKEN}`;
  res.writeHead(ok ? 204 : 404).end();
});
await new Promise((r) => cloudery.listen(0, '127.0.0.1', r));
const clouderyUrl = `http://127.0.0.1:${cloudery.address().port}`;
// Contexts that let the hooks provoke documented statuses: an email managed outside (signup_url →
// 403 on POST /settings/email), a manager nobody listens on (502 of the manager calls, 301
// premium) and a cloudery that accepts deletions (204 of POST /settings/instance/deletion).
const configFile = join(dataDir, 'hearth.yaml');
writeFileSync(
  configFile,
  [
    'contexts:',
    '  dredd-signup:',
    '    signup_url: http://127.0.0.1:9/signup',
    '  dredd-down:',
    '    manager_url: http://127.0.0.1:9/',
    '    enable_premium_links: true',
    'clouderies:',
    '  dredd-cloudery:',
    '    api:',
    `      url: ${clouderyUrl}`,
    `      token: ${CLOUDERY_TOKEN}`,
    '',
  ].join('\n'),
);
const env = {
  HEARTH_CONFIG: configFile,
  HEARTH_ENV: 'test',
  HEARTH_HOST: '127.0.0.1',
  HEARTH_PORT: '0',
  HEARTH_ADMIN_PORT: '0',
  HEARTH_ADMIN_PASSPHRASE: ADMIN_PASSPHRASE,
  HEARTH_DATA_DIR: dataDir,
  HEARTH_DEMO_INSTANCE: '',
  HEARTH_LOG_LEVEL: verbose ? 'info' : 'silent',
};
const { loadConfig } = await import(join(dist, 'config/config.js'));
const { createLogger } = await import(join(dist, 'log.js'));
const { startHearth } = await import(join(dist, 'server.js'));
const config = loadConfig({ env });
const logger = createLogger(config);
const hearth = await startHearth({ config, logger, demo: false });

let exitCode = 1;
try {
  const docs = [
    { name: 'public', bundle: join(repo, 'openapi/dist/openapi.json'), endpoint: hearth.publicUrl },
    { name: 'admin', bundle: join(repo, 'openapi/dist/admin.json'), endpoint: hearth.adminUrl },
  ];
  const runs = docs.map((d) => {
    const doc = JSON.parse(readFileSync(d.bundle, 'utf8'));
    const specFile = join(dataDir, `${d.name}.dredd.json`);
    writeFileSync(specFile, JSON.stringify(dreddCopy(doc, d.endpoint), null, 1));
    const report = join(dataDir, `${d.name}.report.json`);
    const promise = runDredd(d.name, specFile, d.endpoint, {
      HEARTH_DREDD_DOC: d.name,
      HEARTH_DREDD_BUNDLE: d.bundle,
      HEARTH_DREDD_REPORT: report,
      HEARTH_DREDD_PUBLIC_PORT: String(hearth.publicPort),
      HEARTH_DREDD_ADMIN_URL: hearth.adminUrl,
      HEARTH_DREDD_ADMIN_PASSPHRASE: ADMIN_PASSPHRASE,
    });
    return { ...d, doc, report, promise };
  });
  let total = { passed: 0, failed: 0, skipped: 0, n: 0 };
  let bad = false;
  for (const r of runs) {
    const res = await r.promise;
    const results = existsSync(r.report) ? JSON.parse(readFileSync(r.report, 'utf8')) : [];
    const count = (s) => results.filter((x) => x.status === s).length;
    const passed = count('pass');
    const failed = results.length - passed - count('skip');
    const skipped = count('skip');
    const covered = new Set(results.map((x) => `${x.method} ${x.path}`));
    const missing = operationsOf(r.doc).filter((o) => !covered.has(`${o.method} ${o.path}`));
    const failures = results.filter((x) => x.status !== 'pass' && x.status !== 'skip');
    if (verbose || failures.length || res.code !== 0 || results.length === 0) {
      if (verbose || results.length === 0) process.stdout.write(res.out);
      else
        for (const f of failures) console.log(`  FAIL ${f.name}\n${(f.message || '').replace(/^/gm, '       ')}`);
    }
    if (verbose) for (const x of results.filter((x) => x.status === 'skip')) console.log(`  SKIP ${x.name}: ${x.reason || ''}`);
    for (const o of missing) console.log(`  MISSING ${r.name}: ${o.method} ${o.path} (${o.id}) has no transaction`);
    if (failures.length || missing.length || results.length === 0 || (res.code !== 0 && failures.length === 0 && !/complete:/.test(res.out))) bad = true;
    if (res.code !== 0 && failures.length === 0 && results.length) {
      // dredd failed although every recorded transaction passed (hook error…): show its output
      process.stdout.write(res.out.split('\n').filter((l) => /error|fail/i.test(l)).join('\n') + '\n');
      bad = true;
    }
    console.log(
      `dredd ${r.name}: ${passed} passed, ${failed} failed, ${skipped} skipped (${results.length} transactions, ${covered.size}/${operationsOf(r.doc).length} operations)`,
    );
    total = { passed: total.passed + passed, failed: total.failed + failed, skipped: total.skipped + skipped, n: total.n + results.length };
  }
  const line = `dredd: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped (${total.n} transactions) in ${((Date.now() - started) / 1000).toFixed(1)} s`;
  console.log(line);
  // The test command prints this line again in its closing summary.
  if (process.env.HEARTH_SUMMARY_DIR) appendFileSync(join(process.env.HEARTH_SUMMARY_DIR, 'dredd.txt'), `${line}\n`);
  exitCode = bad ? 1 : 0;
} finally {
  await hearth.stop();
  cloudery.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
