// The mock server frontend teams build against: Prism serves both documents from their examples.
// Every operation is called through the generated SDK (inputs taken from the contract's own
// examples) and every JSON answer must satisfy the client's generated zod schema.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import * as publicSdk from '../src/generated/public/sdk.gen.js';
import * as publicZod from '../src/generated/public/zod.gen.js';
import * as adminSdk from '../src/generated/admin/sdk.gen.js';
import * as adminZod from '../src/generated/admin/zod.gen.js';
import { createClient, createConfig } from '../src/generated/public/client/index.js';
import { urlSearchParamsBodySerializer } from '../src/generated/public/core/bodySerializer.gen.js';

const contractDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'openapi');
const prismBin = join(contractDir, 'node_modules', '.bin', 'prism');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  method: string;
  path: string;
  op: Json;
  /** Parameters declared on the path item, shared by its operations. */
  shared: unknown[];
}

function operationsOf(spec: Json): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths as Record<string, Json>)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (op) out.push({ operationId: op.operationId as string, method, path, op, shared: (item.parameters as unknown[]) ?? [] });
    }
  }
  return out;
}

function deref(spec: Json, node: unknown): Json {
  let cur = node as Json;
  while (cur && typeof cur.$ref === 'string') {
    cur = (cur.$ref as string)
      .slice(2)
      .split('/')
      .reduce<Json>((acc, key) => acc[key.replace(/~1/g, '/').replace(/~0/g, '~')] as Json, spec);
  }
  return cur;
}

function firstExample(spec: Json, media: Json | undefined): unknown {
  if (!media) return undefined;
  if ('example' in media) return media.example;
  const examples = media.examples as Record<string, unknown> | undefined;
  const first = examples ? Object.values(examples)[0] : undefined;
  return first === undefined ? undefined : deref(spec, first).value;
}

/** The SDK call options that satisfy an operation: parameters and body from its own examples. */
function inputsOf(spec: Json, o: Operation) {
  const path: Record<string, unknown> = {};
  const query: Record<string, unknown> = {};
  for (const p of [...o.shared, ...((o.op.parameters as unknown[]) ?? [])].map((x) => deref(spec, x))) {
    if (!p.required) continue;
    const value = p.example ?? (p.schema as Json | undefined)?.example ?? firstExample(spec, p as Json);
    if (p.in === 'path') path[p.name as string] = value;
    if (p.in === 'query') query[p.name as string] = value;
  }
  const body = o.op.requestBody ? deref(spec, o.op.requestBody) : undefined;
  const content = (body?.content ?? {}) as Record<string, Json>;
  const mediaType = Object.keys(content)[0];
  const value = mediaType ? firstExample(spec, content[mediaType]) : undefined;
  return { path, query, mediaType, body: value };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function startPrism(doc: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(prismBin, ['mock', '-h', '127.0.0.1', '-p', String(port), join(contractDir, 'dist', `${doc}.yaml`)], {
    stdio: ['ignore', process.env.PRISM_LOG ? 'inherit' : 'pipe', 'pipe'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await fetch(url);
      return { url, child };
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`prism did not start for ${doc}.yaml`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const docs = [
  { name: 'openapi', sdk: publicSdk as Record<string, unknown>, zod: publicZod as Record<string, unknown> },
  { name: 'admin', sdk: adminSdk as Record<string, unknown>, zod: adminZod as Record<string, unknown> },
];

describe.each(docs.map((d) => [d.name, d] as const))('Prism mock of %s.yaml', (_title, { name, sdk, zod }) => {
  const spec = JSON.parse(readFileSync(join(contractDir, 'dist', `${name}.json`), 'utf8')) as Json;
  const operations = operationsOf(spec);
  let prism: { url: string; child: ChildProcess };
  let client: ReturnType<typeof createClient>;

  beforeAll(async () => {
    prism = await startPrism(name);
    client = createClient(
      createConfig({
        baseUrl: prism.url,
        // Redirect answers (301/302/303/307) are asserted, not followed.
        redirect: 'manual',
        auth: (auth) => (auth.scheme === 'basic' ? 'admin:secret' : auth.in === 'query' ? '0123456789abcdef0123456789abcdef' : 'eyJhbGciOiJIUzUxMiJ9.e30.sig'),
        headers: { Accept: 'application/json', Cookie: 'cozysessid=AAAA; _csrf=abc' },
      }),
    );
  }, 90_000);
  afterAll(() => {
    prism?.child.kill('SIGTERM');
  });

  it('has an SDK function for every operation', () => {
    const missing = operations.filter((o) => typeof sdk[o.operationId] !== 'function').map((o) => o.operationId);
    expect(missing).toEqual([]);
  });

  it.each(operations.map((o) => [o.operationId, o] as const))('%s answers an example the client schema accepts', async (_id, o) => {
    const input = inputsOf(spec, o);
    const fn = sdk[o.operationId] as (opts: Json) => Promise<{ data: unknown; error: unknown; response: Response }>;
    const documented = Object.keys(o.op.responses as Json);
    const success = documented.filter((s) => s.startsWith('2') || s.startsWith('3')).sort()[0];
    const successContent = success ? Object.keys((deref(spec, (o.op.responses as Json)[success]).content ?? {}) as Json) : [];
    const headers: Record<string, string> = { Accept: successContent[0] ?? '*/*' };
    const options: Json = { client, path: input.path, query: input.query, body: input.body, headers };
    if (input.mediaType === 'application/x-www-form-urlencoded') {
      Object.assign(options, urlSearchParamsBodySerializer);
      headers['Content-Type'] = input.mediaType;
    } else if (input.mediaType && input.mediaType !== 'application/json') {
      headers['Content-Type'] = input.mediaType;
      if (typeof input.body === 'object' && input.body !== null) options.bodySerializer = JSON.stringify;
    }
    const res = await fn(options);
    const status = res.response.status;
    expect(documented, `${o.operationId} answered ${status}: ${JSON.stringify(res.error ?? '')}`).toContain(String(status));
    // An operation with no success status (GET /settings/warnings) answers its first documented one.
    if (success) expect(status, `${o.operationId}: the mock should answer a success (${JSON.stringify(res.error ?? '')})`).toBeLessThan(400);
    const schema = zod[`z${o.operationId[0]!.toUpperCase()}${o.operationId.slice(1)}Response`] as z.ZodType | undefined;
    const type = res.response.headers.get('content-type') ?? '';
    if (schema && /json/.test(type) && status !== 204) {
      const parsed = schema.safeParse(res.data);
      expect(parsed.success, `${o.operationId}: ${parsed.success ? '' : JSON.stringify(parsed.error.issues).slice(0, 500)}`).toBe(true);
    }
  });
});
