// Admin API: signing tokens of an instance, exactly as the instance itself would.
import type { AdminHandlers } from '../../generated/admin-operations.gen.js';
import type { AdminContext } from '../../http/apps.js';
import type { Instance } from '../../repositories/instances.js';
import { getOAuthClient } from '../../repositories/oauth-clients.js';
import { sessionSecretKey, signJwt, type Audience } from '../../security/index.js';
import { instanceOr404 } from './common.js';
import { fieldError } from './validation.js';

export type AdminTokenAudience = 'app' | 'konnector' | 'cli' | 'access' | 'refresh';

/** The JWT audience of each kind of the admin API (`konnector` is `konn` on the wire). */
const JWT_AUDIENCE: Record<AdminTokenAudience, Audience> = { app: 'app', konnector: 'konn', cli: 'cli', access: 'access', refresh: 'refresh' };

/** The key of the instance that signs an audience: session secret for app/konn, CLI or OAuth secret otherwise. */
export function instanceJwtKey(instance: Instance, aud: Audience): Uint8Array {
  if (aud === 'app' || aud === 'konn') return sessionSecretKey(instance.sessionSecret);
  return Buffer.from(aud === 'cli' ? instance.cliSecret : instance.oauthSecret, 'base64');
}

/** Signs a JWT of the instance (`iss` = its domain, `iat` = now). */
export function signInstanceToken(
  instance: Instance,
  aud: Audience,
  claims: { sub?: string; scope?: string; session_id?: string },
  now: number,
): Promise<string> {
  return signJwt(instanceJwtKey(instance, aud), { aud, iss: instance.domain, ...claims }, now);
}

export const adminTokenHandlers: Pick<AdminHandlers<AdminContext>, 'createToken'> = {
  async createToken(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    const { audience, subject, scope, session_id: sessionId } = request.body.value;
    const appLike = audience === 'app' || audience === 'konnector';
    if (appLike && scope !== undefined) throw fieldError('scope', 'scope is not allowed for app and konnector tokens');
    if (scope !== undefined && scope.trim() === '') throw fieldError('scope', 'scope must not be empty');
    if (sessionId !== undefined && audience !== 'app') throw fieldError('session_id', 'session_id is only allowed for app tokens');
    if ((audience === 'access' || audience === 'refresh') && !(await getOAuthClient(ctx.services.db, instance.id, subject))) {
      throw fieldError('subject', 'unknown OAuth client');
    }
    const claims: { sub: string; scope?: string; session_id?: string } = { sub: subject };
    if (!appLike) claims.scope = scope?.trim() ?? '*';
    if (sessionId) claims.session_id = sessionId;
    const token = await signInstanceToken(instance, JWT_AUDIENCE[audience], claims, ctx.now);
    return { status: 201, type: 'application/json', body: { token } };
  },
};
