// Global feature-flag sources (reference §1.4): `io.cozy.settings.flags.context.<ctx>` (values
// are lists of `{ratio, value}`) and `io.cozy.settings.flags.default`. The instance's own flags
// live on the instance row.

import type { DbExecutor } from '../db/util.js';
import { parseJson } from '../db/util.js';

export type FeatureFlagSourceKind = 'context' | 'default';

/** The flags of a source, or null when it was never written. `context` is ignored for 'default'. */
export async function getFeatureFlagSource(
  db: DbExecutor,
  kind: FeatureFlagSourceKind,
  context = '',
): Promise<Record<string, unknown> | null> {
  const row = await db
    .selectFrom('feature_flag_sources')
    .select('flags')
    .where('kind', '=', kind)
    .where('context', '=', kind === 'default' ? '' : context)
    .executeTakeFirst();
  return row ? parseJson<Record<string, unknown>>(row.flags, {}) : null;
}

/** Replaces the flags of a source. */
export async function putFeatureFlagSource(
  db: DbExecutor,
  kind: FeatureFlagSourceKind,
  context: string,
  flags: Record<string, unknown>,
): Promise<void> {
  const ctx = kind === 'default' ? '' : context;
  const text = JSON.stringify(flags);
  await db
    .insertInto('feature_flag_sources')
    .values({ kind, context: ctx, flags: text })
    .onConflict((oc) => oc.columns(['kind', 'context']).doUpdateSet({ flags: text }))
    .execute();
}

export async function deleteFeatureFlagSource(db: DbExecutor, kind: FeatureFlagSourceKind, context = ''): Promise<boolean> {
  const r = await db
    .deleteFrom('feature_flag_sources')
    .where('kind', '=', kind)
    .where('context', '=', kind === 'default' ? '' : context)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
