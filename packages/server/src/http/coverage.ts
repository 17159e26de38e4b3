// Contract coverage: which (operation, status) pairs the server produced, and whether each response
// satisfied the contract. Collected by the response validator; written out when
// HEARTH_CONTRACT_COVERAGE_DIR is set (the test command merges the files into its report).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const hits = new Map<string, { operationId: string; status: number; mediaType?: string; valid: number; invalid: number }>();
let registered = false;

export function recordCoverage(operationId: string, status: number, mediaType: string | undefined, valid: boolean) {
  const key = `${operationId} ${status} ${mediaType ?? ''}`;
  let h = hits.get(key);
  if (!h) {
    h = { operationId, status, mediaType, valid: 0, invalid: 0 };
    hits.set(key, h);
  }
  if (valid) h.valid++;
  else h.invalid++;
  const dir = process.env.HEARTH_CONTRACT_COVERAGE_DIR;
  if (dir && !registered) {
    registered = true;
    process.on('exit', () => flushCoverage(dir));
  }
}

export function coverageSnapshot() {
  return [...hits.values()];
}

let flushes = 0;

/** Writes what was recorded so far to a new file of `dir` and starts over. */
export function flushCoverage(dir: string) {
  if (hits.size === 0) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `coverage-${process.pid}-${Date.now()}-${flushes++}.json`), JSON.stringify(coverageSnapshot()));
  hits.clear();
}
