#!/usr/bin/env node
// The README's two commands, on a machine with only Node and npm:
//   npm start   installs what is missing, builds, and runs the server on the embedded database
//   npm test    installs what is missing and runs the whole test pipeline
// pnpm is pinned (packageManager in package.json). When it is not on the PATH, it is installed
// once into .hearth/tools with npm (corepack is not used: it fails on this registry's metadata).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', NPM_CONFIG_UPDATE_NOTIFIER: 'false' };

function step(title) {
  console.log(`\n▶ ${title}`);
}

function sh(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...opts });
  if (res.error) throw res.error;
  return res.status ?? 1;
}

function must(cmd, args, what) {
  const code = sh(cmd, args);
  if (code !== 0) {
    console.error(`\n✖ ${what} failed (exit ${code})`);
    process.exit(code);
  }
}

function findPnpm() {
  const local = join(root, '.hearth', 'tools', 'node_modules', '.bin', 'pnpm');
  if (existsSync(local)) return local;
  const res = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env });
  if (res.status === 0 && res.stdout.trim() === pinned) return 'pnpm';
  step(`installing pnpm ${pinned} into .hearth/tools`);
  must('npm', ['install', '--prefix', join(root, '.hearth', 'tools'), '--no-save', '--no-package-lock', `pnpm@${pinned}`], 'pnpm installation');
  return local;
}

const pnpm = findPnpm();
env.PATH = `${dirname(pnpm === 'pnpm' ? 'pnpm' : pnpm)}:${env.PATH}`;
const command = process.argv[2];

step('pnpm install');
must(pnpm, ['install', '--frozen-lockfile'], 'pnpm install');

if (command === 'start') {
  step('build (contract bundle, generated code, TypeScript)');
  must(pnpm, ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], 'build');
  step('hearth serve');
  const args = process.argv.slice(3);
  process.exit(sh(process.execPath, [join(root, 'packages', 'server', 'dist', 'cli', 'main.js'), 'serve', ...args]));
} else if (command === 'test') {
  must(process.execPath, [join(root, 'scripts', 'test.mjs')], 'the test pipeline');
} else {
  console.error('usage: node scripts/run.mjs start|test');
  process.exit(2);
}
