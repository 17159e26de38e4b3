// The settings document of an instance (`io.cozy.settings.instance`): free-form JSON with a
// CouchDB-style revision `N-<32 hex>` (N increments, the suffix is the md5 of the canonical JSON).

import { nextRev, parseJson, withTransaction, type DbExecutor } from '../db/util.js';
import { ConflictError } from './errors.js';

export type SettingsDocument = Record<string, unknown>;

export interface StoredSettings {
  /** The document without `_id` / `_rev`. */
  doc: SettingsDocument;
  rev: string;
}

export async function getSettings(db: DbExecutor, instanceId: string): Promise<StoredSettings | null> {
  const row = await db
    .selectFrom('settings_docs')
    .select(['doc', 'rev'])
    .where('instance_id', '=', instanceId)
    .executeTakeFirst();
  return row ? { doc: parseJson<SettingsDocument>(row.doc, {}), rev: row.rev } : null;
}

function stripMeta(doc: SettingsDocument): SettingsDocument {
  const { _id: _ignoredId, _rev: _ignoredRev, ...rest } = doc;
  return rest;
}

/**
 * Writes the settings document when `expectedRev` is the stored revision (`null`: when there is
 * no document yet). Otherwise throws ConflictError, as CouchDB answers 409. `_id` / `_rev` keys of
 * `doc` are not stored.
 */
export async function putSettings(
  db: DbExecutor,
  instanceId: string,
  doc: SettingsDocument,
  expectedRev: string | null,
): Promise<{ rev: string }> {
  const content = stripMeta(doc);
  const rev = nextRev(expectedRev, content);
  const text = JSON.stringify(content);
  if (expectedRev === null) {
    const inserted = await db
      .insertInto('settings_docs')
      .values({ instance_id: instanceId, doc: text, rev })
      .onConflict((oc) => oc.column('instance_id').doNothing())
      .returning('rev')
      .executeTakeFirst();
    if (!inserted) throw new ConflictError('Document update conflict');
    return { rev };
  }
  const updated = await db
    .updateTable('settings_docs')
    .set({ doc: text, rev })
    .where('instance_id', '=', instanceId)
    .where('rev', '=', expectedRev)
    .returning('rev')
    .executeTakeFirst();
  if (!updated) throw new ConflictError('Document update conflict');
  return { rev };
}

/**
 * Read-modify-write for server-side changes (pending email, …): `mutate` gets a copy of the
 * current document (`{}` when none) and returns the new one. Retries on a concurrent write.
 */
export async function updateSettings(
  db: DbExecutor,
  instanceId: string,
  mutate: (doc: SettingsDocument) => SettingsDocument,
  opts: { retries?: number } = {},
): Promise<StoredSettings> {
  const retries = opts.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await withTransaction(db, async (trx) => {
        const current = await getSettings(trx, instanceId);
        const next = stripMeta(mutate(structuredClone(current?.doc ?? {})));
        const { rev } = await putSettings(trx, instanceId, next, current?.rev ?? null);
        return { doc: next, rev };
      });
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= retries || db.isTransaction) throw err;
    }
  }
}

export async function deleteSettings(db: DbExecutor, instanceId: string): Promise<boolean> {
  const r = await db.deleteFrom('settings_docs').where('instance_id', '=', instanceId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
