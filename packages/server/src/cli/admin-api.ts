// The admin API as the CLI reaches it: the generated client (@hearth/client/admin) pointed at
// HEARTH_ADMIN_HOST:HEARTH_ADMIN_PORT with the admin passphrase, and the mapping of its answers to
// CLI errors and exit codes.
import { createClient, createConfig } from '@hearth/client/admin';
import type { HearthConfig } from '../config/config.js';
import { CliError, EXIT } from './output.js';

export type AdminClient = ReturnType<typeof createClient>;

/** The address to connect to for a bind address (`0.0.0.0` → loopback). */
function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function adminBaseUrl(config: HearthConfig): string {
  return `http://${connectHost(config.admin.host)}:${config.admin.port}`;
}

export function adminClient(config: HearthConfig): AdminClient {
  return createClient(
    createConfig({
      baseUrl: adminBaseUrl(config),
      headers: { Authorization: `Basic ${Buffer.from(`hearth-cli:${config.admin.passphrase}`).toString('base64')}` },
    }),
  );
}

export interface ApiResult<T> {
  data?: T;
  error?: unknown;
  response?: Response;
}

/**
 * The data of a successful answer; otherwise a CliError: server unreachable (exit 2), not found
 * (exit 3), anything else refused (exit 1) with the server's message and the faulty field.
 */
export function unwrap<T>(result: ApiResult<T>, ctx: { baseUrl: string; fieldName?: (field: string) => string }): T {
  const { response, error } = result;
  if (!response) {
    const cause = (error as { cause?: { code?: string } } | undefined)?.cause?.code;
    throw new CliError(
      `cannot reach the admin API at ${ctx.baseUrl}${cause ? ` (${cause})` : ''}`,
      EXIT.unreachable,
      'Is `hearth serve` running? The CLI uses HEARTH_ADMIN_HOST and HEARTH_ADMIN_PORT to find it.',
    );
  }
  if (response.ok) return result.data as T;
  const body = (error && typeof error === 'object' ? error : {}) as { error?: unknown; field?: unknown };
  const message = typeof body.error === 'string' ? body.error : `the admin API answered ${response.status}`;
  const field = typeof body.field === 'string' ? ` (${ctx.fieldName ? ctx.fieldName(body.field) : body.field})` : '';
  if (response.status === 404) throw new CliError(`${message}${field}`, EXIT.notFound);
  if (response.status === 401) {
    throw new CliError(`${message}: the admin API refused the passphrase`, EXIT.usage, 'The CLI sends HEARTH_ADMIN_PASSPHRASE (the development default is "hearth-admin").');
  }
  throw new CliError(`${message}${field}`, EXIT.usage);
}
