// A fetch that sends every request to 127.0.0.1 while keeping the URL's host in the Host header,
// so tests can address instances by name (http://alice.test:PORT/…) without any DNS set-up.
// Redirects are never followed: tests assert on 3xx responses themselves.
import { request as httpRequest } from 'node:http';

export async function loopbackFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  return send(input, init);
}

/**
 * A loopback fetch whose Host header is always `host`, whatever port the URL names: the same
 * instance reached through several server processes, as behind a load balancer.
 */
export function loopbackFetchAs(host: string): typeof fetch {
  return ((input: RequestInfo | URL, init?: RequestInit) => send(input, init, host)) as typeof fetch;
}

async function send(input: RequestInfo | URL, init: RequestInit | undefined, hostOverride?: string): Promise<Response> {
  const req = new Request(input, init);
  const url = new URL(req.url);
  const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
  const headers: Record<string, string | string[]> = {};
  req.headers.forEach((value, key) => {
    headers[key] = value;
  });
  headers.host = hostOverride ?? url.host;
  if (body) headers['content-length'] = String(body.length);
  return new Promise<Response>((resolve, reject) => {
    const r = httpRequest(
      { host: '127.0.0.1', port: Number(url.port || 80), path: `${url.pathname}${url.search}`, method: req.method, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const x of v) h.append(k, x);
            else if (v !== undefined) h.set(k, String(v));
          }
          const status = res.statusCode ?? 500;
          const nullBody = [101, 204, 205, 304].includes(status) || req.method === 'HEAD';
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: h }));
        });
      },
    );
    r.on('error', reject);
    if (init?.signal) init.signal.addEventListener('abort', () => r.destroy(new Error('aborted')));
    r.end(body);
  });
}
