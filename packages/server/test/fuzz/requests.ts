// Request generation for one operation: valid requests drawn from the contract (parameters,
// bodies of every media type, working credentials) and invalid ones (schema mutations, malformed
// JSON, wrong content type, missing body, garbage credentials, unknown Host). Every request is
// finally classified with the contract's own request validator, so "valid" means exactly "the
// contract accepts these parameters and body".
import fc from 'fast-check';
import type { Contract, OperationSpec, ParameterSpec } from '../../src/http/contract.js';
import { SchemaGen, type Json, type Schema } from './schema-arbitrary.js';

export type Api = 'public' | 'admin';

export interface Credentials {
  /** CLI token with scope `*` (every permission). */
  cli: string;
  /** OAuth access token with scope `*` of the fixture client. */
  access: string;
  /** App token (webapp `drive`) bound to the session. */
  app: string;
  /** Registration token of the fixture client. */
  registration: string;
  /** `cozysessid=…` of an open session. */
  cookie: string;
  /** Admin `Authorization: Basic …`. */
  adminBasic: string;
}

export interface Fixture {
  domain: string;
  unknownDomain: string;
  clientId: string;
  appSlug: string;
  konnectorSlug: string;
  creds: Credentials;
}

export interface FuzzRequest {
  valid: boolean;
  /** Why the request is invalid (or `valid`). */
  reason: string;
  method: string;
  /** Host[:port] to put in the URL (the instance, or an unknown one). */
  host: 'instance' | 'unknown' | 'admin';
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
  body?: { type?: string; bytes: Buffer; parsed?: unknown; parsedType?: string };
  /** Credential choice, resolved against the fixture at send time. */
  auth: 'cli' | 'access' | 'app' | 'registration' | 'adminBasic' | 'none' | 'garbage';
  garbageAuth?: string;
  cookie: 'session' | 'none' | 'garbage';
  garbageCookie?: string;
  /** Path parameter placeholders resolved at send time: `{clientId}` → fixture client… */
  pathParams: Record<string, { fixture: keyof Fixture } | { value: string }>;
}

const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json$/;
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
const PNG_1PX = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** Visible ASCII only (header values must be ByteStrings; keep them printable). */
function headerSafe(v: string): string {
  return v.replace(/[^\x20-\x7e]/g, '?');
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function formBytes(value: unknown): Buffer {
  const params = new URLSearchParams();
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (Array.isArray(v)) for (const x of v) params.append(k, stringify(x));
      else params.append(k, stringify(v));
    }
  } else {
    params.append('value', stringify(value));
  }
  return Buffer.from(params.toString());
}

function formParse(bytes: Buffer): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(bytes.toString('utf8'))) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const BOUNDARY = 'hearthfuzzboundary7MA4YWxkTrZu0gW';
function multipartBytes(value: unknown): Buffer {
  const parts: string[] = [];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      parts.push(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k.replace(/["\r\n]/g, '_')}"\r\n\r\n${stringify(v)}\r\n`);
    }
  }
  parts.push(`--${BOUNDARY}--\r\n`);
  return Buffer.from(parts.join(''));
}

/** The credential alternatives of an operation's `security` (raw document requirements). */
function securityAlternatives(doc: Schema, opId: string): string[][] {
  for (const item of Object.values(doc.paths as Schema)) {
    for (const op of Object.values(item as Schema)) {
      if (op && typeof op === 'object' && (op as Schema).operationId === opId) {
        const sec = ((op as Schema).security ?? doc.security ?? []) as Schema[];
        return sec.map((s) => Object.keys(s));
      }
    }
  }
  return [];
}

export interface OperationPlan {
  api: Api;
  op: OperationSpec;
  valid: fc.Arbitrary<FuzzRequest>;
  invalid: fc.Arbitrary<FuzzRequest> | null;
  /** True when every security alternative needs a credential. */
  requiresCredential: boolean;
}

export function planOperation(api: Api, contract: Contract, op: OperationSpec): OperationPlan {
  const doc = contract.document as Schema;
  const gen = new SchemaGen(doc);
  const alternatives = securityAlternatives(doc, op.operationId);
  const requiresCredential = alternatives.length > 0 && alternatives.every((a) => a.length > 0);
  const usesBearer = alternatives.some((a) => a.includes('bearerToken') || a.includes('registrationToken') || a.includes('adminBasic'));
  const cookieOnly = requiresCredential && alternatives.every((a) => a.includes('sessionCookie') && a.length === 1);
  const host: FuzzRequest['host'] = api === 'admin' ? 'admin' : 'instance';

  // --- credentials of valid requests
  const authChoices: FuzzRequest['auth'][] = [];
  if (api === 'admin') authChoices.push('adminBasic');
  else {
    if (alternatives.some((a) => a.includes('registrationToken'))) authChoices.push('registration');
    if (alternatives.some((a) => a.includes('bearerToken'))) authChoices.push('cli', 'access', 'app');
    if (alternatives.some((a) => a.length === 0) || alternatives.length === 0 || authChoices.length === 0) authChoices.push('none');
  }
  const cookieChoices: FuzzRequest['cookie'][] = api === 'admin' ? ['none'] : ['session', 'none'];

  // --- parameters
  const fixtureParam = (p: ParameterSpec): keyof Fixture | undefined => {
    if (p.name === 'clientId') return 'clientId';
    if (p.name === 'domain') return 'domain';
    if (p.name === 'slug') return op.operationId === 'createKonnectorToken' ? 'konnectorSlug' : 'appSlug';
    return undefined;
  };
  const paramArb = (p: ParameterSpec) => gen.validArbitrary(p.schema as Json).map((v) => stringify(v));
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const headerParams = op.parameters.filter((p) => p.in === 'header');
  const validPath = fc.record(
    Object.fromEntries(
      pathParams.map((p) => {
        const f = fixtureParam(p);
        const generated = paramArb(p)
          .filter((s) => s.length > 0 && s !== '.' && s !== '..')
          .map((value) => ({ value }) as { fixture: keyof Fixture } | { value: string });
        const arb = f ? fc.oneof({ weight: 4, arbitrary: fc.constant({ fixture: f }) }, { weight: 1, arbitrary: generated }) : generated;
        return [p.name, arb];
      }),
    ),
  ) as fc.Arbitrary<Record<string, { fixture: keyof Fixture } | { value: string }>>;
  const validQuery = fc
    .tuple(...queryParams.map((p) => (p.required ? paramArb(p).map((v) => [[p.name, v]] as [string, string][]) : fc.option(paramArb(p), { nil: undefined }).map((v) => (v === undefined ? [] : [[p.name, v]] as [string, string][])))))
    .map((parts) => parts.flat());
  const validHeaders = fc
    .tuple(...headerParams.map((p) => fc.option(paramArb(p).map(headerSafe), { nil: undefined }).map((v) => (v === undefined ? {} : { [p.name]: v }))))
    .map((parts) => Object.assign({}, ...parts) as Record<string, string>);
  const accept = fc.constantFrom<string | undefined>('application/json', '*/*', 'text/html', 'application/vnd.api+json', undefined);

  // --- bodies
  const mediaTypes = Object.keys(op.requestBody?.content ?? {});
  const bodyArbFor = (type: string, value: fc.Arbitrary<unknown>): fc.Arbitrary<NonNullable<FuzzRequest['body']>> => {
    if (JSON_TYPES.test(type)) return value.map((v) => ({ type, bytes: Buffer.from(JSON.stringify(v) ?? 'null'), parsed: v, parsedType: type }));
    if (type === 'application/x-www-form-urlencoded') return value.map((v) => { const bytes = formBytes(v); return { type, bytes, parsed: formParse(bytes), parsedType: type }; });
    if (type === 'multipart/form-data') {
      return value.map((v) => {
        const bytes = multipartBytes(v);
        const parsed = v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stringify(x)])) : {};
        return { type: `${type}; boundary=${BOUNDARY}`, bytes, parsed, parsedType: type };
      });
    }
    // raw bodies (the avatar): a real 1-pixel PNG or random bytes, under a concrete image type
    const concrete = type.endsWith('/*') ? fc.constantFrom(...IMAGE_TYPES) : fc.constant(type);
    return fc.tuple(concrete, fc.oneof(fc.constant(PNG_1PX), fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((a) => Buffer.from(a)))).map(([t, bytes]) => ({ type: t, bytes }));
  };
  const validBody: fc.Arbitrary<FuzzRequest['body']> = mediaTypes.length
    ? (() => {
        const withBody = fc.oneof(...mediaTypes.map((t) => bodyArbFor(t, gen.validArbitrary(op.requestBody!.content[t]!.schema as Json))));
        return op.requestBody?.required ? withBody : fc.option(withBody, { nil: undefined });
      })()
    : fc.constant(undefined);

  const base = fc.record({
    auth: fc.constantFrom(...authChoices),
    cookie: fc.constantFrom(...cookieChoices),
    pathParams: validPath,
    query: validQuery,
    headers: fc.tuple(validHeaders, accept).map(([h, a]) => (a ? { ...h, Accept: a } : h)),
    body: validBody,
  });
  const valid: fc.Arbitrary<FuzzRequest> = base.map((b) => ({
    ...b,
    valid: true,
    reason: 'valid',
    method: op.method.toUpperCase(),
    host,
    path: op.path,
  }));

  // --- invalid variants
  const invalids: fc.Arbitrary<FuzzRequest>[] = [];
  const mutate = (f: (r: FuzzRequest) => fc.Arbitrary<FuzzRequest>) => invalids.push(valid.chain(f));
  for (const type of mediaTypes) {
    const schema = op.requestBody!.content[type]!.schema as Json | undefined;
    const bad = schema ? gen.invalidArbitrary(schema) : null;
    if (bad && type !== 'multipart/form-data' && !type.startsWith('image/') && type !== 'application/octet-stream') {
      const bodies = bodyArbFor(type, bad.map((b) => b.value));
      mutate((r) => fc.tuple(bad, bodies).map(([b, body]) => ({ ...r, valid: false, reason: `body ${type}: ${b.reason}`, body })));
    }
    if (JSON_TYPES.test(type)) {
      mutate((r) =>
        fc.constantFrom('{"a":', '{', 'nul', "{'single': 1}", '[1,2', '\u0000', '{"x":1}}').map((text) => ({
          ...r,
          valid: false,
          reason: `malformed JSON (${type})`,
          body: { type, bytes: Buffer.from(text) },
        })),
      );
    }
  }
  if (mediaTypes.length) {
    mutate((r) =>
      fc.constantFrom('text/plain', 'application/xml', 'text/csv').map((type) => ({
        ...r,
        valid: false,
        reason: `wrong content type ${type}`,
        body: { type, bytes: Buffer.from('hello=world') },
      })),
    );
    if (op.requestBody?.required) mutate((r) => fc.constant({ ...r, valid: false, reason: 'missing body', body: undefined }));
  }
  for (const p of [...pathParams, ...queryParams, ...headerParams]) {
    const bad = gen.invalidArbitrary(p.schema as Json);
    if (!bad) continue;
    const badValue = bad.map((b) => ({ v: stringify(b.value), reason: b.reason })).filter((b) => b.v.length <= 8192);
    mutate((r) =>
      badValue.map(({ v, reason }) => {
        const out: FuzzRequest = { ...r, valid: false, reason: `${p.in} ${p.name}: ${reason}` };
        if (p.in === 'path') {
          if (v === '' || v === '.' || v === '..') return { ...out, valid: true };
          out.pathParams = { ...r.pathParams, [p.name]: { value: v } };
        } else if (p.in === 'query') out.query = [...r.query.filter(([k]) => k !== p.name), [p.name, v]];
        else out.headers = { ...r.headers, [p.name]: headerSafe(v) };
        return out;
      }),
    );
  }
  if (requiresCredential) {
    const garbageAuth = fc.oneof(
      fc.constantFrom('Bearer x.y.z', 'null', 'Bearer null', 'Bearer ', 'Basic', 'Basic !!!', 'Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJjbGkifQ.', 'Digest abc'),
      fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 64 }).map((s) => headerSafe(s).trim() || 'x'),
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => `Bearer ${headerSafe(s)}`),
    );
    const garbageCookie = fc.oneof(
      fc.constantFrom('cozysessid=garbage', 'cozysessid=', 'cozysessid=null', '=;;;', 'cozysessid="a"; cozysessid=b'),
      fc.string({ minLength: 1, maxLength: 64 }).map((s) => `cozysessid=${headerSafe(s).replace(/;/g, '')}`),
    );
    // the real resources (fixture client, installed app…), so that only the credential is wrong
    const realPath = Object.fromEntries(pathParams.filter((p) => fixtureParam(p)).map((p) => [p.name, { fixture: fixtureParam(p)! }]));
    if (usesBearer) mutate((r) => garbageAuth.map((g) => ({ ...r, pathParams: { ...r.pathParams, ...realPath }, valid: false, reason: `garbage Authorization ${JSON.stringify(g)}`, auth: 'garbage' as const, garbageAuth: g, cookie: 'none' as const })));
    if (cookieOnly) {
      mutate((r) =>
        fc.tuple(garbageCookie, fc.boolean(), garbageAuth).map(([c, withAuth, g]) => ({
          ...r,
          valid: false,
          reason: `garbage Cookie ${JSON.stringify(c)}`,
          cookie: 'garbage' as const,
          garbageCookie: c,
          auth: withAuth ? ('garbage' as const) : ('none' as const),
          garbageAuth: g,
        })),
      );
    }
  }
  if (api === 'public' && op.operationId !== 'getStatus') {
    mutate((r) => fc.constant({ ...r, valid: false, reason: 'unknown Host', host: 'unknown' as const }));
  }

  return { api, op, valid, invalid: invalids.length ? fc.oneof(...invalids) : null, requiresCredential };
}

/**
 * Re-checks a request against the contract's request validator: parameters and body. Answers the
 * locations of the issues (`path.clientId`, `query.redirect`, `body`…); empty when accepted.
 */
export function contractIssues(contract: Contract, op: OperationSpec, req: FuzzRequest, resolvedPath: Record<string, string>): string[] {
  const path: Record<string, unknown> = { ...resolvedPath };
  const query: Record<string, unknown> = {};
  for (const [k, v] of req.query) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const headers: Record<string, unknown> = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const issues = [
    ...contract.validateParameters(op.operationId, 'path', path),
    ...contract.validateParameters(op.operationId, 'query', query),
    ...contract.validateParameters(op.operationId, 'header', headers),
  ].map((i) => i.location);
  if (req.body?.parsedType !== undefined && contract.validateRequestBody(op.operationId, req.body.parsedType, req.body.parsed).length) issues.push('body');
  return issues;
}
