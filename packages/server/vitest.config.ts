import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Under the test command (HEARTH_SUMMARY_DIR), the counts also go to a JSON report for its summary.
const summaryDir = process.env.HEARTH_SUMMARY_DIR;
const reporters = summaryDir ? ['default', ['json', { outputFile: join(summaryDir, 'vitest-server.json') }]] : ['default'];

// The unit and HTTP tests. The contract fuzzer (test/fuzz) has its own configuration,
// vitest.fuzz.config.ts: the test command runs it as a stage of its own (`pnpm fuzz` for long runs).
export default defineConfig({
  test: {
    reporters: reporters as never,
    include: ['test/**/*.test.ts'],
    exclude: ['test/fuzz/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/setup.ts'],
  },
});
