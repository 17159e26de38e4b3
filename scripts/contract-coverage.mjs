#!/usr/bin/env node
// Contract coverage: every (operation, documented status) pair of both documents, and whether the
// test suite produced it with a response that satisfied the contract. The server's response
// validator records what it sees (HEARTH_CONTRACT_COVERAGE_DIR); this script merges the records,
// prints the report and fails when the covered share is below the committed threshold
// (contract-coverage.json at the repository root).
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.argv[2] ?? process.env.HEARTH_CONTRACT_COVERAGE_DIR;
if (!dir || !existsSync(dir)) {
  console.error('usage: contract-coverage.mjs <dir with coverage-*.json>');
  process.exit(2);
}
const { threshold } = JSON.parse(readFileSync(join(root, 'contract-coverage.json'), 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const pairs = new Map();
for (const doc of ['openapi', 'admin']) {
  const spec = JSON.parse(readFileSync(join(root, 'openapi', 'dist', `${doc}.json`), 'utf8'));
  for (const item of Object.values(spec.paths))
    for (const m of METHODS)
      if (item[m]) for (const status of Object.keys(item[m].responses)) pairs.set(`${item[m].operationId} ${status}`, { doc, valid: 0, invalid: 0 });
}
let files = 0;
for (const f of readdirSync(dir).filter((n) => n.startsWith('coverage-') && n.endsWith('.json'))) {
  files++;
  for (const h of JSON.parse(readFileSync(join(dir, f), 'utf8'))) {
    const p = pairs.get(`${h.operationId} ${h.status}`);
    if (!p) continue;
    p.valid += h.valid;
    p.invalid += h.invalid;
  }
}
const covered = [...pairs.values()].filter((p) => p.valid > 0).length;
const violations = [...pairs.entries()].filter(([, p]) => p.invalid > 0);
const missing = [...pairs.entries()].filter(([, p]) => p.valid === 0).map(([k]) => k);
const share = pairs.size ? covered / pairs.size : 1;
if (process.env.CONTRACT_COVERAGE_VERBOSE || missing.length <= 40) {
  if (missing.length) console.log(`not produced by the tests (${missing.length}):\n  ${missing.join('\n  ')}`);
}
for (const [k, p] of violations) console.log(`contract violations recorded for ${k}: ${p.invalid}`);
const line =
  `contract coverage: ${covered}/${pairs.size} (operation, status) pairs covered (${(share * 100).toFixed(1)}%), ` +
  `${violations.length} pairs with violations, from ${files} record files; threshold ${(threshold * 100).toFixed(1)}%`;
console.log(line);
if (process.env.HEARTH_SUMMARY_DIR) appendFileSync(join(process.env.HEARTH_SUMMARY_DIR, 'coverage.txt'), `${line}\n`);
if (share + 1e-9 < threshold) {
  console.error(`✖ contract coverage ${(share * 100).toFixed(1)}% is below the threshold ${(threshold * 100).toFixed(1)}%`);
  process.exit(1);
}
