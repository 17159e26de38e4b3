// Builds the URL of the OAuth authorize page (GET /auth/authorize).

export interface AuthorizeUrlOptions {
  /** The instance, e.g. `https://alice.example.net` or `http://alice.localhost:8080`. */
  instanceUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
  /** Space-separated permissions, or `*` for the flagship app. */
  scope: string;
  /** The PKCE S256 challenge; mandatory for scope `*`. */
  codeChallenge?: string;
  /** A session code, to open the session inside a webview without typing the passphrase. */
  sessionCode?: string;
}

export function buildAuthorizeUrl(o: AuthorizeUrlOptions): string {
  const url = new URL('/auth/authorize', o.instanceUrl);
  url.searchParams.set('client_id', o.clientId);
  url.searchParams.set('redirect_uri', o.redirectUri);
  url.searchParams.set('state', o.state);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', o.scope);
  if (o.codeChallenge) {
    url.searchParams.set('code_challenge', o.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  if (o.sessionCode) url.searchParams.set('session_code', o.sessionCode);
  return url.toString();
}

/** Reads `access_code` (or `code`) and `state` from the redirect the authorize page sends. */
export function parseAuthorizeRedirect(location: string): { code: string; state: string | null } {
  const url = new URL(location);
  const code = url.searchParams.get('access_code') ?? url.searchParams.get('code');
  if (!code) throw new Error('the redirect carries no access code');
  return { code, state: url.searchParams.get('state') };
}
