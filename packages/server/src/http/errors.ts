// Errors and their formats: the one place where an error becomes an HTTP response.
//
// Each route answers its errors in the format its contract documents:
// - `jsonapi`: a JSON:API error document (`application/vnd.api+json`);
// - `plain`: `{"error": "…"}` (`application/json`), used by the OAuth, flagship and login routes;
// - `negotiated`: authentication and permission failures, negotiated on the raw Accept header
//   (`{"error"}` for application/json, an HTML page for text/html, the bare message otherwise);
// - `html`: an HTML error page.

export type ErrorFormat = 'jsonapi' | 'plain' | 'negotiated' | 'html';

export interface JsonApiErrorObject {
  status: string;
  title: string;
  code?: string;
  detail: string;
  source: { parameter?: string; pointer?: string };
  links?: { self?: string; related?: string };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

export class HttpError extends Error {
  readonly status: number;
  readonly format: ErrorFormat;
  readonly headers: Record<string, string>;
  /** JSON:API errors (format jsonapi). */
  readonly errors: JsonApiErrorObject[];
  /** Extra members of a plain `{"error"}` body (format plain), e.g. `two_factor_token`. */
  readonly extra: Record<string, unknown>;
  /** For plain errors whose body is a custom object (`{}`, `{"message"}`), the whole body. */
  readonly body?: unknown;

  constructor(
    status: number,
    format: ErrorFormat,
    message: string,
    opts: { headers?: Record<string, string>; errors?: JsonApiErrorObject[]; extra?: Record<string, unknown>; body?: unknown } = {},
  ) {
    super(message);
    this.status = status;
    this.format = format;
    this.headers = opts.headers ?? {};
    this.errors = opts.errors ?? [];
    this.extra = opts.extra ?? {};
    this.body = opts.body;
  }
}

/** A JSON:API error. `title` defaults to the HTTP status text. */
export function jsonApiError(
  status: number,
  detail: string,
  opts: { title?: string; code?: string; parameter?: string; pointer?: string; links?: JsonApiErrorObject['links']; headers?: Record<string, string> } = {},
): HttpError {
  const source: JsonApiErrorObject['source'] = {};
  if (opts.parameter) source.parameter = opts.parameter;
  if (opts.pointer) source.pointer = opts.pointer;
  const err: JsonApiErrorObject = { status: String(status), title: opts.title ?? statusText(status), detail, source };
  if (opts.code) err.code = opts.code;
  if (opts.links) err.links = opts.links;
  return new HttpError(status, 'jsonapi', detail, { errors: [err], headers: opts.headers });
}

/** Several JSON:API errors in one document; the status is the first one's. */
export function jsonApiErrors(status: number, errors: JsonApiErrorObject[]): HttpError {
  return new HttpError(status, 'jsonapi', errors[0]?.detail ?? statusText(status), { errors });
}

/** A plain `{"error": message, ...extra}` error. */
export function plainError(status: number, error: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): HttpError {
  return new HttpError(status, 'plain', error, { extra, headers });
}

/** A plain JSON error whose body is exactly `body` (for the few routes whose error body is not `{"error"}`). */
export function jsonBodyError(status: number, body: unknown, message = statusText(status)): HttpError {
  return new HttpError(status, 'plain', message, { body });
}

/** An authentication or permission failure, negotiated on Accept. */
export function negotiatedError(status: number, message: string, headers?: Record<string, string>): HttpError {
  return new HttpError(status, 'negotiated', message, { headers });
}

/** An HTML error page. */
export function htmlError(status: number, message: string): HttpError {
  return new HttpError(status, 'html', message);
}

/** The standard token failures of reference §0.2. */
export const tokenErrors = {
  missing: () => negotiatedError(401, 'No token in request'),
  invalid: () => negotiatedError(400, 'Invalid JWT token', { 'WWW-Authenticate': 'Bearer error="invalid_token"' }),
  expired: () =>
    negotiatedError(400, 'Expired token', {
      'WWW-Authenticate': 'Bearer error="invalid_token", error_description="The access token expired"',
    }),
  forbidden: () => negotiatedError(403, 'Forbidden'),
};

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  contentType?: string;
  body?: string;
  /** The parsed body, for contract validation. */
  value?: unknown;
}

/** Renders an error in its format. `renderHtml` draws the HTML error page. */
export function renderError(
  err: HttpError,
  accept: string | undefined,
  isHead: boolean,
  renderHtml: (status: number, message: string) => string,
): RenderedError {
  const headers = { ...err.headers };
  if (isHead) return { status: err.status, headers };
  const json = (contentType: string, value: unknown): RenderedError => ({
    status: err.status,
    headers,
    contentType,
    body: JSON.stringify(value),
    value,
  });
  switch (err.format) {
    case 'jsonapi':
      return json('application/vnd.api+json', { errors: err.errors });
    case 'plain':
      return json('application/json', err.body !== undefined ? err.body : { error: err.message, ...err.extra });
    case 'html': {
      const html = renderHtml(err.status, err.message);
      return { status: err.status, headers, contentType: 'text/html; charset=utf-8', body: html, value: html };
    }
    case 'negotiated': {
      const a = accept ?? '';
      if (a.includes('application/json')) return json('application/json', { error: err.message });
      if (a.includes('text/html')) {
        const html = renderHtml(err.status, err.message);
        return { status: err.status, headers, contentType: 'text/html; charset=utf-8', body: html, value: html };
      }
      return { status: err.status, headers, contentType: 'text/plain; charset=utf-8', body: err.message, value: err.message };
    }
  }
}
