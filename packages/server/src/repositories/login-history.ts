// The login history (`io.cozy.sessions.logins`, reference §0.5): one entry per new session.

import type { Selectable } from 'kysely';
import type { LoginHistoryTable } from '../db/schema.js';
import { fromBool, newId, toBool, type DbExecutor } from '../db/util.js';

export interface LoginEntry {
  id: string;
  instanceId: string;
  sessionId: string | null;
  /** How the user logged in (`password`, `magic_link`, `oidc`, `flagship`, `session_code`, …). */
  method: string;
  ip: string | null;
  userAgent: string | null;
  os: string | null;
  browser: string | null;
  clientRegistration: boolean;
  createdAt: number;
}

function rowToLogin(r: Selectable<LoginHistoryTable>): LoginEntry {
  return {
    id: r.id,
    instanceId: r.instance_id,
    sessionId: r.session_id,
    method: r.method,
    ip: r.ip,
    userAgent: r.user_agent,
    os: r.os,
    browser: r.browser,
    clientRegistration: toBool(r.client_registration),
    createdAt: Number(r.created_at),
  };
}

export async function insertLoginHistory(
  db: DbExecutor,
  input: Pick<LoginEntry, 'instanceId' | 'method'> & Partial<Omit<LoginEntry, 'id' | 'instanceId' | 'method'>>,
): Promise<LoginEntry> {
  const row = await db
    .insertInto('login_history')
    .values({
      id: newId(),
      instance_id: input.instanceId,
      session_id: input.sessionId ?? null,
      method: input.method,
      ip: input.ip ?? null,
      user_agent: input.userAgent ?? null,
      os: input.os ?? null,
      browser: input.browser ?? null,
      client_registration: fromBool(input.clientRegistration ?? false),
      created_at: input.createdAt ?? Date.now(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToLogin(row);
}

/** The login history of the instance, newest first. */
export async function listLoginHistory(
  db: DbExecutor,
  instanceId: string,
  opts: { limit?: number } = {},
): Promise<LoginEntry[]> {
  let q = db
    .selectFrom('login_history')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc');
  if (opts.limit !== undefined) q = q.limit(opts.limit);
  const rows = await q.execute();
  return rows.map(rowToLogin);
}
