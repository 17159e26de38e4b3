import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Under the test command (HEARTH_SUMMARY_DIR), the counts also go to a JSON report for its summary.
const summaryDir = process.env.HEARTH_SUMMARY_DIR;
const reporters = summaryDir ? ['default', ['json', { outputFile: join(summaryDir, 'vitest-fuzz.json') }]] : ['default'];

// The contract fuzzer (test/fuzz/fuzz.test.ts): one file, run by the `fuzz` stage of the test
// command and by `pnpm fuzz`. Its bounds come from FUZZ_RUNS, FUZZ_BUDGET_MS and FUZZ_SEED.
export default defineConfig({
  test: {
    reporters: reporters as never,
    include: ['test/fuzz/**/*.test.ts'],
    testTimeout: 0,
    hookTimeout: 120_000,
    pool: 'forks',
    setupFiles: ['test/setup.ts'],
  },
});
