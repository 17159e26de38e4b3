// POST /oidc/access_token (reference §3.11, §6 items 6 and 6b): a proof of identity from the
// context's OpenID Connect provider (or a delegated code from the cloudery) exchanged for OAuth
// tokens. Unlike the reference implementation, the `id_token` and `oidc_token` proofs are really
// checked: the ID token against the provider's JWKS, the access token through its userinfo.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { oidcConfig, type OidcConfig } from '../config/config.js';
import type { RequestContext } from '../http/context.js';
import { jsonBodyError, plainError } from '../http/errors.js';
import { contextScope, getCode } from '../repositories/codes.js';
import type { Instance } from '../repositories/instances.js';
import { updateOAuthClient } from '../repositories/oauth-clients.js';
import { appSlugFromScope, parseScope } from '../security/index.js';
import {
  authenticateClient,
  issueSessionCode,
  message,
  sendTwoFactorPasscode,
  twoFactorActive,
  twoFactorPairValid,
} from './flagship-auth.js';
import { issueTokens, type IssuedTokens } from './tokens.js';

export interface OidcTokenInput {
  client_id: string;
  client_secret: string;
  scope?: string;
  code?: string;
  id_token?: string;
  oidc_token?: string;
  two_factor_token?: string;
  two_factor_passcode?: string;
}

export type OidcTokenOutcome = { kind: 'tokens'; tokens: IssuedTokens } | { kind: 'session_code'; sessionCode: string };

const notEnabled = () => plainError(400, 'this endpoint is not enabled');

// One remote key set per JWKS URL, so keys are cached between requests (jose refetches on an
// unknown `kid`, with a cooldown).
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function keySet(url: string) {
  let set = keySets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { timeoutDuration: 10_000 });
    if (keySets.size > 100) keySets.clear();
    keySets.set(url, set);
  }
  return set;
}

/** The verified claims of an ID token (signature from the JWKS, `exp`/`nbf`), or null. */
export async function verifyIdToken(jwksUrl: string, idToken: string, now: number): Promise<JWTPayload | null> {
  try {
    const { payload } = await jwtVerify(idToken, keySet(jwksUrl), { currentDate: new Date(now), clockTolerance: 60 });
    return payload;
  } catch {
    return null;
  }
}

/** The provider's userinfo for an access token, or null when it cannot be had. */
export async function fetchUserinfo(url: string, token: string): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(url, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      signal: AbortSignal.timeout(10_000),
      redirect: 'error',
    });
    if (!res.ok) return null;
    const body = (await res.json()) as unknown;
    return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Whether the userinfo designates this instance: `<prefix><field value><suffix>` is its domain
 * (or, with `allow_custom_instance`, its `sub` is the instance's `oidc_id`). */
export function userinfoMatches(conf: OidcConfig, userinfo: Record<string, unknown>, instance: Instance): boolean {
  if (conf.allowCustomInstance) return Boolean(instance.oidcId) && userinfo.sub === instance.oidcId;
  const field = conf.userinfoInstanceField;
  const value = field ? userinfo[field] : undefined;
  if (typeof value !== 'string' || value === '') return false;
  const domain = `${conf.userinfoInstancePrefix ?? ''}${value}${conf.userinfoInstanceSuffix ?? ''}`;
  return domain.toLowerCase() === instance.domain.toLowerCase();
}

/** Checks the proof of identity and answers the OIDC session id it carries, if any. */
async function checkProof(ctx: RequestContext, input: OidcTokenInput): Promise<string | null> {
  const { services, instance, now } = ctx;
  if (input.code) {
    const found = await getCode<{ sub?: unknown; sid?: unknown }>(services.db, contextScope(instance.context || 'default'), 'oidc_delegated', input.code, now);
    const sub = found?.data?.sub;
    const subjects = [instance.oidcId, instance.franceconnectId, instance.domain].filter((s): s is string => Boolean(s));
    if (typeof sub !== 'string' || !subjects.includes(sub)) throw plainError(400, 'invalid code');
    return typeof found!.data.sid === 'string' && found!.data.sid ? found!.data.sid : null;
  }
  const conf = oidcConfig(services.config, instance.context);
  if (input.id_token) {
    if (!conf || !conf.allowOauthToken || !conf.idTokenJwkUrl) throw notEnabled();
    const claims = await verifyIdToken(conf.idTokenJwkUrl, input.id_token, now);
    if (!claims || !instance.oidcId || claims.sub !== instance.oidcId) throw plainError(400, 'the id_token is invalid');
    return typeof claims.sid === 'string' && claims.sid ? claims.sid : null;
  }
  if (!conf || !conf.allowOauthToken || !conf.userinfoUrl || (!conf.userinfoInstanceField && !conf.allowCustomInstance)) throw notEnabled();
  const userinfo = input.oidc_token ? await fetchUserinfo(conf.userinfoUrl, input.oidc_token) : null;
  if (!userinfo || !userinfoMatches(conf, userinfo, instance)) throw plainError(400, 'the oidc_token is invalid');
  return null;
}

function validScope(scope: string): boolean {
  if (scope === '*' || appSlugFromScope(scope)) return true;
  try {
    parseScope(scope);
    return true;
  } catch {
    return false;
  }
}

export async function exchangeOidcToken(ctx: RequestContext, input: OidcTokenInput): Promise<OidcTokenOutcome> {
  const { services, instance, now } = ctx;
  const sid = await checkProof(ctx, input);
  const client = await authenticateClient(services, instance, input.client_id, input.client_secret);
  if (twoFactorActive(instance)) {
    if (!input.two_factor_token) {
      const token = await sendTwoFactorPasscode(services, instance, now);
      throw jsonBodyError(401, { error: 'two factor needed', two_factor_token: token }, 'two factor needed');
    }
    if (!twoFactorPairValid(instance, input.two_factor_token, input.two_factor_passcode, now)) {
      throw plainError(403, message(instance, 'wrongPasscode'));
    }
  }
  let scope = (input.scope ?? '').trim();
  const linkedSlug = /^registry:\/\/([^/]+)$/.exec(client.softwareId)?.[1];
  if (!client.flagship && linkedSlug) scope = `@io.cozy.apps/${linkedSlug}`;
  if (!scope || !validScope(scope)) throw plainError(400, 'invalid scope');
  if (scope === '*' && !client.flagship) {
    const sessionCode = await issueSessionCode(services, instance, { now, logger: ctx.logger, req: ctx.req, reason: 'oidc_access_token', clientId: client.id });
    return { kind: 'session_code', sessionCode };
  }
  await updateOAuthClient(services.db, instance.id, client.id, { pending: false, ...(sid ? { oidcSessionId: sid } : {}) }, { now });
  return { kind: 'tokens', tokens: await issueTokens(services, instance, client, scope, { withRefresh: true, now }) };
}
