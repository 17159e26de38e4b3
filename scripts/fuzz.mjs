#!/usr/bin/env node
// `pnpm fuzz`: the contract fuzzer (packages/server/test/fuzz) for a long run. FUZZ_RUNS requests
// per operation and kind (default 1000 here, 20 in the test suite), no time budget unless
// FUZZ_BUDGET_MS is set; FUZZ_SEED=<n> replays a run; HEARTH_TEST_DATABASE_URL adds PostgreSQL.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, FUZZ_RUNS: process.env.FUZZ_RUNS ?? '1000' };
const res = spawnSync('pnpm', ['--filter', '@hearth/server', 'exec', 'vitest', 'run', '-c', 'vitest.fuzz.config.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env,
});
process.exit(res.status ?? 1);
