#!/usr/bin/env node
// The whole test pipeline, in order; stops at the first failing stage and says which.
//   contract bundle → contract lint → breaking changes → generated code up to date → typecheck
//   → build (with the API docs) → tests → contract fuzzing → dredd → contract coverage
// and closes with one summary line each for the fuzzer, dredd and the contract coverage.
// The server tests run on the embedded SQLite and, when HEARTH_TEST_DATABASE_URL is set, on PostgreSQL too.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', FORCE_COLOR: process.env.FORCE_COLOR ?? '0' };
const results = [];
// The server records which (operation, status) pairs the tests produced; reported at the end.
env.HEARTH_CONTRACT_COVERAGE_DIR = mkdtempSync(join(tmpdir(), 'hearth-contract-coverage-'));
// The fuzz, dredd and coverage stages each leave their summary line here.
env.HEARTH_SUMMARY_DIR = mkdtempSync(join(tmpdir(), 'hearth-test-summary-'));

/** Every test of the run (vitest suites, the fuzzer's operations, dredd's transactions), as one plain line. */
function totals() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const name of ['client', 'server', 'fuzz']) {
    const file = join(env.HEARTH_SUMMARY_DIR, `vitest-${name}.json`);
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  }
  const dredd = join(env.HEARTH_SUMMARY_DIR, 'dredd.txt');
  const m = existsSync(dredd) ? /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(readFileSync(dredd, 'utf8')) : null;
  if (m) {
    passed += Number(m[1]);
    failed += Number(m[2]);
    skipped += Number(m[3]);
  }
  return `${passed} passed, ${failed} failed, ${skipped} skipped`;
}

function summaries() {
  const lines = [];
  for (const name of ['fuzz', 'dredd', 'coverage']) {
    const file = join(env.HEARTH_SUMMARY_DIR, `${name}.txt`);
    if (existsSync(file)) lines.push(...readFileSync(file, 'utf8').split('\n').filter(Boolean));
  }
  return lines;
}

function stage(name, cmd, args) {
  console.log(`\n▶ ${name}`);
  const started = Date.now();
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  results.push(`${res.status === 0 ? '✔' : '✖'} ${name} (${seconds} s)`);
  if (res.status !== 0) {
    console.error(`\n✖ stage "${name}" failed (exit ${res.status})`);
    console.log([...results, ...summaries()].join('\n'));
    process.exit(res.status ?? 1);
  }
}

const turbo = (...tasks) => ['exec', 'turbo', 'run', ...tasks, '--output-logs=new-only'];
stage('contract bundle', 'pnpm', turbo('bundle'));
stage('contract lint (redocly + spectral)', 'pnpm', ['--filter', '@hearth/contract', 'run', 'lint']);
stage('breaking changes against the baseline', 'pnpm', ['--filter', '@hearth/contract', 'run', 'breaking']);
stage('generate client and server types', 'pnpm', turbo('generate'));
stage('generated code is up to date', process.execPath, [join(root, 'scripts', 'check-generated.mjs')]);
stage('typecheck', 'pnpm', turbo('typecheck'));
stage('build', 'pnpm', turbo('build'));
stage('tests', 'pnpm', turbo('test', '--concurrency=1'));
stage('contract fuzzing', 'pnpm', ['--filter', '@hearth/server', 'run', 'fuzz']);
stage('dredd (both documents, against a fresh server)', 'pnpm', ['--filter', '@hearth/server', 'run', 'dredd']);
stage('contract coverage', process.execPath, [join(root, 'scripts', 'contract-coverage.mjs'), env.HEARTH_CONTRACT_COVERAGE_DIR]);
console.log(`\n${[...results, ...summaries()].join('\n')}`);
console.log(totals());
console.log(process.env.HEARTH_TEST_DATABASE_URL ? 'databases: SQLite and PostgreSQL' : 'databases: SQLite (set HEARTH_TEST_DATABASE_URL to also run on PostgreSQL)');
