// Notifications (`io.cozy.notifications`, reference §4.1). The document is stored whole; the
// source id, state and timestamps are columns for the stateful-category lookup.

import type { Selectable } from 'kysely';
import type { NotificationsTable } from '../db/schema.js';
import { newId, parseJson, type DbExecutor } from '../db/util.js';

export interface StoredNotification {
  id: string;
  instanceId: string;
  sourceId: string;
  /** The notification document (title, message, category, slug, originator, data, …). */
  doc: Record<string, unknown>;
  state: unknown;
  createdAt: number;
  lastSent: number | null;
}

function rowToNotification(r: Selectable<NotificationsTable>): StoredNotification {
  return {
    id: r.id,
    instanceId: r.instance_id,
    sourceId: r.source_id,
    doc: parseJson<Record<string, unknown>>(r.doc, {}),
    state: r.state === null ? null : (JSON.parse(r.state) as unknown),
    createdAt: Number(r.created_at),
    lastSent: r.last_sent === null ? null : Number(r.last_sent),
  };
}

export async function insertNotification(
  db: DbExecutor,
  input: {
    instanceId: string;
    sourceId: string;
    doc: Record<string, unknown>;
    state?: unknown;
    createdAt?: number;
    lastSent?: number | null;
  },
): Promise<StoredNotification> {
  const createdAt = input.createdAt ?? Date.now();
  const row = await db
    .insertInto('notifications')
    .values({
      id: newId(),
      instance_id: input.instanceId,
      source_id: input.sourceId,
      doc: JSON.stringify(input.doc),
      state: input.state === undefined ? null : JSON.stringify(input.state),
      created_at: createdAt,
      last_sent: input.lastSent === undefined ? createdAt : input.lastSent,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToNotification(row);
}

/** The newest notification of `sourceId` on the instance (stateful categories, min_interval). */
export async function lastNotificationBySource(
  db: DbExecutor,
  instanceId: string,
  sourceId: string,
): Promise<StoredNotification | null> {
  const row = await db
    .selectFrom('notifications')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .where('source_id', '=', sourceId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? rowToNotification(row) : null;
}

export async function getNotification(db: DbExecutor, instanceId: string, id: string): Promise<StoredNotification | null> {
  const row = await db
    .selectFrom('notifications')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? rowToNotification(row) : null;
}

export async function setNotificationLastSent(db: DbExecutor, id: string, lastSent: number): Promise<void> {
  await db.updateTable('notifications').set({ last_sent: lastSent }).where('id', '=', id).execute();
}

/** Merges `patch` into the stored document of a notification (delivery progress of the push job). */
export async function updateNotificationDoc(db: DbExecutor, id: string, patch: Record<string, unknown>): Promise<boolean> {
  const row = await db.selectFrom('notifications').select('doc').where('id', '=', id).executeTakeFirst();
  if (!row) return false;
  const doc = { ...parseJson<Record<string, unknown>>(row.doc, {}), ...patch };
  const r = await db.updateTable('notifications').set({ doc: JSON.stringify(doc) }).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
