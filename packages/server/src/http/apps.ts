// The two Express applications: the public API (instances chosen by Host) and the admin API
// (its own port, HTTP Basic auth). Both are bound to the contract by the dispatcher.
import { timingSafeEqual, createHash } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import type { AdminHandlers } from '../generated/admin-operations.gen.js';
import type { Handlers } from '../generated/public-operations.gen.js';
import type { Services } from '../services.js';
import { Contract, type OperationSpec } from './contract.js';
import { createRequestContext, type RequestContext } from './context.js';
import { createDispatcher, type AnyHandler } from './dispatch.js';
import { HttpError, type ErrorFormat } from './errors.js';
import { errorPage, htmlSecurityHeaders, serveAssets, serveDocs } from './static.js';
import { adminRequestError } from '../handlers/admin/validation.js';

/** The error format an operation documents for a status: JSON:API, plain JSON, HTML, or negotiated. */
export function documentedErrorFormat(op: OperationSpec, status: number): ErrorFormat {
  const response = op.responses[String(status)] ?? op.responses['400'];
  const types = Object.keys(response?.content ?? {});
  if (types.includes('application/vnd.api+json')) return 'jsonapi';
  if (types.includes('application/json') && types.includes('text/plain')) return 'negotiated';
  if (types.includes('application/json')) return 'plain';
  if (types.includes('text/html')) return 'html';
  return 'negotiated';
}

function validationMode(services: Services) {
  return services.config.env === 'production' ? ('log' as const) : ('strict' as const);
}

/** Reference §0.1: permissive CORS except on /auth/* (the logout routes set it themselves). */
function cors(req: Request, res: Response, next: () => void) {
  const origin = req.headers.origin;
  const authPath = req.path.startsWith('/auth/') && !req.path.startsWith('/auth/login');
  if (origin && !authPath) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, PUT, PATCH, POST, DELETE');
      const asked = req.headers['access-control-request-headers'];
      if (asked) res.setHeader('Access-Control-Allow-Headers', asked);
      res.setHeader('Access-Control-Max-Age', '43200');
      res.status(204).end();
      return;
    }
  }
  next();
}

export async function createPublicApp(services: Services, handlers: Handlers<RequestContext>): Promise<Express> {
  const contract = Contract.load('openapi');
  const dispatcher = await createDispatcher<RequestContext>({
    contract,
    handlers: handlers as unknown as Record<string, AnyHandler<RequestContext>>,
    createContext: (op, req, res, errorFor) => createRequestContext(services, op, req, res, errorFor),
    errorFormat: documentedErrorFormat,
    renderErrorPage: (status, message, req) => errorPage(status, message, req),
    htmlHeaders: htmlSecurityHeaders(),
    bodyLimit: (op) => (op.operationId === 'uploadAvatar' ? services.config.avatarBodyLimit : services.config.bodyLimit),
    responseValidation: validationMode(services),
    logger: services.logger,
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(cors);
  serveDocs(app, 'openapi');
  serveAssets(app);
  app.use(dispatcher.middleware);
  return app;
}

export interface AdminContext {
  operationId: string;
  req: Request;
  res: Response;
  services: Services;
  now: number;
}

const ADMIN_FREE = new Set(['getAdminStatus']);

function checkAdminAuth(services: Services, req: Request) {
  const header = req.headers.authorization ?? '';
  const [scheme, value] = header.split(' ');
  let password = '';
  if (scheme?.toLowerCase() === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    password = decoded.slice(decoded.indexOf(':') + 1);
  }
  const expected = services.config.admin.passphrase;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const ok = Boolean(expected) && Boolean(password) && timingSafeEqual(digest(password), digest(expected));
  if (!ok) {
    throw new HttpError(401, 'plain', password ? 'invalid admin credentials' : 'missing admin credentials', {
      headers: { 'WWW-Authenticate': 'Basic realm="hearth-admin"' },
    });
  }
}

export async function createAdminApp(services: Services, handlers: AdminHandlers<AdminContext>): Promise<Express> {
  const contract = Contract.load('admin');
  const dispatcher = await createDispatcher<AdminContext>({
    contract,
    handlers: handlers as unknown as Record<string, AnyHandler<AdminContext>>,
    createContext: async (op, req, res) => {
      if (!ADMIN_FREE.has(op.operationId)) checkAdminAuth(services, req);
      return { operationId: op.operationId, req, res, services, now: services.now() };
    },
    errorFormat: () => 'plain',
    renderErrorPage: (status, message, req) => errorPage(status, message, req),
    bodyLimit: () => services.config.bodyLimit,
    responseValidation: validationMode(services),
    logger: services.logger,
    notFound: () => new HttpError(404, 'plain', 'no such admin route'),
    requestError: adminRequestError,
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  serveDocs(app, 'admin');
  app.use(dispatcher.middleware);
  return app;
}
