// Authentication and permissions: the one place where requests are authenticated.
//
// Credentials (reference §0.4, §0.5): a JWT in `Authorization: Bearer`, in the password of Basic
// auth, or in the `bearer_token` query parameter; the onboarding `registerToken` query parameter;
// the session cookie. `Authorization: null` (sent by the official clients without a token) counts
// as no token. Token failures are the negotiated errors of reference §0.2.
import type { Request } from 'express';
import { contextConfig, skipCertification, type HearthConfig } from '../config/config.js';
import type { DbExecutor } from '../db/util.js';
import { getApp, type App } from '../repositories/apps.js';
import type { Instance } from '../repositories/instances.js';
import { getOAuthClient, type OAuthClient } from '../repositories/oauth-clients.js';
import { getSession, isSessionExpired, deleteSession, touchSession, type Session } from '../repositories/sessions.js';
import {
  AUDIENCES,
  allowId,
  allowWholeType,
  appSlugFromScope,
  decodeSessionCookie,
  isMaximal,
  parseScope,
  peekJwt,
  permissionsFromManifest,
  sessionSecretKey,
  verifyJwt,
  type Audience,
  type PermissionRule,
} from '../security/index.js';
import { plainError, tokenErrors } from './errors.js';
import { parseCookies, queryOf } from './dispatch.js';

export type Verb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a request is allowed to do, once its credential is verified. */
export interface Permission {
  kind: 'app' | 'konnector' | 'cli' | 'oauth' | 'register';
  rules: PermissionRule[];
  /** The JWT claims (absent for the register token). */
  claims?: { aud: string; sub?: string; scope?: string; session_id?: string; iat?: number };
  /** The OAuth client of an access token. */
  client?: OAuthClient;
  /** The webapp or konnector of an app/konnector token. */
  app?: App;
}

export interface AuthDeps {
  db: DbExecutor;
  config: HearthConfig;
  instance: Instance;
  req: Request;
  now: number;
}

const ALL_AUDIENCES: Audience[] = ['app', 'konn', 'cli', 'access'];

export function sessionCookieName(config: HearthConfig, instance: Instance): string {
  return config.subdomains === 'flat' ? `sess-${instance.domain.replace(/:\d+$/, '')}` : 'cozysessid';
}

/** The raw token of the request, or null. */
export function extractToken(req: Request): string | null {
  const header = req.headers.authorization?.trim();
  if (header && header !== 'null' && header !== 'undefined') {
    const [scheme, ...rest] = header.split(' ');
    const value = rest.join(' ').trim();
    if (scheme?.toLowerCase() === 'bearer' && value && value !== 'null') return value;
    if (scheme?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const password = colon >= 0 ? decoded.slice(colon + 1) : '';
      if (password) return password;
    }
  }
  const q = queryOf(req).bearer_token;
  return typeof q === 'string' && q ? q : null;
}

export class Auth {
  private sessionPromise?: Promise<Session | null>;
  private permissionPromise?: Promise<Permission>;

  constructor(private readonly deps: AuthDeps) {}

  get instance(): Instance {
    return this.deps.instance;
  }

  /** The logged-in session of the request, if its cookie is valid (expired sessions are deleted). */
  session(): Promise<Session | null> {
    this.sessionPromise ??= this.loadSession();
    return this.sessionPromise;
  }

  private async loadSession(): Promise<Session | null> {
    const { config, instance, req, db, now } = this.deps;
    const name = sessionCookieName(config, instance);
    const value = parseCookies(req.headers.cookie)[name];
    if (!value) return null;
    const decoded = decodeSessionCookie(name, value, sessionSecretKey(instance.sessionSecret));
    if (!decoded) return null;
    const session = await getSession(db, instance.id, decoded.sessionId);
    if (!session) return null;
    if (isSessionExpired(session, now)) {
      await deleteSession(db, instance.id, session.id);
      return null;
    }
    return touchSession(db, session, now);
  }

  /** Whether the request carries any token (header, Basic password, query, or registerToken). */
  hasToken(): boolean {
    return extractToken(this.deps.req) !== null || typeof queryOf(this.deps.req).registerToken === 'string';
  }

  /**
   * The permission of the request's token (reference `GetPermission`): a JWT of the instance, or
   * the onboarding register token. Throws 401 without a token, 400 for a bad or expired one.
   */
  permission(): Promise<Permission> {
    this.permissionPromise ??= this.loadPermission();
    return this.permissionPromise;
  }

  /** Like permission(), but answers null instead of throwing when there is no valid token. */
  async optionalPermission(): Promise<Permission | null> {
    try {
      return await this.permission();
    } catch {
      return null;
    }
  }

  private async loadPermission(): Promise<Permission> {
    const { req, instance } = this.deps;
    const token = extractToken(req);
    if (!token) {
      const registerToken = queryOf(req).registerToken;
      if (typeof registerToken === 'string' && registerToken) {
        if (instance.registerToken && /^[0-9a-f]{32}$/i.test(registerToken) && timingSafeEqualStr(registerToken.toLowerCase(), instance.registerToken)) {
          return {
            kind: 'register',
            rules: [{ type: 'io.cozy.settings', verbs: ['GET'], values: ['io.cozy.settings.instance'] }],
          };
        }
        throw tokenErrors.invalid();
      }
      throw tokenErrors.missing();
    }
    return this.verifyToken(token, ALL_AUDIENCES);
  }

  /** Verifies a JWT of this instance for one of the audiences and builds its permission. */
  async verifyToken(token: string, audiences: Audience[]): Promise<Permission> {
    const { instance, db, config, now } = this.deps;
    const peeked = peekJwt(token);
    if (!peeked || !audiences.includes(peeked.aud as Audience)) throw tokenErrors.invalid();
    const aud = peeked.aud as Audience;
    const key =
      aud === 'app' || aud === 'konn'
        ? sessionSecretKey(instance.sessionSecret)
        : aud === 'cli'
          ? Buffer.from(instance.cliSecret, 'base64')
          : Buffer.from(instance.oauthSecret, 'base64');
    const issuers = [instance.domain, ...(instance.oldDomain ? [instance.oldDomain] : [])];
    const verified = await verifyJwt(key, token, { audience: aud, issuers, now });
    if (!verified.ok) throw verified.reason === 'expired' ? tokenErrors.expired() : tokenErrors.invalid();
    const claims = verified.claims as Permission['claims'] & { aud: string };
    switch (aud) {
      case 'cli':
        return { kind: 'cli', rules: safeScope(claims.scope ?? '*'), claims };
      case 'app':
      case 'konn': {
        const app = claims.sub ? await getApp(db, instance.id, claims.sub, aud === 'app' ? 'webapp' : 'konnector') : null;
        if (!app) throw tokenErrors.invalid();
        if (aud === 'app' && claims.session_id) {
          const session = await getSession(db, instance.id, claims.session_id);
          if (!session || isSessionExpired(session, now)) throw tokenErrors.invalid();
        }
        return { kind: aud === 'app' ? 'app' : 'konnector', rules: manifestRules(app), claims, app };
      }
      case 'access': {
        const client = claims.sub ? await getOAuthClient(db, instance.id, claims.sub) : null;
        if (!client) throw tokenErrors.invalid();
        const scope = claims.scope ?? '';
        if (scope.trim() === '*' && !client.flagship && !skipCertification(config, instance.context)) throw tokenErrors.invalid();
        const slug = appSlugFromScope(scope);
        if (slug) {
          const app = await getApp(db, instance.id, slug, 'webapp');
          return { kind: 'oauth', rules: app ? manifestRules(app) : [], claims, client };
        }
        return { kind: 'oauth', rules: safeScope(scope), claims, client };
      }
      default:
        throw tokenErrors.invalid();
    }
  }

  /** Requires a permission on the whole doctype for the verb (reference `AllowWholeType`). */
  async requireWholeType(verb: Verb | Verb[], doctype: string): Promise<Permission> {
    const perm = await this.permission();
    const verbs = Array.isArray(verb) ? verb : [verb];
    if (!verbs.some((v) => allowWholeType(perm.rules, v, doctype))) throw tokenErrors.forbidden();
    return perm;
  }

  /** Requires a permission on the whole doctype, or on one document of it. */
  async requireTypeOrId(verb: Verb, doctype: string, id: string): Promise<Permission> {
    const perm = await this.permission();
    if (!allowWholeType(perm.rules, verb, doctype) && !allowId(perm.rules, verb, doctype, id)) throw tokenErrors.forbidden();
    return perm;
  }

  /** Requires the maximal permission (scope `*` of a certified flagship app, or a CLI token). */
  async requireMaximal(): Promise<Permission> {
    const perm = await this.permission();
    if (!isMaximal(perm.rules)) throw tokenErrors.forbidden();
    return perm;
  }

  /** Whether a permission is maximal. */
  static isMaximal(perm: Permission): boolean {
    return isMaximal(perm.rules);
  }

  /** The context configuration of the instance. */
  contextConfig() {
    return contextConfig(this.deps.config, this.deps.instance.context);
  }

  /**
   * Requires the webapp token of the settings app (reference `RequireSettingsApp`): 401/400 for a
   * missing or bad token, 403 for any other token.
   */
  async requireSettingsApp(): Promise<Permission> {
    const perm = await this.permission();
    if (perm.kind !== 'app' || perm.app?.slug !== 'settings') throw tokenErrors.forbidden();
    return perm;
  }

  /** Whether the request carries a valid webapp token (reference `HasWebAppToken`). Never throws. */
  async hasWebappToken(): Promise<boolean> {
    const token = extractToken(this.deps.req);
    if (!token) return false;
    try {
      await this.verifyToken(token, ['app']);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The verified claims of the request's JWT, whatever its audience (reference `ExtractClaims`):
   * signature with the audience's key, issuer, lifetime. No permission is built and nothing else
   * is checked (the caller checks the subject). Throws 400 Invalid JWT token (also without a
   * token) or Expired token.
   */
  async verifiedClaims(audiences: readonly Audience[] = AUDIENCES): Promise<NonNullable<Permission['claims']>> {
    const { req, instance, now } = this.deps;
    const token = extractToken(req);
    const peeked = token ? peekJwt(token) : null;
    if (!token || !peeked || !audiences.includes(peeked.aud as Audience)) throw tokenErrors.invalid();
    const aud = peeked.aud as Audience;
    const key =
      aud === 'app' || aud === 'konn'
        ? sessionSecretKey(instance.sessionSecret)
        : aud === 'cli'
          ? Buffer.from(instance.cliSecret, 'base64')
          : Buffer.from(instance.oauthSecret, 'base64');
    const issuers = [instance.domain, ...(instance.oldDomain ? [instance.oldDomain] : [])];
    const verified = await verifyJwt(key, token, { audience: aud, issuers, now });
    if (!verified.ok) throw verified.reason === 'expired' ? tokenErrors.expired() : tokenErrors.invalid();
    return verified.claims as NonNullable<Permission['claims']>;
  }

  /**
   * Reference `checkRegistrationToken`: the bearer token must be an OAuth registration token of
   * this instance (aud `registration`, signed with the oauth secret) whose subject is `clientId`.
   * Anything else (no token, another client, another audience or instance) → 401 {"error":"invalid_token"}.
   */
  async requireRegistrationToken(clientId: string): Promise<void> {
    const { req, instance, now } = this.deps;
    const token = extractToken(req);
    if (!token) throw plainError(401, 'invalid_token');
    const issuers = [instance.domain, ...(instance.oldDomain ? [instance.oldDomain] : [])];
    const verified = await verifyJwt(Buffer.from(instance.oauthSecret, 'base64'), token, { audience: 'registration', issuers, now });
    if (!verified.ok || verified.claims.sub !== clientId) throw plainError(401, 'invalid_token');
  }
}

function safeScope(scope: string): PermissionRule[] {
  try {
    return parseScope(scope);
  } catch {
    throw tokenErrors.invalid();
  }
}

function manifestRules(app: App): PermissionRule[] {
  try {
    return permissionsFromManifest(app.permissions as Parameters<typeof permissionsFromManifest>[0]);
  } catch {
    return [];
  }
}

function timingSafeEqualStr(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
