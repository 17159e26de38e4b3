// Lints the contract: redocly (recommended ruleset, examples validated against their schemas)
// on the split sources, then Spectral with the OWASP ruleset on the bundles.
import { join } from 'node:path';
import { distDir, documents, run } from './common.mjs';

let failed = false;
for (const doc of documents) {
  const { status, output } = run('redocly', ['lint', `${doc}.yaml`], { allowFailure: true, quiet: true });
  const summary = output.split('\n').filter((l) => /valid|Validation failed|You have/i.test(l)).pop() ?? '';
  const clean = status === 0 && !/warning/i.test(summary);
  if (!clean) process.stdout.write(output);
  console.log(`redocly lint ${doc}.yaml: ${summary.trim() || (clean ? 'no problems' : 'failed')}`);
  failed ||= !clean;
}
for (const doc of documents) {
  const { status, output } = run(
    'spectral',
    ['lint', join(distDir, `${doc}.json`), '--ruleset', '.spectral.yaml', '--fail-severity', 'warn', '--display-only-failures'],
    { allowFailure: true, quiet: true },
  );
  if (status !== 0) process.stdout.write(output);
  console.log(`spectral (oas + owasp) ${doc}: ${status === 0 ? 'no findings' : 'findings above'}`);
  failed ||= status !== 0;
}
if (failed) {
  console.error('✖ contract lint failed');
  process.exit(1);
}
console.log('✔ contract lint: 0 errors, 0 warnings');
