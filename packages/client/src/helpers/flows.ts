// The flagship app's flows, built on the generated SDK only (reference §5, wire-compat.md):
//  - flagshipLogin: GET /public/prelogin → hash → POST /auth/login/flagship (+ the 2FA retry);
//  - prepareAuthorize / authorizeWithPkce / exchangeCode: the OAuth code flow with PKCE S256
//    (mandatory for scope `*`), ending with POST /auth/access_token as a form;
//  - refreshTokens / withTokenRefresh: the refresh grant and the "refresh once, retry once"
//    behaviour of the official clients on `Expired token|Invalid JWT token|Invalid token`.
import type { Client } from '../generated/public/client/index.js';
import { createAccessToken, getPrelogin, loginFlagship } from '../generated/public/sdk.gen.js';
import type { AccessTokenResponse } from '../generated/public/types.gen.js';
import { buildAuthorizeUrl, parseAuthorizeRedirect } from './authorize.js';
import { hashPassphrase } from './passphrase.js';
import { createPkce, randomState } from './pkce.js';

/** What went wrong in a flow; `status` and `body` are the server's answer when there was one. */
export type FlowErrorCode =
  | 'not_onboarded'
  | 'blocked'
  | 'wrong_passphrase'
  | 'two_factor_required'
  | 'wrong_passcode'
  | 'client_not_registered'
  | 'invalid_client_secret'
  | 'state_mismatch'
  | 'token_exchange_failed'
  | 'refresh_failed'
  | 'unexpected_response';

export class FlowError extends Error {
  override readonly name = 'FlowError';
  constructor(
    readonly code: FlowErrorCode,
    message: string,
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** The OAuth tokens a flow ends with. */
export type OAuthTokens = AccessTokenResponse;

function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body || undefined;
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b.error === 'string') return b.error;
    if (typeof b.message === 'string') return b.message;
    const first = Array.isArray(b.errors) ? (b.errors[0] as Record<string, unknown> | undefined) : Array.isArray(body) ? (body[0] as Record<string, unknown>) : undefined;
    if (first) return String(first.detail ?? first.title ?? '');
  }
  return undefined;
}

function isHtml(response: Response | undefined): boolean {
  return (response?.headers.get('content-type') ?? '').includes('text/html');
}

/** Maps the `400 {"error"}` client checks shared by the flagship routes. */
function clientError(status: number, body: unknown): FlowError {
  const message = errorMessage(body) ?? `HTTP ${status}`;
  if (/client must be registered|Client not found/i.test(message)) return new FlowError('client_not_registered', message, status, body);
  if (/client_secret/i.test(message)) return new FlowError('invalid_client_secret', message, status, body);
  return new FlowError('unexpected_response', message, status, body);
}

// --- flagship login -----------------------------------------------------------------------------

export interface TwoFactorContext {
  /** The raw 96-character token the server answered (echo it back; the callback only gives the passcode). */
  twoFactorToken: string;
  /** The instance domain. */
  domain: string;
}

export interface FlagshipLoginOptions {
  /** A client whose `baseUrl` is the instance URL. */
  client: Client;
  /** The instance domain, with its port when any (`alice.example.net`, `alice.localhost:8080`): the KDF salt. */
  domain: string;
  /** The clear-text password: it is hashed here (PBKDF2, KdfIterations from prelogin), never sent. */
  password: string;
  clientId: string;
  clientSecret: string;
  /** Asked for the 6-digit passcode the server mailed when the instance uses 2FA by mail. */
  twoFactor?: (ctx: TwoFactorContext) => Promise<string>;
  /** A valid email-verified code skips the second factor. */
  emailVerifiedCode?: string;
}

export type FlagshipLoginResult =
  | { kind: 'tokens'; tokens: OAuthTokens }
  /** The client is not certified flagship yet: continue with `/auth/authorize?scope=*&session_code=…`. */
  | { kind: 'session_code'; sessionCode: string };

/** The PBKDF2 iterations of the instance (`GET /public/prelogin`). */
export async function preloginIterations(client: Client): Promise<number> {
  const { data, error, response } = await getPrelogin({ client });
  if (response?.status === 412) throw new FlowError('not_onboarded', errorMessage(error) ?? 'the instance has not been onboarded', 412, error);
  if (response?.status === 503 || response?.status === 402) throw new FlowError('blocked', errorMessage(error) ?? 'the instance is blocked', response.status, error);
  if (!data || typeof data.KdfIterations !== 'number') throw new FlowError('unexpected_response', `prelogin answered ${response?.status}`, response?.status, error ?? data);
  return data.KdfIterations;
}

/**
 * Logs the flagship app in with the passphrase (reference §3.5). Resolves with the tokens (a
 * certified client) or a session code (202: an uncertified client); rejects with a FlowError
 * (`wrong_passphrase`, `wrong_passcode`, `two_factor_required`, `client_not_registered`,
 * `invalid_client_secret`, `not_onboarded`, `blocked`, `unexpected_response`).
 */
export async function flagshipLogin(o: FlagshipLoginOptions): Promise<FlagshipLoginResult> {
  const iterations = await preloginIterations(o.client);
  const passphrase = await hashPassphrase(o.password, o.domain, iterations);
  const base = {
    passphrase,
    client_id: o.clientId,
    client_secret: o.clientSecret,
    ...(o.emailVerifiedCode ? { email_verified_code: o.emailVerifiedCode } : {}),
  };
  let sentTwoFactor = false;
  let body: Record<string, string> = base;
  for (;;) {
    const { data, error, response } = await loginFlagship({ client: o.client, body });
    const status = response?.status ?? 0;
    if (status === 200) {
      if (isHtml(response)) throw new FlowError('not_onboarded', 'the instance has not been onboarded', 200, data);
      return { kind: 'tokens', tokens: data as OAuthTokens };
    }
    if (status === 202) return { kind: 'session_code', sessionCode: (data as { session_code: string }).session_code };
    const err = error as Record<string, unknown> | undefined;
    if (status === 401 && err && typeof err.two_factor_token === 'string' && !sentTwoFactor) {
      if (!o.twoFactor) throw new FlowError('two_factor_required', 'a second factor is needed and no twoFactor callback was given', 401, error);
      const passcode = await o.twoFactor({ twoFactorToken: err.two_factor_token, domain: o.domain });
      body = { ...base, two_factor_token: err.two_factor_token, two_factor_passcode: passcode };
      sentTwoFactor = true;
      continue;
    }
    const message = errorMessage(error) ?? `HTTP ${status}`;
    if (status === 401) throw new FlowError('wrong_passphrase', message, status, error);
    if (status === 403 && sentTwoFactor) throw new FlowError('wrong_passcode', message, status, error);
    if (status === 402 || status === 503) throw new FlowError('blocked', message, status, error);
    if (status === 400) throw clientError(status, error);
    throw new FlowError('unexpected_response', message, status, error);
  }
}

// --- authorize with PKCE --------------------------------------------------------------------------

export interface PrepareAuthorizeOptions {
  /** The instance URL, e.g. `https://alice.example.net`. */
  instanceUrl: string;
  clientId: string;
  redirectUri: string;
  /** Defaults to `*` (the flagship app). */
  scope?: string;
  /** A session code (from a 202) so the authorize page opens logged in. */
  sessionCode?: string;
}

export interface PreparedAuthorize {
  url: string;
  state: string;
  codeVerifier: string;
  codeChallenge: string;
}

/** A fresh state and PKCE pair, and the authorize URL carrying them. */
export async function prepareAuthorize(o: PrepareAuthorizeOptions): Promise<PreparedAuthorize> {
  const pkce = await createPkce();
  const state = randomState();
  const url = buildAuthorizeUrl({
    instanceUrl: o.instanceUrl,
    clientId: o.clientId,
    redirectUri: o.redirectUri,
    state,
    scope: o.scope ?? '*',
    codeChallenge: pkce.codeChallenge,
    sessionCode: o.sessionCode,
  });
  return { url, state, codeVerifier: pkce.codeVerifier, codeChallenge: pkce.codeChallenge };
}

export interface ExchangeCodeOptions {
  client: Client;
  clientId: string;
  clientSecret: string;
  code: string;
  /** The PKCE verifier whose challenge was sent to the authorize page. */
  codeVerifier?: string;
}

/** `POST /auth/access_token` (a form), grant `authorization_code`. */
export async function exchangeCode(o: ExchangeCodeOptions): Promise<OAuthTokens> {
  const { data, error, response } = await createAccessToken({
    client: o.client,
    body: {
      grant_type: 'authorization_code',
      client_id: o.clientId,
      client_secret: o.clientSecret,
      code: o.code,
      ...(o.codeVerifier ? { code_verifier: o.codeVerifier } : {}),
    },
  });
  if (response?.status === 200 && data) return data;
  const status = response?.status ?? 0;
  if (status === 400 && /client/i.test(errorMessage(error) ?? '')) throw clientError(status, error);
  throw new FlowError('token_exchange_failed', errorMessage(error) ?? `HTTP ${status}`, status, error);
}

export interface AuthorizeWithPkceOptions extends PrepareAuthorizeOptions {
  client: Client;
  clientSecret: string;
  /**
   * Opens the authorize URL (an in-app browser) and resolves with the URL the page finally
   * redirected to (the `redirect_uri` with `access_code`/`code` and `state`).
   */
  open: (authorizeUrl: string) => Promise<string>;
}

/** The whole code flow: URL with PKCE → the user → redirect (state checked) → token exchange. */
export async function authorizeWithPkce(o: AuthorizeWithPkceOptions): Promise<OAuthTokens> {
  const prepared = await prepareAuthorize(o);
  const redirect = await o.open(prepared.url);
  const { code, state } = parseAuthorizeRedirect(redirect);
  if (state !== prepared.state) throw new FlowError('state_mismatch', 'the redirect carries another state');
  return exchangeCode({ client: o.client, clientId: o.clientId, clientSecret: o.clientSecret, code, codeVerifier: prepared.codeVerifier });
}

// --- token refresh ----------------------------------------------------------------------------------

export interface RefreshOptions {
  client: Client;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

/** `POST /auth/access_token`, grant `refresh_token`. An answer without `refresh_token` keeps the old one. */
export async function refreshTokens(o: RefreshOptions): Promise<OAuthTokens> {
  const { data, error, response } = await createAccessToken({
    client: o.client,
    body: { grant_type: 'refresh_token', client_id: o.clientId, client_secret: o.clientSecret, refresh_token: o.refreshToken },
  });
  if (response?.status !== 200 || !data) {
    throw new FlowError('refresh_failed', errorMessage(error) ?? `HTTP ${response?.status}`, response?.status, error);
  }
  return { ...data, refresh_token: data.refresh_token ?? o.refreshToken };
}

/** The words the official clients refresh on (case-sensitive, as cozy-stack-client matches them). */
export const EXPIRED_TOKEN_PATTERN = /Expired token|Invalid JWT token|Invalid token/;

/**
 * Whether an answer means "refresh the token": its message (`error`, then `message`, then a bare
 * string) matches EXPIRED_TOKEN_PATTERN, or `WWW-Authenticate` says `invalid_token`.
 */
export async function isExpiredTokenResponse(response: Response): Promise<boolean> {
  if (![400, 401, 403].includes(response.status)) return false;
  if (/invalid_token/.test(response.headers.get('www-authenticate') ?? '')) return true;
  let text = '';
  try {
    text = await response.clone().text();
  } catch {
    return false;
  }
  let message: string | undefined = text;
  try {
    message = errorMessage(JSON.parse(text)) ?? text;
  } catch {
    /* not JSON: the bare text */
  }
  return EXPIRED_TOKEN_PATTERN.test(message ?? '');
}

export interface TokenRefreshOptions {
  getTokens: () => OAuthTokens | undefined | Promise<OAuthTokens | undefined>;
  setTokens: (tokens: OAuthTokens) => void | Promise<void>;
  clientId: string;
  clientSecret: string;
  /** Makes the client send `Authorization: Bearer <current access token>` on secured routes (default true). */
  setAuth?: boolean;
  /** Told when a refresh fails (the original answer is then returned as is). */
  onRefreshError?: (error: unknown) => void;
}

/**
 * Installs interceptors on `client`: an answer `400`/`401`/`403` (the konnector-token route answers
 * token errors as 403 `{"message"}`) whose message matches `Expired token|Invalid JWT token|Invalid
 * token`, or whose `WWW-Authenticate` says `invalid_token`, triggers one refresh (refresh grant;
 * concurrent failures share it) and one retry of the request with the new access token.
 * Returns a function that removes the interceptors.
 */
export function withTokenRefresh(client: Client, o: TokenRefreshOptions): () => void {
  if (o.setAuth !== false) client.setConfig({ auth: async () => (await o.getTokens())?.access_token });
  const copies = new WeakMap<Request, Request>();
  let inFlight: Promise<OAuthTokens> | null = null;

  const refresh = (): Promise<OAuthTokens> => {
    inFlight ??= (async () => {
      const current = await o.getTokens();
      if (!current?.refresh_token) throw new FlowError('refresh_failed', 'no refresh token');
      const tokens = await refreshTokens({ client, clientId: o.clientId, clientSecret: o.clientSecret, refreshToken: current.refresh_token });
      await o.setTokens(tokens);
      return tokens;
    })().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  const onRequest = (request: Request): Request => {
    if (!new URL(request.url).pathname.endsWith('/auth/access_token')) copies.set(request, request.clone());
    return request;
  };
  const onResponse = async (response: Response, request: Request, opts: { fetch?: typeof fetch }): Promise<Response> => {
    const copy = copies.get(request);
    if (!copy) return response; // the token route itself, or a request sent before the interceptors
    copies.delete(request);
    if (!(await isExpiredTokenResponse(response))) return response;
    let tokens: OAuthTokens;
    try {
      tokens = await refresh();
    } catch (e) {
      o.onRefreshError?.(e);
      return response;
    }
    const headers = new Headers(copy.headers);
    headers.set('Authorization', `Bearer ${tokens.access_token}`);
    const retry = new Request(copy, { headers });
    return (opts.fetch ?? globalThis.fetch)(retry);
  };
  client.interceptors.request.use(onRequest);
  client.interceptors.response.use(onResponse);
  return () => {
    client.interceptors.request.eject(onRequest);
    client.interceptors.response.eject(onResponse);
  };
}
