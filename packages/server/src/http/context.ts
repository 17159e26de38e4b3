// The context every public handler receives: the instance chosen by the Host header, the
// authentication helpers, the services and the clock.
import type { Request, Response } from 'express';
import { contextConfig, instanceBaseUrl, type ContextConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import { getInstanceByDomain, type Instance } from '../repositories/instances.js';
import type { Services } from '../services.js';
import { Auth, extractToken } from './auth.js';
import type { OperationSpec } from './contract.js';
import { HttpError } from './errors.js';

export interface RequestContext {
  operationId: string;
  req: Request;
  res: Response;
  services: Services;
  logger: Logger;
  /** When the request started (epoch ms): one clock reading per request. */
  now: number;
  /** The instance chosen by the Host header (throws for the few operations that need none). */
  readonly instance: Instance;
  auth: Auth;
  /** `http(s)://<domain>` of the instance. */
  readonly baseUrl: string;
  /** The context configuration of the instance (`contexts.<ctx>`, falling back to `default`). */
  readonly contextConfig: ContextConfig;
}

/** Operations that answer on any host, without an instance. */
const INSTANCE_FREE = new Set(['getStatus']);

/** Thrown when a request must be redirected before any handler runs (an instance's old domain). */
export class RedirectSignal extends HttpError {
  constructor(location: string) {
    super(308, 'plain', 'Permanent Redirect', { headers: { Location: location } });
  }
}

export function normalizeHost(host: string | undefined): string {
  return (host ?? '').trim().toLowerCase().replace(/\.$/, '');
}

export async function createRequestContext(
  services: Services,
  op: OperationSpec,
  req: Request,
  res: Response,
  errorFor: (status: number, detail: string) => HttpError,
): Promise<RequestContext> {
  const now = services.now();
  const base = { operationId: op.operationId, req, res, services, now };
  if (INSTANCE_FREE.has(op.operationId)) {
    return {
      ...base,
      logger: services.logger,
      get instance(): Instance {
        throw new Error(`${op.operationId} has no instance`);
      },
      get auth(): Auth {
        throw new Error(`${op.operationId} has no instance`);
      },
      get baseUrl(): string {
        throw new Error(`${op.operationId} has no instance`);
      },
      get contextConfig(): ContextConfig {
        throw new Error(`${op.operationId} has no instance`);
      },
    } as RequestContext;
  }
  const host = normalizeHost(req.headers.host);
  const found = host ? await getInstanceByDomain(services.db, host) : null;
  if (!found || found.instance.deleting) throw errorFor(404, 'Instance not found');
  const { instance } = found;
  if (found.viaOldDomain) throw new RedirectSignal(`${instanceBaseUrl(services.config, instance.domain)}${req.originalUrl}`);
  checkBlocked(op, instance, req);
  const auth = new Auth({ db: services.db, config: services.config, instance, req, now });
  // Made on first use: most requests log nothing, and a pino child logger is not free.
  let logger: Logger | undefined;
  return {
    ...base,
    instance,
    auth,
    get logger(): Logger {
      return (logger ??= services.logger.child({ instance: instance.domain }));
    },
    baseUrl: instanceBaseUrl(services.config, instance.domain),
    contextConfig: contextConfig(services.config, instance.context),
  };
}

const BLOCKING_DETAIL: Record<string, string> = {
  LOGIN_FAILED: 'The Cozy was blocked because of too many login attempts',
  PAYMENT_FAILED: 'The Cozy requires a payment',
  IMPORTING: 'The Cozy is importing data',
  MOVING: 'The Cozy is moving to another place',
  UNKNOWN: 'The Cozy is blocked for an unknown reason',
};

/** Reference §0.1 CheckInstanceBlocked: on the routes that document it, a blocked instance
 * answers 503 (402 for a failed payment) unless the request carries a CLI token. */
function checkBlocked(op: OperationSpec, instance: Instance, req: Request) {
  if (!instance.blocked) return;
  const reason = instance.blockingReason ?? 'UNKNOWN';
  const status = reason === 'PAYMENT_FAILED' ? 402 : 503;
  if (!op.responses[String(status)]) return;
  const token = extractToken(req);
  if (token && isCliToken(token)) return;
  const detail = BLOCKING_DETAIL[reason] ?? BLOCKING_DETAIL.UNKNOWN!;
  const accept = req.headers.accept ?? '';
  const wantsJson = reason !== 'LOGIN_FAILED' && (accept.includes('json') || !accept.includes('text/html'));
  if (wantsJson) {
    throw new HttpError(status, 'plain', detail, { body: [{ status: String(status), title: 'Blocked', code: reason, detail, source: {} }] });
  }
  throw new HttpError(status, 'html', detail);
}

function isCliToken(token: string): boolean {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown };
    const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
    return aud === 'cli';
  } catch {
    return false;
  }
}
