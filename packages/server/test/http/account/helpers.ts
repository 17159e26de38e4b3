// Shared helpers of the account tests (passphrase, hint, vault, email change).
import { hashPassphrase } from '@hearth/client';
import { createOAuthClient, type OAuthClient } from '../../../src/repositories/oauth-clients.js';
import type { Instance } from '../../../src/repositories/instances.js';
import type { TestServer } from '../../helpers/server.js';

export const ITERATIONS = 50_000;

/** The client-side hash of a password for an instance (as the official clients compute it). */
export const hashFor = (instance: Pick<Instance, 'domain'>, password: string, iterations = ITERATIONS) =>
  hashPassphrase(password, instance.domain, iterations);

/** `name=value` of the (only) Set-Cookie header of a response, and the whole header. */
export function setCookieOf(response: Response): { pair: string; header: string } | null {
  const all = response.headers.getSetCookie();
  if (all.length === 0) return null;
  const header = all[0]!;
  return { pair: header.split(';')[0]!, header };
}

/** A CLI token with a scope (`io.cozy.settings`, `io.cozy.settings:GET`, …). */
export async function cliToken(server: TestServer, domain: string, scope: string): Promise<string> {
  return server.token(await server.instance(domain), 'cli', { scope });
}

/** Registers an OAuth client on the instance. */
export async function oauthClient(server: TestServer, instance: Instance, patch: Partial<OAuthClient> = {}): Promise<OAuthClient> {
  return createOAuthClient(server.hearth.services.db, {
    instanceId: instance.id,
    clientName: 'Cozy Flagship',
    softwareId: 'io.cozy.flagship.mobile',
    ...patch,
  });
}

/** The claims of a JWT (unverified), for assertions. */
export function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A raw request through the loopback (for what the generated client cannot express). */
export async function rawRequest(
  server: TestServer,
  domain: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  const { loopbackFetch } = await import('../../helpers/http.js');
  return loopbackFetch(`http://${domain}${path}`, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
}

/**
 * Sends a body as `application/x-www-form-urlencoded` through the generated client (the
 * `urlSearchParamsBodySerializer` of hey-api is not re-exported by @hearth/client).
 */
export const formBody = {
  bodySerializer: (body: unknown): string => {
    const data = new URLSearchParams();
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (v !== undefined && v !== null) data.append(k, String(v));
    return data.toString();
  },
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
};
