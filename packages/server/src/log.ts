// Logging: pino, JSON lines, with every secret-bearing field redacted wherever it appears in the
// first levels of a log object, and a child logger per instance.

import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { HearthConfig } from './config/config.js';

export type { Logger } from 'pino';

/** Field names whose values are secrets, redacted at any depth from 0 to REDACT_DEPTH. */
export const SECRET_FIELDS = [
  'passphrase',
  'current_passphrase',
  'new_passphrase',
  'password',
  'client_secret',
  'secret',
  'session_secret',
  'oauth_secret',
  'cli_secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'oidc_token',
  'register_token',
  'registerToken',
  'registration_access_token',
  'passphrase_reset_token',
  'two_factor_token',
  'two_factor_passcode',
  'two-factor-token',
  'two-factor-passcode',
  'two_factor_trusted_device_token',
  'trusted-device-token',
  'code_verifier',
  'access_code',
  'session_code',
  'magic_code',
  'email_verified_code',
  'csrf_token',
  'key',
  'private_key',
  'privateKey',
  'authorization',
  'cookie',
  'set-cookie',
] as const;

const REDACT_DEPTH = 3;

function fieldPath(prefix: string, field: string): string {
  const seg = /^[A-Za-z_$][\w$]*$/.test(field) ? `.${field}` : `["${field}"]`;
  return prefix === '' ? seg.replace(/^\./, '') : `${prefix}${seg}`;
}

/** The pino redaction paths: explicit header paths plus each secret field at depths 0…3. */
export function redactPaths(): string[] {
  const paths = new Set<string>([
    'req.headers.authorization',
    'req.headers.cookie',
    'req.headers["x-forwarded-authorization"]',
    'res.headers["set-cookie"]',
    'headers.authorization',
    'headers.cookie',
    'headers["set-cookie"]',
  ]);
  for (const f of SECRET_FIELDS) {
    let prefix = '';
    for (let depth = 0; depth <= REDACT_DEPTH; depth++) {
      paths.add(fieldPath(prefix, f));
      prefix = prefix === '' ? '*' : `${prefix}.*`;
    }
  }
  return [...paths];
}

export interface HearthLogger extends Logger {
  /** A child logger whose lines carry `instance: <domain>`. */
  childFor(instanceDomain: string): Logger;
}

/** A child logger bound to an instance domain. */
export function childFor(logger: Logger, instanceDomain: string): Logger {
  return logger.child({ instance: instanceDomain });
}

/**
 * Creates the root logger from the configuration. `destination` defaults to stdout (tests pass a
 * stream to read the lines back).
 */
export function createLogger(
  cfg: Pick<HearthConfig, 'logLevel' | 'env'>,
  opts: { destination?: DestinationStream; name?: string } = {},
): HearthLogger {
  const options: LoggerOptions = {
    level: cfg.logLevel,
    base: { service: opts.name ?? 'hearth', env: cfg.env },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(), censor: '[Redacted]' },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    formatters: { level: (label) => ({ level: label }) },
  };
  const logger = (opts.destination ? pino(options, opts.destination) : pino(options)) as HearthLogger;
  logger.childFor = (instanceDomain: string) => childFor(logger, instanceDomain);
  return logger;
}
