// The avatar of an instance (`PUT /settings/avatar`, served by `GET /public/avatar`).

import type { DbExecutor } from '../db/util.js';

export interface Avatar {
  contentType: string;
  data: Buffer;
  updatedAt: number;
}

export async function putAvatar(
  db: DbExecutor,
  instanceId: string,
  contentType: string,
  data: Uint8Array,
  now: number = Date.now(),
): Promise<void> {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  await db
    .insertInto('avatars')
    .values({ instance_id: instanceId, content_type: contentType, data: buf, updated_at: now })
    .onConflict((oc) => oc.column('instance_id').doUpdateSet({ content_type: contentType, data: buf, updated_at: now }))
    .execute();
}

export async function getAvatar(db: DbExecutor, instanceId: string): Promise<Avatar | null> {
  const row = await db
    .selectFrom('avatars')
    .select(['content_type', 'data', 'updated_at'])
    .where('instance_id', '=', instanceId)
    .executeTakeFirst();
  if (!row) return null;
  return { contentType: row.content_type, data: Buffer.from(row.data), updatedAt: Number(row.updated_at) };
}

export async function deleteAvatar(db: DbExecutor, instanceId: string): Promise<boolean> {
  const r = await db.deleteFrom('avatars').where('instance_id', '=', instanceId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
