// Binds handlers to the contract: routing with openapi-backend, request parsing and validation per
// media type, error formatting, and response validation. Used by both the public and the admin app.
import express, { type Request, type Response } from 'express';
import { OpenAPIBackend, type Document } from 'openapi-backend';
import type { Contract, OperationSpec, ValidationIssue } from './contract.js';
import { HttpError, jsonApiError, jsonApiErrors, jsonBodyError, negotiatedError, plainError, renderError, type ErrorFormat } from './errors.js';
import type { TypedRequest } from './contract-types.js';
import { recordCoverage } from './coverage.js';

export interface HandlerResult {
  status: number;
  type?: string;
  body?: unknown;
  headers?: Record<string, string | string[]>;
}

export type AnyHandler<Ctx> = (request: TypedRequest<unknown>, ctx: Ctx) => Promise<HandlerResult> | HandlerResult;

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface DispatchOptions<Ctx> {
  contract: Contract;
  handlers: Record<string, AnyHandler<Ctx>>;
  /** Builds the handler context; may throw an HttpError (unknown instance, blocked instance…). */
  createContext(operation: OperationSpec, req: Request, res: Response, errorFor: (status: number, detail: string) => HttpError): Promise<Ctx>;
  /** The format of the errors raised before a handler runs (validation, body size…), per operation. */
  errorFormat(operation: OperationSpec, status: number): ErrorFormat;
  /** Draws the HTML error page. */
  renderErrorPage(status: number, message: string, req: Request): string;
  /** Headers added to every HTML response (Content-Security-Policy…). */
  htmlHeaders?: Record<string, string>;
  /** Request body size limit in bytes, per operation. */
  bodyLimit(operation: OperationSpec): number;
  /** `strict`: a response that violates the contract is replaced by a 500 (dev and tests); `log`: it is only logged. */
  responseValidation: 'strict' | 'log' | 'off';
  logger: Logger;
  /** What to answer for a path the contract does not have. */
  notFound?: (req: Request) => HttpError;
  /**
   * Builds the error of a request that failed before its handler (invalid body or parameters,
   * unreadable JSON…) instead of the generic one; `undefined` keeps the generic one. `body` is the
   * parsed request body when it was parsed.
   */
  requestError?: (operation: OperationSpec, status: number, detail: string, issues: ValidationIssue[], body?: unknown) => HttpError | undefined;
}

const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json$/;

/** The media type without parameters, lower-cased. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/**
 * Operation extension `x-hearth-request-errors`: the plain JSON bodies of the request failures
 * detected before the handler runs, for routes whose reference answers them in its own words
 * (the AcceptJSON / ContentTypeJSON middlewares and the handlers' decoding errors).
 * - `accept`: the `Accept` header must be `*\/*` or contain `application/json` (an empty one fails);
 * - `content-type`: the content type is not one the route accepts;
 * - `json`: the body is missing or is not valid JSON;
 * - `body`: the body does not match its schema (`error_description` defaults to the issues).
 * Each answers 400 with that body.
 */
type RequestErrorBodies = Partial<Record<'accept' | 'content-type' | 'json' | 'body', Record<string, unknown>>>;

function requestErrorsOf(op: OperationSpec): RequestErrorBodies | undefined {
  const ext = op.extensions?.['x-hearth-request-errors'];
  return ext && typeof ext === 'object' ? (ext as RequestErrorBodies) : undefined;
}

function acceptsJson(accept: string | undefined): boolean {
  const a = accept ?? '';
  return a.includes('*/*') || a.includes('application/json');
}

/** The regex of a path template (one group per parameter) and the parameters' names. */
function pathPattern(path: string): { re: RegExp; names: string[] } {
  const escaped = path.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
  return { re: new RegExp(`^${escaped.join('([^/]+)')}$`), names: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!) };
}

export interface Dispatcher {
  middleware: (req: Request, res: Response) => void;
}

export async function createDispatcher<Ctx>(opts: DispatchOptions<Ctx>): Promise<Dispatcher> {
  const { contract, logger } = opts;
  // openapi-backend reads the contract (a copy: it dereferences in place) and lists its operations;
  // authentication lives in auth.ts and validation in contract.ts.
  const api = new OpenAPIBackend({
    definition: JSON.parse(JSON.stringify(contract.document)) as Document,
    validate: false,
    quick: true,
  });
  await api.init();

  // openapi-backend loads the contract and lists its operations; matching a request against them
  // happens here, against a table built once: its router rebuilds the operation list and compiles
  // a regex per operation on every request, then parses the request again (a tenth of the time of
  // a hot route).
  const operations = api.router.getOperations();
  type RouterOperation = (typeof operations)[number];
  const exact = new Map<string, RouterOperation>();
  const templated: { re: RegExp; names: string[]; specificity: number; op: RouterOperation }[] = [];
  for (const op of operations) {
    if (op.path.includes('{')) templated.push({ ...pathPattern(op.path), specificity: op.path.replace(/\{.*?\}/g, '').length, op });
    else exact.set(`${op.method} ${op.path}`, op);
  }
  templated.sort((a, b) => b.specificity - a.specificity);
  api.router.getOperations = () => operations;
  const knownPaths = new Set(operations.map((o) => o.path));

  // The query parameters each operation declares (the NUL check looks at those only).
  const queryNames = new Map<string, Set<string>>();
  function declaredQuery(op: OperationSpec, query: Record<string, unknown>): Record<string, unknown> {
    let names = queryNames.get(op.operationId);
    if (!names) {
      names = new Set(op.parameters.filter((p) => p.in === 'query').map((p) => p.name));
      queryNames.set(op.operationId, names);
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(query)) if (names.has(k)) out[k] = query[k];
    return out;
  }

  /** The operation of a request and its raw path parameters, or why there is none. */
  function route(method: string, rawPath: string): { op: RouterOperation; params: Record<string, string> } | 404 | 405 {
    const m = method.toLowerCase();
    const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, '') : rawPath;
    const hit = exact.get(`${m} ${path}`);
    if (hit) return { op: hit, params: {} };
    for (const t of templated) {
      if (t.op.method !== m) continue;
      const found = t.re.exec(path);
      if (found) return { op: t.op, params: Object.fromEntries(t.names.map((n, i) => [n, found[i + 1]!])) };
    }
    return knownPaths.has(path) || templated.some((t) => t.re.test(path)) ? 405 : 404;
  }
  const rawParsers = new Map<number, ReturnType<typeof express.raw>>();
  const rawParser = (limit: number) => {
    let p = rawParsers.get(limit);
    if (!p) {
      p = express.raw({ type: () => true, limit });
      rawParsers.set(limit, p);
    }
    return p;
  };

  function readBody(op: OperationSpec, req: Request, res: Response): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      rawParser(opts.bodyLimit(op))(req, res, (err?: unknown) => {
        if (err) {
          const e = err as { status?: number; type?: string };
          if (e.status === 413 || e.type === 'entity.too.large') reject(errorFor(op, 413, 'The request body is too large'));
          else reject(errorFor(op, 400, 'The request body could not be read'));
          return;
        }
        const body = req.body as unknown;
        resolve(Buffer.isBuffer(body) && body.length > 0 ? body : undefined);
      });
    });
  }

  function errorFor(op: OperationSpec, status: number, detail: string, issues: ValidationIssue[] = [], body?: unknown): HttpError {
    const custom = opts.requestError?.(op, status, detail, issues, body);
    if (custom) return custom;
    const format = opts.errorFormat(op, status);
    const message = issues.length ? `${detail}: ${issues.map((i) => `${i.location} ${i.message}`).join('; ')}` : detail;
    switch (format) {
      case 'jsonapi':
        if (issues.length > 1) {
          return jsonApiErrors(
            status,
            issues.map((i) => ({ status: String(status), title: status === 422 ? 'Invalid Parameter' : 'Bad Request', detail: `${i.location} ${i.message}`, source: sourceOf(i) })),
          );
        }
        return jsonApiError(status, message, { title: status === 422 ? 'Invalid Parameter' : undefined, parameter: issues[0] ? sourceOf(issues[0]).parameter : undefined, pointer: issues[0] ? sourceOf(issues[0]).pointer : undefined });
      case 'plain':
        return plainError(status, message);
      case 'html':
        return new HttpError(status, 'html', message);
      default:
        return negotiatedError(status, message);
    }
  }

  function sourceOf(issue: ValidationIssue): { parameter?: string; pointer?: string } {
    if (issue.location.startsWith('body')) return { pointer: `/${issue.location.slice(5).replace(/\./g, '/')}` };
    const dot = issue.location.indexOf('.');
    return { parameter: dot >= 0 ? issue.location.slice(dot + 1) : issue.location };
  }

  async function parseBody(op: OperationSpec, req: Request, res: Response): Promise<{ type: string; value: unknown } | undefined> {
    const accepted = Object.keys(op.requestBody?.content ?? {});
    const raw = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(op, req, res);
    if (accepted.length === 0) return undefined; // the operation takes no body: whatever was sent is ignored
    const contentType = mediaTypeOf(req.headers['content-type']);
    const custom = requestErrorsOf(op);
    const type =
      (contentType && accepted.find((t) => t === contentType)) ??
      (contentType && accepted.find((t) => t.endsWith('/*') && contentType.startsWith(t.slice(0, -1)))) ??
      undefined;
    if (!raw) {
      if (op.requestBody?.required) {
        if (custom?.['content-type'] && !type) throw jsonBodyError(400, custom['content-type']);
        if (custom?.json) throw jsonBodyError(400, custom.json);
        throw errorFor(op, 400, 'The request body is missing');
      }
      return undefined;
    }
    if (!type) {
      if (custom?.['content-type']) throw jsonBodyError(400, custom['content-type']);
      throw errorFor(op, 400, `Unsupported content type ${contentType ?? '(none)'}; this route accepts ${accepted.join(', ')}`);
    }
    let value: unknown;
    if (JSON_TYPES.test(type)) {
      try {
        value = JSON.parse(raw.toString('utf8'));
      } catch {
        if (custom?.json) throw jsonBodyError(400, custom.json);
        throw errorFor(op, 400, 'The request body is not valid JSON');
      }
    } else if (type === 'application/x-www-form-urlencoded') {
      value = formToObject(new URLSearchParams(raw.toString('utf8')));
    } else if (type === 'multipart/form-data') {
      value = parseMultipart(raw, req.headers['content-type'] ?? '');
      if (!value) throw errorFor(op, 400, 'The multipart body could not be parsed');
    } else {
      value = raw;
    }
    if (!Buffer.isBuffer(value)) {
      const issues = [...contract.validateRequestBody(op.operationId, type, value), ...nulIssues(value, 'body')];
      if (issues.length && custom?.body) {
        throw jsonBodyError(400, { error_description: issues.map((i) => `${i.location} ${i.message}`).join('; '), ...custom.body });
      }
      if (issues.length) throw errorFor(op, requestIssueStatus(op), 'The request body is invalid', issues, value);
    }
    return { type, value };
  }

  function requestIssueStatus(op: OperationSpec): number {
    return op.responses['422'] && !op.responses['400'] ? 422 : 400;
  }

  async function run(operationId: string, pathParams: Record<string, string>, req: Request, res: Response) {
    const op = contract.operation(operationId);
    try {
      const ctx = await opts.createContext(op, req, res, (status, detail) => errorFor(op, status, detail));
      const custom = requestErrorsOf(op);
      if (custom?.accept && !acceptsJson(req.headers.accept)) throw jsonBodyError(400, custom.accept);
      const query = queryOf(req);
      const headers = req.headers as Record<string, string | undefined>;
      const cookies = parseCookies(req.headers.cookie);
      const path: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(pathParams)) path[k] = safeDecode(v);
      // No id, slug or domain holds a NUL character (PostgreSQL cannot even compare one): such a
      // path names nothing.
      const nul = nulIssues(path, 'path');
      if (nul.length) {
        const status = op.responses['404'] ? 404 : requestIssueStatus(op);
        throw errorFor(op, status, status === 404 ? 'Not found' : 'Invalid parameters', nul);
      }
      const issues = [
        ...contract.validateParameters(operationId, 'path', path),
        ...contract.validateParameters(operationId, 'query', query),
        ...contract.validateParameters(operationId, 'header', headers),
        ...contract.validateParameters(operationId, 'cookie', cookies),
        ...nulIssues(declaredQuery(op, query), 'query'),
      ];
      const tolerant = !op.responses['400'] && !op.responses['422'];
      if (issues.length && tolerant) {
        // An operation that documents no 400/422 has no way to reject its input: as in the
        // reference (which does not validate these values), an invalid optional parameter is
        // ignored, and an invalid path parameter names nothing (404).
        const values: Record<string, Record<string, unknown>> = { query, header: headers, cookie: cookies };
        for (const p of op.parameters) {
          if (p.in === 'path' || p.required) continue;
          const at = `${p.in}.${p.name}`;
          if (issues.some((i) => i.location === at || i.location.startsWith(`${at}.`))) delete values[p.in]![p.in === 'header' ? p.name.toLowerCase() : p.name];
        }
        const remaining = issues.filter((i) => !op.parameters.some((p) => p.in !== 'path' && !p.required && (i.location === `${p.in}.${p.name}` || i.location.startsWith(`${p.in}.${p.name}.`))));
        const pathIssues = remaining.filter((i) => i.location.startsWith('path.'));
        if (pathIssues.length && op.responses['404']) throw errorFor(op, 404, 'Not found', pathIssues);
        issues.splice(0, issues.length, ...remaining);
      }
      if (issues.length) throw errorFor(op, requestIssueStatus(op), 'Invalid parameters', issues);
      // Likewise, an optional body such an operation cannot read is ignored.
      const body =
        tolerant && !op.requestBody?.required
          ? await parseBody(op, req, res).catch((e: unknown) => {
              if (e instanceof HttpError && e.status === 400) return undefined;
              throw e;
            })
          : await parseBody(op, req, res);
      const handler = opts.handlers[operationId];
      // The handler maps are complete by type; a missing one is a wiring error (500).
      if (!handler) throw new Error(`no handler is registered for ${operationId}`);
      const result = await handler({ path, query, headers, cookies, body } as TypedRequest<unknown>, ctx);
      send(op, result, req, res);
    } catch (err) {
      fail(op, err, req, res);
    }
  }

  function fail(op: OperationSpec | undefined, err: unknown, req: Request, res: Response) {
    let httpErr: HttpError;
    if (err instanceof HttpError) {
      httpErr = err;
    } else {
      logger.error({ err, operationId: op?.operationId, method: req.method, url: req.originalUrl }, 'unhandled error');
      httpErr = jsonApiError(500, 'An unexpected error occurred; it has been logged', { title: 'Internal Server Error' });
    }
    const rendered = renderError(httpErr, req.headers.accept, req.method === 'HEAD', (s, m) => opts.renderErrorPage(s, m, req));
    if (op && httpErr.status >= 400) {
      send(op, { status: rendered.status, type: rendered.contentType, body: rendered.value, headers: rendered.headers }, req, res);
    } else {
      writeResponse(res, { status: rendered.status, type: rendered.contentType, body: rendered.value, headers: rendered.headers });
    }
  }

  function send(op: OperationSpec, result: HandlerResult, req: Request, res: Response) {
    let out = result;
    if (opts.responseValidation !== 'off' && out.status !== 501) {
      const media = mediaTypeOf(out.type);
      const issues = contract.validateResponse(op.operationId, out.status, media, req.method === 'HEAD' ? undefined : out.body);
      recordCoverage(op.operationId, out.status, media, issues.length === 0);
      if (issues.length) {
        logger.error({ operationId: op.operationId, status: out.status, issues }, 'response violates the contract');
        if (opts.responseValidation === 'strict') {
          const detail = `The response ${out.status} of ${op.operationId} violates the contract: ${issues.map((i) => `${i.location} ${i.message}`).join('; ')}`;
          out = {
            status: 500,
            type: 'application/vnd.api+json',
            body: { errors: [{ status: '500', title: 'Contract violation', detail, source: {} }] },
          };
        }
      }
    }
    writeResponse(res, out, opts.htmlHeaders);
  }

  return {
    middleware: (req: Request, res: Response) => {
      const found = route(req.method, req.path);
      if (found === 404) return fail(undefined, opts.notFound?.(req) ?? negotiatedError(404, 'Not Found'), req, res);
      if (found === 405) return fail(undefined, negotiatedError(405, 'Method Not Allowed'), req, res);
      void run(found.op.operationId!, found.params, req, res);
    },
  };
}

/** Writes a handler result: JSON bodies as exact `Content-Type` without charset (JSON:API forbids it). */
export function writeResponse(res: Response, result: HandlerResult, htmlHeaders?: Record<string, string>) {
  if (res.headersSent) return;
  res.status(result.status);
  for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, k.toLowerCase() === 'location' && typeof v === 'string' ? safeLocation(v) : v);
  if (result.body === undefined || result.status === 204 || result.status === 304) {
    res.end();
    return;
  }
  const type = result.type ?? 'application/json';
  const media = mediaTypeOf(type) ?? type;
  let payload: Buffer;
  if (Buffer.isBuffer(result.body)) payload = result.body;
  else if (JSON_TYPES.test(media)) payload = Buffer.from(JSON.stringify(result.body));
  else payload = Buffer.from(String(result.body));
  const contentType = media.startsWith('text/') && !type.includes('charset') ? `${media}; charset=utf-8` : type;
  res.setHeader('Content-Type', contentType);
  if (media === 'text/html' && htmlHeaders) for (const [k, v] of Object.entries(htmlHeaders)) if (!res.hasHeader(k)) res.setHeader(k, v);
  res.setHeader('Content-Length', payload.length);
  res.end(payload);
}

/** A Location value Node accepts: characters outside visible ASCII are percent-encoded (as UTF-8). */
function safeLocation(v: string): string {
  return v.replace(/[^\x21-\x7e]+/g, (run) => [...Buffer.from(run, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

/**
 * The strings of a request value that hold a NUL character (U+0000), which no stored text may hold
 * (PostgreSQL refuses it): one issue per string, at `<where>.<member>`. The API description says so.
 */
function nulIssues(value: unknown, where: string): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const message = 'must not contain a NUL character (U+0000)';
  const walk = (v: unknown, field: string, depth: number) => {
    const at = field ? `${where}.${field}` : where;
    if (typeof v === 'string') {
      if (v.includes('\0')) out.push({ location: at, message, keyword: 'nul', field });
    } else if (v && typeof v === 'object' && depth < 64) {
      for (const [k, x] of Object.entries(v)) {
        const sub = field ? `${field}.${k}` : k;
        if (k.includes('\0')) out.push({ location: `${where}.${sub}`, message, keyword: 'nul', field: sub });
        else walk(x, sub, depth + 1);
      }
    }
  };
  walk(value, '', 0);
  return out;
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** The query string as a flat object, keeping bracketed keys (`page[limit]`) as they are. */
export function queryOf(req: Request): Record<string, unknown> {
  const idx = req.originalUrl.indexOf('?');
  if (idx < 0) return {};
  return formToObject(new URLSearchParams(req.originalUrl.slice(idx + 1)));
}

function formToObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of params) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in out) continue;
    out[name] = safeDecode(part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

/** A minimal multipart/form-data reader for text fields (the OAuth token endpoint accepts it). */
function parseMultipart(raw: Buffer, contentType: string): Record<string, string> | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return undefined;
  const out: Record<string, string> = {};
  for (const part of raw.toString('utf8').split(`--${boundary}`)) {
    const sep = part.indexOf('\r\n\r\n');
    if (sep < 0) continue;
    const name = /name="([^"]*)"/i.exec(part.slice(0, sep))?.[1];
    if (name === undefined) continue;
    out[name] = part.slice(sep + 4).replace(/\r\n$/, '');
  }
  return out;
}
