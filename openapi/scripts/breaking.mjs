// Breaking-change check: compares the bundled documents with the committed baseline
// (openapi/baseline/*.json, the contract as last released) using openapi-diff. A breaking
// difference fails the check unless CHANGELOG.md acknowledges it: a line of its "Unreleased"
// section that starts with "- BREAKING" and names the path (e.g. `/settings/instance`) or, for
// changes outside paths, the difference code.
//
//   node scripts/breaking.mjs            check (run by the test command)
//   node scripts/breaking.mjs --update   make the current bundles the new baseline (at a release)
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { contractDir, distDir, documents } from './common.mjs';

const require = createRequire(import.meta.url);
const baselineDir = join(contractDir, 'baseline');
const changelog = join(contractDir, '..', 'CHANGELOG.md');

if (process.argv.includes('--update')) {
  mkdirSync(baselineDir, { recursive: true });
  for (const doc of documents) copyFileSync(join(distDir, `${doc}.json`), join(baselineDir, `${doc}.json`));
  console.log(`baseline updated from dist/ (${documents.join(', ')}); move the CHANGELOG's Unreleased entries under the new version`);
  process.exit(0);
}

const openApiDiff = require('openapi-diff');

/** The lines of the CHANGELOG's "Unreleased" section that acknowledge a breaking change. */
function acknowledgements() {
  if (!existsSync(changelog)) return [];
  const text = readFileSync(changelog, 'utf8');
  const start = text.search(/^## +\[?Unreleased\]?/im);
  if (start < 0) return [];
  const rest = text.slice(start).split('\n').slice(1);
  const end = rest.findIndex((l) => /^## /.test(l));
  return (end < 0 ? rest : rest.slice(0, end)).filter((l) => /^\s*[-*] +\*{0,2}BREAKING/i.test(l));
}

function pathOf(location) {
  const m = /^paths\.(\/[^.]*(?:\.[^.]*?)*?)\.(get|put|post|delete|patch|parameters)\b/.exec(location ?? '');
  return m ? m[1] : null;
}

const acks = acknowledgements();
let unacknowledged = 0;
let total = 0;
for (const doc of documents) {
  const baseline = join(baselineDir, `${doc}.json`);
  if (!existsSync(baseline)) {
    console.log(`breaking changes ${doc}: no baseline yet (run \`node scripts/breaking.mjs --update\`)`);
    continue;
  }
  const result = await openApiDiff.diffSpecs({
    sourceSpec: { content: readFileSync(baseline, 'utf8'), location: baseline, format: 'openapi3' },
    destinationSpec: { content: readFileSync(join(distDir, `${doc}.json`), 'utf8'), location: `dist/${doc}.json`, format: 'openapi3' },
  });
  const breaking = result.breakingDifferencesFound ? result.breakingDifferences : [];
  total += breaking.length;
  for (const d of breaking) {
    const where = d.destinationSpecEntityDetails?.[0]?.location ?? d.sourceSpecEntityDetails?.[0]?.location ?? '';
    const key = pathOf(where) ?? d.code;
    const ok = acks.some((line) => line.includes(key));
    if (!ok) unacknowledged++;
    console.log(`${ok ? '  acknowledged' : '✖ unacknowledged'} breaking change in ${doc}: ${d.code} (${d.action}) at ${where}`);
  }
  const nonBreaking = (result.nonBreakingDifferences ?? []).length + (result.unclassifiedDifferences ?? []).length;
  console.log(`breaking changes ${doc}: ${breaking.length} (${nonBreaking} other differences)`);
}
if (unacknowledged) {
  console.error(
    `\n✖ ${unacknowledged} breaking change(s) of the contract are not acknowledged. Either undo them, or add to the ` +
      '"## Unreleased" section of CHANGELOG.md a line `- BREAKING: <path or difference code>: <what changed and what clients must do>`.',
  );
  process.exit(1);
}
console.log(`✔ breaking-change check: ${total} breaking change(s), all acknowledged`);
