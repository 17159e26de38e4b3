// Sessions (`io.cozy.sessions`, reference §0.5).

import type { Selectable } from 'kysely';
import type { SessionsTable } from '../db/schema.js';
import { fromBool, newId, nextRandomRev, toBool, type DbExecutor } from '../db/util.js';

/** A session whose last_seen is older than this is deleted on access and rejected. */
export const SESSION_MAX_IDLE_MS = 30 * 24 * 3600 * 1000;
/** last_seen is rewritten at most once per this interval. */
export const SESSION_TOUCH_INTERVAL_MS = 24 * 3600 * 1000;

export interface Session {
  id: string;
  instanceId: string;
  createdAt: number;
  lastSeen: number;
  longRun: boolean;
  shortRun: boolean;
  sid: string | null;
  oidcProviderKey: string | null;
  rev: string;
}

function rowToSession(r: Selectable<SessionsTable>): Session {
  return {
    id: r.id,
    instanceId: r.instance_id,
    createdAt: Number(r.created_at),
    lastSeen: Number(r.last_seen),
    longRun: toBool(r.long_run),
    shortRun: toBool(r.short_run),
    sid: r.sid,
    oidcProviderKey: r.oidc_provider_key,
    rev: r.rev,
  };
}

export function isSessionExpired(session: Pick<Session, 'lastSeen'>, now: number = Date.now()): boolean {
  return session.lastSeen < now - SESSION_MAX_IDLE_MS;
}

export async function createSession(
  db: DbExecutor,
  input: {
    instanceId: string;
    longRun?: boolean;
    shortRun?: boolean;
    sid?: string | null;
    oidcProviderKey?: string | null;
    now?: number;
  },
): Promise<Session> {
  const now = input.now ?? Date.now();
  const row = await db
    .insertInto('sessions')
    .values({
      id: newId(),
      instance_id: input.instanceId,
      created_at: now,
      last_seen: now,
      long_run: fromBool(input.longRun ?? false),
      short_run: fromBool(input.shortRun ?? false),
      sid: input.sid ?? null,
      oidc_provider_key: input.oidcProviderKey ?? null,
      rev: nextRandomRev(null),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToSession(row);
}

/**
 * The session, or null when it does not exist. A session idle for more than 30 days is deleted
 * here and null is answered.
 */
export async function getSession(
  db: DbExecutor,
  instanceId: string,
  id: string,
  now: number = Date.now(),
): Promise<Session | null> {
  const row = await db
    .selectFrom('sessions')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return null;
  const session = rowToSession(row);
  if (isSessionExpired(session, now)) {
    await deleteSession(db, instanceId, id);
    return null;
  }
  return session;
}

/**
 * Records activity: rewrites last_seen (and the rev) only when the stored value is at least 24 h
 * old. Answers the session as stored afterwards (unchanged when no write was needed).
 */
export async function touchSession(db: DbExecutor, session: Session, now: number = Date.now()): Promise<Session> {
  if (now - session.lastSeen < SESSION_TOUCH_INTERVAL_MS) return session;
  const row = await db
    .updateTable('sessions')
    .set({ last_seen: now, rev: nextRandomRev(session.rev) })
    .where('instance_id', '=', session.instanceId)
    .where('id', '=', session.id)
    .where('last_seen', '<=', now - SESSION_TOUCH_INTERVAL_MS)
    .returningAll()
    .executeTakeFirst();
  if (row) return rowToSession(row);
  // Someone else touched it meanwhile (or it is gone): answer what is stored.
  const current = await db
    .selectFrom('sessions')
    .selectAll()
    .where('instance_id', '=', session.instanceId)
    .where('id', '=', session.id)
    .executeTakeFirst();
  return current ? rowToSession(current) : session;
}

export async function deleteSession(db: DbExecutor, instanceId: string, id: string): Promise<boolean> {
  const r = await db
    .deleteFrom('sessions')
    .where('instance_id', '=', instanceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Deletes every session of the instance except `keepId` (logout of the other sessions). */
export async function deleteOtherSessions(db: DbExecutor, instanceId: string, keepId: string | null): Promise<number> {
  let q = db.deleteFrom('sessions').where('instance_id', '=', instanceId);
  if (keepId !== null) q = q.where('id', '!=', keepId);
  const r = await q.executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** The non-expired sessions of the instance, oldest first. */
export async function listSessions(db: DbExecutor, instanceId: string, now: number = Date.now()): Promise<Session[]> {
  const rows = await db
    .selectFrom('sessions')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .where('last_seen', '>=', now - SESSION_MAX_IDLE_MS)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(rowToSession);
}

/** Deletes the sessions idle for more than 30 days (of one instance, or of all). */
export async function purgeExpiredSessions(
  db: DbExecutor,
  opts: { instanceId?: string; now?: number } = {},
): Promise<number> {
  const now = opts.now ?? Date.now();
  let q = db.deleteFrom('sessions').where('last_seen', '<', now - SESSION_MAX_IDLE_MS);
  if (opts.instanceId !== undefined) q = q.where('instance_id', '=', opts.instanceId);
  const r = await q.executeTakeFirst();
  return Number(r.numDeletedRows);
}
