// Shared helpers of the contract scripts.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const contractDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const distDir = join(contractDir, 'dist');
export const documents = ['openapi', 'admin'];
const bin = (name) => join(contractDir, 'node_modules', '.bin', name);

/** Runs a tool from the contract package; exits the process when it fails. */
export function run(tool, args, { quiet = false, allowFailure = false } = {}) {
  const res = spawnSync(bin(tool), args, {
    cwd: contractDir,
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  const out = stripBanner(`${res.stdout ?? ''}${res.stderr ?? ''}`);
  if (!quiet || res.status !== 0) process.stdout.write(out);
  if (res.status !== 0 && !allowFailure) {
    console.error(`\n✖ ${tool} ${args.join(' ')} failed (exit ${res.status})`);
    process.exit(res.status ?? 1);
  }
  return { status: res.status ?? 1, output: out };
}

/** Redocly prints a boxed Node 20 end-of-life banner on every call; keep the logs readable. */
function stripBanner(text) {
  return text
    .split('\n')
    .filter((l) => !/^\s*[╔║╚]/.test(l))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}
