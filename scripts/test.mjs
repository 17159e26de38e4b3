#!/usr/bin/env node
// The whole test pipeline, in order; stops at the first failing stage and says which.
//   contract bundle → contract lint → breaking changes → generated code up to date → typecheck
//   → build (with the API docs) → tests → contract coverage
// The server tests run on the embedded SQLite and, when HEARTH_TEST_DATABASE_URL is set, on PostgreSQL too.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', FORCE_COLOR: process.env.FORCE_COLOR ?? '0' };
const results = [];
// The server records which (operation, status) pairs the tests produced; reported at the end.
env.HEARTH_CONTRACT_COVERAGE_DIR = mkdtempSync(join(tmpdir(), 'hearth-contract-coverage-'));

function stage(name, cmd, args) {
  console.log(`\n▶ ${name}`);
  const started = Date.now();
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  results.push(`${res.status === 0 ? '✔' : '✖'} ${name} (${seconds} s)`);
  if (res.status !== 0) {
    console.error(`\n✖ stage "${name}" failed (exit ${res.status})`);
    console.log(results.join('\n'));
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
stage('contract coverage', process.execPath, [join(root, 'scripts', 'contract-coverage.mjs'), env.HEARTH_CONTRACT_COVERAGE_DIR]);
console.log(`\n${results.join('\n')}`);
console.log(process.env.HEARTH_TEST_DATABASE_URL ? 'databases: SQLite and PostgreSQL' : 'databases: SQLite (set HEARTH_TEST_DATABASE_URL to also run on PostgreSQL)');
