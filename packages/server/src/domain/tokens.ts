// OAuth token issuing for the flagship login routes (reference §0.4): an access token (aud
// `access`, valid 7 days) and, optionally, a refresh token (aud `refresh`, never expires), both
// HS512 with the instance oauth_secret, subject the client id, with the granted scope.
import type { Services } from '../services.js';
import type { Instance } from '../repositories/instances.js';
import type { OAuthClient } from '../repositories/oauth-clients.js';
import { signJwt } from '../security/index.js';

export interface IssuedTokens {
  access_token: string;
  token_type: 'bearer';
  refresh_token?: string;
  scope: string;
}

export async function issueTokens(
  services: Services,
  instance: Instance,
  client: Pick<OAuthClient, 'id'>,
  scope: string,
  opts: { withRefresh: boolean; now?: number },
): Promise<IssuedTokens> {
  const key = Buffer.from(instance.oauthSecret, 'base64');
  const now = opts.now ?? services.now();
  const access_token = await signJwt(key, { aud: 'access', iss: instance.domain, sub: client.id, scope }, now);
  const out: IssuedTokens = { access_token, token_type: 'bearer', scope };
  if (opts.withRefresh) out.refresh_token = await signJwt(key, { aud: 'refresh', iss: instance.domain, sub: client.id, scope }, now);
  return out;
}
