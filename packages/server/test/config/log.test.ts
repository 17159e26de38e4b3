// The logger: JSON lines at the configured level, secrets redacted wherever they sit in the first
// levels of a log object, and a child per instance.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactPaths, SECRET_FIELDS } from '../../src/log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) {
        raw.push(l);
        lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      cb();
    },
  });
  return { lines, raw, destination };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('createLogger', () => {
  it('writes JSON lines at the configured level', async () => {
    const { lines, destination } = capture();
    const log = createLogger({ logLevel: 'warn', env: 'test' }, { destination });
    log.info('hidden');
    log.warn({ a: 1 }, 'shown');
    await flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'shown', a: 1, service: 'hearth', env: 'test' });
    expect(typeof lines[0]!.time).toBe('string');
  });

  it('redacts every secret-bearing field, at any of the first levels', async () => {
    const { raw, lines, destination } = capture();
    const log = createLogger({ logLevel: 'info', env: 'test' }, { destination });
    log.info(
      {
        req: { headers: { authorization: 'Bearer SECRET-1', cookie: 'cozysessid=SECRET-2', host: 'alice.localhost' } },
        res: { headers: { 'set-cookie': 'cozysessid=SECRET-3' } },
        passphrase: 'SECRET-4',
        body: {
          password: 'SECRET-5',
          client_secret: 'SECRET-6',
          access_token: 'SECRET-7',
          refresh_token: 'SECRET-8',
          register_token: 'SECRET-9',
          two_factor_passcode: 'SECRET-10',
          code_verifier: 'SECRET-11',
          'two-factor-token': 'SECRET-12',
          client_id: 'visible-client',
        },
        deep: { a: { b: { token: 'SECRET-13', session_code: 'SECRET-14' } } },
      },
      'request',
    );
    await flush();
    expect(raw[0]).not.toMatch(/SECRET-/);
    expect(lines[0]).toMatchObject({
      req: { headers: { authorization: '[Redacted]', cookie: '[Redacted]', host: 'alice.localhost' } },
      res: { headers: { 'set-cookie': '[Redacted]' } },
      passphrase: '[Redacted]',
      body: { password: '[Redacted]', client_id: 'visible-client' },
      deep: { a: { b: { token: '[Redacted]' } } },
    });
  });

  it('has a redaction path for each secret field', () => {
    const paths = redactPaths();
    for (const f of SECRET_FIELDS) expect(paths.some((p) => p.endsWith(f) || p.endsWith(`["${f}"]`))).toBe(true);
    expect(paths).toContain('req.headers.authorization');
    expect(paths).toContain('res.headers["set-cookie"]');
    expect(paths).toContain('*.passphrase');
  });

  it('childFor tags lines with the instance domain', async () => {
    const { lines, destination } = capture();
    const log = createLogger({ logLevel: 'debug', env: 'development' }, { destination });
    log.childFor('alice.localhost:8080').debug({ password: 'x' }, 'hello');
    await flush();
    expect(lines[0]).toMatchObject({ instance: 'alice.localhost:8080', msg: 'hello', level: 'debug', password: '[Redacted]' });
  });
});
