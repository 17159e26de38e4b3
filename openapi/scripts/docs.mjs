// Builds the Redoc HTML pages of both documents, self-contained (no CDN): dist/docs/*.html.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { distDir, documents, run } from './common.mjs';

mkdirSync(join(distDir, 'docs'), { recursive: true });
for (const doc of documents) {
  const out = join(distDir, 'docs', `${doc}.html`);
  run('redocly', ['build-docs', join(distDir, `${doc}.yaml`), '--inlineBundle', '-o', out], { quiet: true });
  console.log(`docs: ${out}`);
}
