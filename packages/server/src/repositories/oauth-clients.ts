// OAuth clients (`io.cozy.oauth.clients`, reference §3.1–§3.3, §2.13).

import { randomBytes } from 'node:crypto';
import { sql, type Selectable, type Updateable } from 'kysely';
import type { OAuthClientsTable } from '../db/schema.js';
import { fromBool, isUniqueViolation, newId, nextRandomRev, parseJson, toBool, type DbExecutor } from '../db/util.js';
import { ConflictError } from './errors.js';

export interface OAuthClient {
  id: string;
  instanceId: string;
  clientName: string;
  clientKind: string | null;
  softwareId: string;
  pending: boolean;
  flagship: boolean;
  certifiedFromStore: boolean;
  allowLoginScope: boolean;
  createdAtOnboarding: boolean;
  notificationPlatform: string | null;
  notificationDeviceToken: string | null;
  /**
   * The full registered metadata (redirect_uris, client_uri, logo_uri, notifications,
   * cozyMetadata, …). The columns above are authoritative for the fields they hold.
   */
  metadata: Record<string, unknown>;
  clientSecret: string;
  createdAt: number;
  updatedAt: number;
  lastRefreshedAt: number | null;
  synchronizedAt: number | null;
  oidcSessionId: string | null;
  rev: string;
}

export type NewOAuthClient = Pick<OAuthClient, 'instanceId' | 'clientName' | 'softwareId'> &
  Partial<Omit<OAuthClient, 'id' | 'instanceId' | 'clientName' | 'softwareId' | 'createdAt' | 'updatedAt' | 'rev'>> & {
    id?: string;
  };

export type OAuthClientPatch = Partial<
  Omit<OAuthClient, 'id' | 'instanceId' | 'createdAt' | 'updatedAt' | 'rev'>
>;

function rowToClient(r: Selectable<OAuthClientsTable>): OAuthClient {
  return {
    id: r.id,
    instanceId: r.instance_id,
    clientName: r.client_name,
    clientKind: r.client_kind,
    softwareId: r.software_id,
    pending: toBool(r.pending),
    flagship: toBool(r.flagship),
    certifiedFromStore: toBool(r.certified_from_store),
    allowLoginScope: toBool(r.allow_login_scope),
    createdAtOnboarding: toBool(r.created_at_onboarding),
    notificationPlatform: r.notification_platform,
    notificationDeviceToken: r.notification_device_token,
    metadata: parseJson<Record<string, unknown>>(r.metadata, {}),
    clientSecret: r.client_secret,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    lastRefreshedAt: r.last_refreshed_at === null ? null : Number(r.last_refreshed_at),
    synchronizedAt: r.synchronized_at === null ? null : Number(r.synchronized_at),
    oidcSessionId: r.oidc_session_id,
    rev: r.rev,
  };
}

function patchToRow(p: OAuthClientPatch): Updateable<OAuthClientsTable> {
  const row: Updateable<OAuthClientsTable> = {};
  if (p.clientName !== undefined) row.client_name = p.clientName;
  if (p.clientKind !== undefined) row.client_kind = p.clientKind;
  if (p.softwareId !== undefined) row.software_id = p.softwareId;
  if (p.pending !== undefined) row.pending = fromBool(p.pending);
  if (p.flagship !== undefined) row.flagship = fromBool(p.flagship);
  if (p.certifiedFromStore !== undefined) row.certified_from_store = fromBool(p.certifiedFromStore);
  if (p.allowLoginScope !== undefined) row.allow_login_scope = fromBool(p.allowLoginScope);
  if (p.createdAtOnboarding !== undefined) row.created_at_onboarding = fromBool(p.createdAtOnboarding);
  if (p.notificationPlatform !== undefined) row.notification_platform = p.notificationPlatform;
  if (p.notificationDeviceToken !== undefined) row.notification_device_token = p.notificationDeviceToken;
  if (p.metadata !== undefined) row.metadata = JSON.stringify(p.metadata);
  if (p.clientSecret !== undefined) row.client_secret = p.clientSecret;
  if (p.lastRefreshedAt !== undefined) row.last_refreshed_at = p.lastRefreshedAt;
  if (p.synchronizedAt !== undefined) row.synchronized_at = p.synchronizedAt;
  if (p.oidcSessionId !== undefined) row.oidc_session_id = p.oidcSessionId;
  return row;
}

/** A client secret: base64url without padding of 24 random bytes (32 characters). */
export function newClientSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** Keeps `metadata.client_name`, when present, equal to the (possibly suffixed) stored name. */
function withName(metadata: Record<string, unknown> | undefined, name: string): Record<string, unknown> | undefined {
  if (metadata === undefined || !('client_name' in metadata)) return metadata;
  return { ...metadata, client_name: name };
}

/**
 * The name to store for `wanted` (reference §3.1): itself when free, otherwise `wanted-N` with N
 * the highest existing numeric suffix + 1, starting at 2. `excludeId` is the client being renamed.
 */
export async function uniqueClientName(
  db: DbExecutor,
  instanceId: string,
  wanted: string,
  excludeId?: string,
): Promise<string> {
  const prefix = `${wanted}-`;
  let q = db
    .selectFrom('oauth_clients')
    .select('client_name')
    .where('instance_id', '=', instanceId)
    .where((eb) =>
      eb.or([
        eb('client_name', '=', wanted),
        // substr counts characters (code points) in both engines.
        eb(sql<string>`substr(client_name, 1, ${[...prefix].length})`, '=', prefix),
      ]),
    );
  if (excludeId !== undefined) q = q.where('id', '!=', excludeId);
  const names = (await q.execute()).map((r) => r.client_name);
  if (!names.includes(wanted)) return wanted;
  let highest = 1;
  for (const name of names) {
    const suffix = name.slice(prefix.length);
    if (name.startsWith(prefix) && /^[1-9][0-9]{0,8}$/.test(suffix)) highest = Math.max(highest, Number(suffix));
  }
  return `${prefix}${highest + 1}`;
}

/**
 * Creates a client. A `client_name` already used on the instance gets a `-N` suffix; concurrent
 * creations with the same name are retried until each has its own.
 */
export async function createOAuthClient(db: DbExecutor, input: NewOAuthClient, now: number = Date.now()): Promise<OAuthClient> {
  const { id: givenId, instanceId, clientName, softwareId, ...rest } = input;
  const id = givenId ?? newId();
  for (let attempt = 0; attempt < 20; attempt++) {
    const name = await uniqueClientName(db, instanceId, clientName);
    const row = await db
      .insertInto('oauth_clients')
      .values({
        pending: 0,
        flagship: 0,
        certified_from_store: 0,
        allow_login_scope: 0,
        created_at_onboarding: 0,
        metadata: '{}',
        client_secret: newClientSecret(),
        ...patchToRow({ ...rest, metadata: withName(rest.metadata, name) }),
        id,
        instance_id: instanceId,
        client_name: name,
        software_id: softwareId,
        created_at: now,
        updated_at: now,
        rev: nextRandomRev(null),
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row) return rowToClient(row);
    if (givenId !== undefined && (await getOAuthClient(db, instanceId, givenId))) {
      throw new ConflictError(`oauth client already exists: ${givenId}`);
    }
    // Another client took the name meanwhile: compute the next suffix again.
  }
  throw new ConflictError(`could not find a free client name for ${clientName}`);
}

export async function getOAuthClient(db: DbExecutor, instanceId: string, id: string): Promise<OAuthClient | null> {
  const row = await db
    .selectFrom('oauth_clients')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? rowToClient(row) : null;
}

export const DEFAULT_CLIENTS_PAGE = 100;
export const MAX_CLIENTS_PAGE = 1000;

/**
 * A page of clients ordered by id. `cursor` is the `nextCursor` of the previous page;
 * `nextCursor` is null on the last page.
 */
export async function listOAuthClients(
  db: DbExecutor,
  instanceId: string,
  opts: { limit?: number; cursor?: string | null } = {},
): Promise<{ clients: OAuthClient[]; nextCursor: string | null }> {
  const limit = opts.limit ?? DEFAULT_CLIENTS_PAGE;
  let q = db.selectFrom('oauth_clients').selectAll().where('instance_id', '=', instanceId).orderBy('id').limit(limit + 1);
  if (opts.cursor) q = q.where('id', '>', opts.cursor);
  const rows = await q.execute();
  const more = rows.length > limit;
  const clients = rows.slice(0, limit).map(rowToClient);
  return { clients, nextCursor: more && clients.length > 0 ? clients[clients.length - 1]!.id : null };
}

/**
 * Applies a patch (undefined keys untouched) and bumps the rev. A new name goes through the
 * suffix rule again. With `expectedRev`, a stale rev → ConflictError. Unknown client → null.
 */
export async function updateOAuthClient(
  db: DbExecutor,
  instanceId: string,
  id: string,
  patch: OAuthClientPatch,
  opts: { expectedRev?: string; now?: number } = {},
): Promise<OAuthClient | null> {
  const now = opts.now ?? Date.now();
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await getOAuthClient(db, instanceId, id);
    if (!current) return null;
    if (opts.expectedRev !== undefined && opts.expectedRev !== current.rev) throw new ConflictError();
    const next: OAuthClientPatch = { ...patch };
    if (patch.clientName !== undefined && patch.clientName !== current.clientName) {
      next.clientName = await uniqueClientName(db, instanceId, patch.clientName, id);
    }
    const name = next.clientName ?? current.clientName;
    if (next.metadata !== undefined) next.metadata = withName(next.metadata, name);
    try {
      const row = await db
        .updateTable('oauth_clients')
        .set({ ...patchToRow(next), updated_at: now, rev: nextRandomRev(current.rev) })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .where('rev', '=', current.rev)
        .returningAll()
        .executeTakeFirst();
      if (row) return rowToClient(row);
      if (opts.expectedRev !== undefined) throw new ConflictError();
      // Changed concurrently: start over from the new state.
    } catch (err) {
      // On PostgreSQL a failed statement aborts the caller's transaction: no retry there.
      if (!isUniqueViolation(err) || db.isTransaction) throw isUniqueViolation(err) ? new ConflictError() : err;
    }
  }
  throw new ConflictError();
}

export async function deleteOAuthClient(db: DbExecutor, instanceId: string, id: string): Promise<boolean> {
  const r = await db
    .deleteFrom('oauth_clients')
    .where('instance_id', '=', instanceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * Clients "connected" for the clients-usage counter (reference §2.2): a non-empty client_kind
 * and a non-empty client_name, counted up to `cap` (default 100).
 */
export async function countConnectedOAuthClients(
  db: DbExecutor,
  instanceId: string,
  opts: { cap?: number } = {},
): Promise<number> {
  const cap = opts.cap ?? 100;
  const sub = db
    .selectFrom('oauth_clients')
    .select('id')
    .where('instance_id', '=', instanceId)
    .where('client_kind', 'is not', null)
    .where('client_kind', '!=', '')
    .where('client_name', '!=', '')
    .limit(cap)
    .as('connected');
  const r = await db
    .selectFrom(sub)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Every client of the instance (for counts, flags, …). */
export async function countOAuthClients(db: DbExecutor, instanceId: string): Promise<number> {
  const r = await db
    .selectFrom('oauth_clients')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('instance_id', '=', instanceId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * The one-hour clean-up (reference §3.1): deletes the clients still `pending` that were created
 * more than `ageMs` ago (on one instance, or on all). Answers the ids deleted.
 */
export async function deletePendingOAuthClientsOlderThan(
  db: DbExecutor,
  ageMs: number,
  opts: { instanceId?: string; now?: number } = {},
): Promise<string[]> {
  const now = opts.now ?? Date.now();
  let q = db.deleteFrom('oauth_clients').where('pending', '=', 1).where('created_at', '<=', now - ageMs);
  if (opts.instanceId !== undefined) q = q.where('instance_id', '=', opts.instanceId);
  const rows = await q.returning('id').execute();
  return rows.map((r) => r.id);
}

/**
 * The clients a push can go to (reference §4.2): both a notification platform and a device token
 * set, newest first, at most `limit` (default 100).
 */
export async function listNotifiableOAuthClients(
  db: DbExecutor,
  instanceId: string,
  opts: { limit?: number } = {},
): Promise<OAuthClient[]> {
  const rows = await db
    .selectFrom('oauth_clients')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .where('notification_platform', 'is not', null)
    .where('notification_platform', '!=', '')
    .where('notification_device_token', 'is not', null)
    .where('notification_device_token', '!=', '')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(opts.limit ?? 100)
    .execute();
  return rows.map(rowToClient);
}
