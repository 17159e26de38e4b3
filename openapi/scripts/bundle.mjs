// Bundles the split sources into the single-file documents every consumer reads:
// dist/openapi.{yaml,json} and dist/admin.{yaml,json}.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { distDir, documents, run } from './common.mjs';

mkdirSync(distDir, { recursive: true });
for (const doc of documents) {
  for (const ext of ['yaml', 'json']) {
    run('redocly', ['bundle', `${doc}.yaml`, '-o', join(distDir, `${doc}.${ext}`)], { quiet: true });
  }
  console.log(`bundled ${doc}.yaml → dist/${doc}.yaml, dist/${doc}.json`);
}
