#!/usr/bin/env node
// Fails when regenerating the client and the server types from the contract changes anything
// that is committed. Run after `pnpm generate`.
import { spawnSync } from 'node:child_process';

const paths = ['packages/client/src/generated', 'packages/server/src/generated'];
const status = spawnSync('git', ['status', '--porcelain', '--', ...paths], { encoding: 'utf8' });
if (status.status !== 0) {
  console.error(status.stderr);
  process.exit(1);
}
if (status.stdout.trim()) {
  console.error('✖ generated code is out of date with the contract:');
  console.error(status.stdout);
  spawnSync('git', ['--no-pager', 'diff', '--stat', '--', ...paths], { stdio: 'inherit' });
  console.error('\nFix: run `pnpm generate` and commit the result.');
  process.exit(1);
}
console.log('✔ generated code is up to date with the contract');
