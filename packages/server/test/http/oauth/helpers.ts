// Helpers of the OAuth tests: registering a client and walking the consent page.
import { expect } from 'vitest';
import { getAuthorizePage, registerOAuthClient } from '@hearth/client';
import type { TestServer } from '../../helpers/server.js';

export interface RegisteredClient {
  client_id: string;
  client_secret: string;
  registration_access_token: string;
  client_name: string;
  pending?: boolean;
  [k: string]: unknown;
}

export async function register(server: TestServer, domain: string, body: Record<string, unknown> = {}): Promise<RegisteredClient> {
  const res = await registerOAuthClient({
    client: server.client(domain),
    body: { redirect_uris: ['http://localhost:4000/cb'], client_name: 'Desktop', software_id: 'github.com/cozy-labs/cozy-desktop', ...body } as never,
  });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  return res.data as unknown as RegisteredClient;
}

/** The `name=value` pairs of the Set-Cookie headers of a response, by name. */
export function setCookies(response: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';')[0]!;
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export function hiddenField(html: string, name: string): string | undefined {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html);
  return m?.[1]?.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

export interface AuthorizeQuery {
  client_id: string;
  redirect_uri: string;
  state: string;
  response_type: string;
  scope?: string;
  code_challenge?: string;
  code_challenge_method?: string;
  session_code?: string;
}

/** GET /auth/authorize as a browser (Accept: text/html). */
export async function authorizePage(server: TestServer, domain: string, query: AuthorizeQuery, cookie?: string, accept = 'text/html') {
  const res = await getAuthorizePage({ client: server.client(domain, { cookie, headers: { Accept: accept } }), query: query as never, parseAs: 'text' });
  const r = res as { data?: unknown; error?: unknown };
  const text = typeof r.data === 'string' ? r.data : typeof r.error === 'string' ? r.error : JSON.stringify(r.data ?? r.error ?? null);
  return { res, text };
}
