import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Under the test command (HEARTH_SUMMARY_DIR), the counts also go to a JSON report for its summary.
const summaryDir = process.env.HEARTH_SUMMARY_DIR;
const reporters = summaryDir ? ['default', ['json', { outputFile: join(summaryDir, 'vitest-client.json') }]] : ['default'];

export default defineConfig({
  test: {
    reporters: reporters as never,
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
