// Shared fixtures of the instance-settings tests: a fake manager / cloudery, and tokens of each kind.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, createConfig } from '@hearth/client';
import { installApp, getApp } from '../../../src/repositories/apps.js';
import { createOAuthClient } from '../../../src/repositories/oauth-clients.js';
import type { Instance } from '../../../src/repositories/instances.js';
import { loopbackFetch } from '../../helpers/http.js';
import type { TestServer } from '../../helpers/server.js';

export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Reply = { status: number; json?: unknown };
type Route = (req: RecordedRequest) => Reply | undefined;

/** A fake manager / cloudery on 127.0.0.1: records every request; routes answer, else 404. */
export interface FakeUpstream {
  url: string;
  requests: RecordedRequest[];
  /** Adds a route; the latest added route that answers wins. */
  on(route: Route): void;
  close(): Promise<void>;
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const routes: Route[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      let reply: Reply | undefined;
      for (let i = routes.length - 1; i >= 0 && !reply; i--) reply = routes[i]!(recorded);
      reply ??= { status: 404, json: { error: 'not found' } };
      res.statusCode = reply.status;
      if (reply.json !== undefined) {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(reply.json));
      } else {
        res.end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on: (route) => routes.push(route),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port where nothing listens (connection refused). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A CLI token with a scope. */
export function cliToken(server: TestServer, instance: Instance, scope = 'io.cozy.settings'): Promise<string> {
  return server.token(instance, 'cli', { scope });
}

/** A webapp token; the app is installed with these manifest permissions when missing. */
export async function appToken(
  server: TestServer,
  instance: Instance,
  slug: string,
  permissions: Record<string, unknown> = {},
  sessionId?: string,
): Promise<string> {
  const db = server.hearth.services.db;
  if (!(await getApp(db, instance.id, slug))) await installApp(db, { instanceId: instance.id, slug, type: 'webapp', permissions });
  return server.token(instance, 'app', { sub: slug, ...(sessionId ? { session_id: sessionId } : {}) });
}

/** An OAuth access token of a new client. */
export async function oauthToken(server: TestServer, instance: Instance, scope: string, client: { kind?: string | null; name?: string } = {}): Promise<string> {
  const created = await createOAuthClient(server.hearth.services.db, {
    instanceId: instance.id,
    clientName: client.name ?? `client-${Math.random().toString(36).slice(2)}`,
    softwareId: 'io.cozy.tests',
    clientKind: client.kind === undefined ? 'mobile' : client.kind,
  });
  return server.token(instance, 'access', { sub: created.id, scope });
}

/**
 * A client that sends only `?registerToken=` (no bearer token). Pass `query: {}` to the call: the
 * generated client only adds query credentials to an existing query object.
 */
export function registerTokenClient(domain: string, registerToken: string): ReturnType<typeof createClient> {
  return createClient(
    createConfig({
      baseUrl: `http://${domain}`,
      fetch: loopbackFetch as typeof fetch,
      headers: { Accept: 'application/json' },
      auth: (a: { in?: string }) => (a.in === 'query' ? registerToken : undefined),
    }),
  );
}

/** Raw request through the loopback fetch (for bodies the SDK cannot send). */
export function rawFetch(domain: string, path: string, init: RequestInit = {}): Promise<Response> {
  return loopbackFetch(`http://${domain}${path}`, init);
}
