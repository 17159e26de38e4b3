// Serves both documents from their examples with Prism:
// the public API on 127.0.0.1:4010 and the admin API on 127.0.0.1:4011 (override with MOCK_PORT / MOCK_ADMIN_PORT).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { contractDir, distDir } from './common.mjs';

const host = process.env.MOCK_HOST ?? '127.0.0.1';
const ports = { openapi: process.env.MOCK_PORT ?? '4010', admin: process.env.MOCK_ADMIN_PORT ?? '4011' };
const children = Object.entries(ports).map(([doc, port]) => {
  const child = spawn(
    join(contractDir, 'node_modules', '.bin', 'prism'),
    ['mock', '-h', host, '-p', port, join(distDir, `${doc}.yaml`)],
    { stdio: 'inherit' },
  );
  console.log(`mock of ${doc}.yaml on http://${host}:${port}`);
  return child;
});
const stop = () => {
  for (const c of children) c.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const c of children) c.on('exit', (code) => { if (code && code !== 143) process.exitCode = code; stop(); });
