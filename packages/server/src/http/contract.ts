// The contract at run time: the bundled OpenAPI documents, their operations, and validators for
// requests (parameters and bodies, per media type) and responses (per status and media type).
// This is the one place where validation against the contract happens.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const require = createRequire(import.meta.url);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export interface ParameterSpec {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: JsonObject;
}

export interface OperationSpec {
  operationId: string;
  method: string;
  path: string;
  parameters: ParameterSpec[];
  requestBody?: { required: boolean; content: Record<string, { schema?: JsonObject }> };
  responses: Record<string, { content?: Record<string, { schema?: JsonObject }>; headers?: Record<string, JsonObject> }>;
  security: string[];
  /** The operation's `x-*` extensions. */
  extensions?: Record<string, unknown>;
}

export interface ValidationIssue {
  /** Where: `body`, `query.page[limit]`, `path.clientId`, `header.x`… */
  location: string;
  message: string;
  /** The Ajv keyword that failed (`required`, `enum`, `type`, `additionalProperties`…). */
  keyword?: string;
  /** The Ajv parameters of the failure (`allowedValues`, `limit`, `pattern`…). */
  params?: Record<string, unknown>;
  /**
   * The faulty value's path inside its location, dotted (`permissions.files.verbs.0`), including
   * the missing or unexpected property for `required` / `additionalProperties`; `''` for the whole value.
   */
  field?: string;
}

const SCHEMA_BASE = 'https://hearth.invalid/contract/schemas/';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Replaces OpenAPI-level refs (responses, parameters, request bodies, headers) by their targets and
 * rewrites schema refs to ids registered in Ajv. */
function resolveDocument(doc: JsonObject): JsonObject {
  const lookup = (ref: string): Json => {
    const parts = ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let cur: Json = doc;
    for (const p of parts) cur = (cur as JsonObject)[p] as Json;
    return cur;
  };
  const walk = (node: Json, inSchema: boolean): Json => {
    if (Array.isArray(node)) return node.map((n) => walk(n, inSchema));
    if (node === null || typeof node !== 'object') return node;
    const ref = node.$ref;
    if (typeof ref === 'string') {
      if (ref.startsWith('#/components/schemas/')) return { $ref: SCHEMA_BASE + ref.slice('#/components/schemas/'.length) };
      return walk(lookup(ref), inSchema);
    }
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v, inSchema || k === 'schema');
    return out;
  };
  return walk(doc, false) as JsonObject;
}

export class Contract {
  readonly operations = new Map<string, OperationSpec>();
  readonly document: JsonObject;
  private readonly ajv: Ajv;
  private readonly coercingAjv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(document: JsonObject) {
    this.document = document;
    const resolved = resolveDocument(document);
    const makeAjv = (coerceTypes: boolean | 'array') => {
      const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes, discriminator: true });
      addFormats(ajv);
      const schemas = ((document.components as JsonObject | undefined)?.schemas ?? {}) as JsonObject;
      for (const name of Object.keys(schemas)) {
        const resolvedSchema = ((resolved.components as JsonObject).schemas as JsonObject)[name] as JsonObject;
        ajv.addSchema({ ...resolvedSchema, $id: SCHEMA_BASE + name });
      }
      return ajv;
    };
    this.ajv = makeAjv(false);
    this.coercingAjv = makeAjv('array');
    const globalSecurity = (document.security as JsonObject[] | undefined) ?? [];
    for (const [path, item] of Object.entries(resolved.paths as JsonObject)) {
      const pathItem = item as JsonObject;
      const shared = (pathItem.parameters as unknown as ParameterSpec[] | undefined) ?? [];
      for (const method of METHODS) {
        const op = pathItem[method] as JsonObject | undefined;
        if (!op) continue;
        const own = (op.parameters as unknown as ParameterSpec[] | undefined) ?? [];
        const params = [...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)), ...own].map((p) => ({
          ...p,
          required: Boolean(p.required),
          schema: p.schema ?? {},
        }));
        const security = ((op.security as JsonObject[] | undefined) ?? globalSecurity).flatMap((s) => Object.keys(s));
        this.operations.set(op.operationId as string, {
          operationId: op.operationId as string,
          method,
          path,
          parameters: params,
          requestBody: op.requestBody as OperationSpec['requestBody'],
          responses: (op.responses ?? {}) as OperationSpec['responses'],
          security: [...new Set(security)],
          extensions: Object.fromEntries(Object.entries(op).filter(([k]) => k.startsWith('x-'))),
        });
      }
    }
  }

  static load(name: 'openapi' | 'admin'): Contract {
    const file = require.resolve(`@hearth/contract/${name}.json`);
    return new Contract(JSON.parse(readFileSync(file, 'utf8')) as JsonObject);
  }

  operation(operationId: string): OperationSpec {
    const op = this.operations.get(operationId);
    if (!op) throw new Error(`unknown operation ${operationId}`);
    return op;
  }

  private compile(key: string, schema: JsonObject, coerce: boolean): ValidateFunction {
    let fn = this.cache.get(key);
    if (!fn) {
      fn = (coerce ? this.coercingAjv : this.ajv).compile(schema);
      this.cache.set(key, fn);
    }
    return fn;
  }

  /** Validates and coerces (in place) the parameters of one location. */
  validateParameters(
    operationId: string,
    location: ParameterSpec['in'],
    values: Record<string, unknown>,
  ): ValidationIssue[] {
    const op = this.operation(operationId);
    const params = op.parameters.filter((p) => p.in === location);
    const issues: ValidationIssue[] = [];
    for (const p of params) {
      const key = location === 'header' ? p.name.toLowerCase() : p.name;
      const raw = values[key];
      if (raw === undefined || raw === '') {
        if (p.required) issues.push({ location: `${location}.${p.name}`, message: `${p.name} is required` });
        if (raw === '' && !p.required) delete values[key];
        continue;
      }
      const holder = { v: raw };
      const validate = this.compile(`${operationId}:param:${location}:${p.name}`, {
        type: 'object',
        properties: { v: p.schema },
      }, true);
      if (!validate(holder)) {
        issues.push(...formatErrors(validate.errors, `${location}.${p.name}`));
      } else {
        values[key] = holder.v;
      }
    }
    return issues;
  }

  /** The media types the operation accepts for its request body. */
  requestMediaTypes(operationId: string): string[] {
    return Object.keys(this.operation(operationId).requestBody?.content ?? {});
  }

  validateRequestBody(operationId: string, mediaType: string, body: unknown): ValidationIssue[] {
    const op = this.operation(operationId);
    const schema = op.requestBody?.content[mediaType]?.schema;
    if (!schema) return [];
    const validate = this.compile(`${operationId}:body:${mediaType}`, schema, false);
    return validate(body) ? [] : formatErrors(validate.errors, 'body');
  }

  /** Checks a response against the contract: the status must be documented, the media type declared
   * for it, and the body valid against its schema. */
  validateResponse(operationId: string, status: number, mediaType: string | undefined, body: unknown): ValidationIssue[] {
    const op = this.operation(operationId);
    const response = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
    if (!response) return [{ location: 'status', message: `status ${status} is not documented for ${operationId}` }];
    const content = response.content ?? {};
    if (Object.keys(content).length === 0) {
      return body === undefined || body === null || body === '' ? [] : [{ location: 'body', message: `status ${status} has no body in the contract` }];
    }
    if (!mediaType || !content[mediaType]) {
      return [{ location: 'content-type', message: `${mediaType ?? 'no content type'} is not documented for ${operationId} ${status} (expected ${Object.keys(content).join(', ')})` }];
    }
    const schema = content[mediaType]?.schema;
    if (!schema) return [];
    const validate = this.compile(`${operationId}:response:${status}:${mediaType}`, schema, false);
    return validate(body) ? [] : formatErrors(validate.errors, 'body');
  }

  /** The media types documented for one status of an operation. */
  responseMediaTypes(operationId: string, status: number): string[] {
    const response = this.operation(operationId).responses[String(status)];
    return Object.keys(response?.content ?? {});
  }
}

function formatErrors(errors: ErrorObject[] | null | undefined, prefix: string): ValidationIssue[] {
  return (errors ?? []).slice(0, 10).map((e) => {
    const where = e.instancePath ? `${prefix}${e.instancePath.replace(/^\/v/, '').replace(/\//g, '.')}` : prefix;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') message = `${(e.params as { missingProperty: string }).missingProperty} is required`;
    if (e.keyword === 'additionalProperties') message = `${(e.params as { additionalProperty: string }).additionalProperty} is not allowed`;
    if (e.keyword === 'enum') message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map(String).join(', ')}`;
    const ownPath = prefix === 'body' ? e.instancePath : e.instancePath.replace(/^\/v(?=\/|$)/, '');
    const segments = ownPath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (e.keyword === 'required') segments.push((e.params as { missingProperty: string }).missingProperty);
    if (e.keyword === 'additionalProperties') segments.push((e.params as { additionalProperty: string }).additionalProperty);
    return { location: where, message, keyword: e.keyword, params: e.params as Record<string, unknown>, field: segments.join('.') };
  });
}
