// The admin API's request errors (admin.yaml, "Format"): every error is `{"error"}`, plus `field`
// (the dotted path of the faulty body value) for a 400 caused by one value. The dispatcher calls
// adminRequestError for requests that fail before their handler (body or parameter validation).
import type { OperationSpec, ValidationIssue } from '../../http/contract.js';
import { plainError, type HttpError } from '../../http/errors.js';

/** A 400 caused by one value of the body. */
export function fieldError(field: string, message: string, status = 400): HttpError {
  return plainError(status, message, { field });
}

/** The last segment of a path that is a property name (`permissions.files.verbs.0` → `verbs`). */
function nameOf(field: string): string {
  const names = field.split('.').filter((s) => s !== '' && !/^\d+$/.test(s));
  return names[names.length - 1] ?? 'body';
}

function valueAt(body: unknown, field: string): unknown {
  let cur: unknown = body;
  for (const seg of field.split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

const DOMAIN_FIELDS = new Set(['domain', 'old_domain']);

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** A readable message for one failed schema keyword. */
export function issueMessage(issue: ValidationIssue, body: unknown): string {
  const field = issue.field ?? '';
  const name = nameOf(field);
  const params = issue.params ?? {};
  switch (issue.keyword) {
    case 'required':
      return `${name} is required`;
    case 'additionalProperties':
      return 'unknown field';
    case 'enum': {
      const allowed = ((params.allowedValues as unknown[] | undefined) ?? []).filter((v) => v !== null).map(String);
      return `${name} must be one of ${allowed.join(', ')}`;
    }
    case 'type': {
      const types = ([] as unknown[]).concat(params.type ?? []).map(String).filter((t) => t !== 'null');
      return `${name} must be ${types.map(article).join(' or ')}`;
    }
    case 'minimum':
    case 'maximum':
      if (name === 'kdf_iterations') return 'kdf_iterations must be between 50000 and 5000000';
      return `${name} ${issue.message.replace(/^.*?(must)/, '$1')}`;
    case 'minLength':
      return params.limit === 1 ? `${name} must not be empty` : `${name} must be at least ${String(params.limit)} characters long`;
    case 'maxLength':
      return `${name} must be at most ${String(params.limit)} characters long`;
    case 'pattern': {
      const value = valueAt(body, field);
      if (DOMAIN_FIELDS.has(name) && typeof value === 'string') return `invalid ${name}: ${value}`;
      return `${name} must match ${String(params.pattern)}`;
    }
    case 'format':
      return `${name} must be a valid ${String(params.format)}`;
    default:
      return `${name} ${issue.message.replace(/^.*?(must)/, '$1')}`;
  }
}

/** The create-client route answers like POST /auth/register (`invalid_redirect_uri: …`, `invalid_client_metadata: …`). */
function oauthClientMessage(field: string, message: string): string {
  const top = field.split('.')[0] ?? '';
  if (field === 'redirect_uris') return 'invalid_redirect_uri: redirect_uris is mandatory';
  if (top === 'redirect_uris') return `invalid_redirect_uri: ${message}`;
  if (field === 'client_name' || field === 'software_id') return `invalid_client_metadata: ${field} is mandatory`;
  return `invalid_client_metadata: ${message}`;
}

export function adminRequestError(
  op: OperationSpec,
  status: number,
  detail: string,
  issues: ValidationIssue[],
  body?: unknown,
): HttpError {
  if (issues.length === 0) {
    return plainError(status, /not valid JSON/i.test(detail) ? 'invalid JSON body' : detail);
  }
  // An invalid path parameter names nothing that can exist.
  const domainIssue = issues.find((i) => i.location === 'path.domain');
  if (domainIssue) return plainError(404, 'instance not found');
  const clientIssue = issues.find((i) => i.location === 'path.clientId');
  if (clientIssue && op.responses['404']) return plainError(404, 'client not found');
  const issue = issues[0]!;
  if (!issue.location.startsWith('body')) {
    const param = issue.location.slice(issue.location.indexOf('.') + 1);
    return plainError(status, `invalid ${param}: ${issue.message}`);
  }
  const field = issue.field ?? '';
  // The whole body is at fault (not an object).
  if (field === '') return plainError(status, 'invalid JSON body');
  let message = issueMessage(issue, body);
  if (op.operationId === 'createOAuthClient') message = oauthClientMessage(field, message);
  return fieldError(field, message, status);
}
