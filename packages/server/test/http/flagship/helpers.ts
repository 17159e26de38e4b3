// Shared set-up for the flagship route tests: OAuth clients written straight to the database,
// flagship access tokens, raw requests.
import { createOAuthClient, getOAuthClient, type OAuthClient } from '../../../src/repositories/oauth-clients.js';
import type { Instance } from '../../../src/repositories/instances.js';
import { loopbackFetch } from '../../helpers/http.js';
import type { TestServer } from '../../helpers/server.js';

export const PASSWORD = 'correct horse battery staple';
export const ITERATIONS = 50_000;

export async function makeClient(
  server: TestServer,
  instance: Instance,
  opts: { flagship?: boolean; pending?: boolean; softwareId?: string; name?: string } = {},
): Promise<OAuthClient> {
  return createOAuthClient(server.hearth.services.db, {
    instanceId: instance.id,
    clientName: opts.name ?? 'Cozy Flagship',
    softwareId: opts.softwareId ?? 'io.cozy.flagship.mobile',
    flagship: opts.flagship ?? false,
    pending: opts.pending ?? true,
    metadata: { redirect_uris: ['cozy://flagship'] },
  });
}

export async function reloadClient(server: TestServer, instance: Instance, id: string): Promise<OAuthClient> {
  const client = await getOAuthClient(server.hearth.services.db, instance.id, id);
  if (!client) throw new Error(`no client ${id}`);
  return client;
}

/** An access token with scope `*` for a client. */
export function maximalToken(server: TestServer, instance: Instance, client: Pick<OAuthClient, 'id'>): Promise<string> {
  return server.token(instance, 'access', { sub: client.id, scope: '*' });
}

/** A raw request through the loopback (for bodies and headers the SDK would not send). */
export function rawRequest(
  domain: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  return loopbackFetch(`http://${domain}${path}`, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
}

/** Decodes a JWT payload without verifying it. */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
