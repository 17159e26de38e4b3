// Installed apps (webapps and konnectors) of an instance, from a minimal manifest.

import type { Selectable } from 'kysely';
import type { AppsTable } from '../db/schema.js';
import { parseJson, type DbExecutor } from '../db/util.js';
import { ConflictError } from './errors.js';

export type AppType = 'webapp' | 'konnector';

export interface App {
  instanceId: string;
  slug: string;
  type: AppType;
  name: string;
  editor: string | null;
  version: string | null;
  /** By permission name: `{type, verbs?, values?, description?, …}`. */
  permissions: Record<string, unknown>;
  /** Notification categories by name. */
  notifications: Record<string, unknown>;
  /** When the app was installed (epoch ms). */
  createdAt: number;
}

function rowToApp(r: Selectable<AppsTable>): App {
  return {
    instanceId: r.instance_id,
    slug: r.slug,
    type: r.type as AppType,
    name: r.name,
    editor: r.editor,
    version: r.version,
    permissions: parseJson<Record<string, unknown>>(r.permissions, {}),
    notifications: parseJson<Record<string, unknown>>(r.notifications, {}),
    createdAt: Number(r.created_at),
  };
}

/**
 * Installs an app. A slug already installed on the instance (webapp or konnector alike) →
 * ConflictError. The name defaults to the slug.
 */
export async function installApp(
  db: DbExecutor,
  input: {
    instanceId: string;
    slug: string;
    type: AppType;
    name?: string;
    editor?: string | null;
    version?: string | null;
    permissions?: Record<string, unknown>;
    notifications?: Record<string, unknown>;
    now?: number;
  },
): Promise<App> {
  const row = await db
    .insertInto('apps')
    .values({
      instance_id: input.instanceId,
      slug: input.slug,
      type: input.type,
      name: input.name ?? input.slug,
      editor: input.editor ?? null,
      version: input.version ?? null,
      permissions: JSON.stringify(input.permissions ?? {}),
      notifications: JSON.stringify(input.notifications ?? {}),
      created_at: input.now ?? Date.now(),
    })
    .onConflict((oc) => oc.columns(['instance_id', 'slug']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new ConflictError('app already installed');
  return rowToApp(row);
}

export async function getApp(db: DbExecutor, instanceId: string, slug: string, type?: AppType): Promise<App | null> {
  let q = db.selectFrom('apps').selectAll().where('instance_id', '=', instanceId).where('slug', '=', slug);
  if (type !== undefined) q = q.where('type', '=', type);
  const row = await q.executeTakeFirst();
  return row ? rowToApp(row) : null;
}

/** The apps of the instance ordered by slug, optionally of one type. */
export async function listApps(db: DbExecutor, instanceId: string, type?: AppType): Promise<App[]> {
  let q = db.selectFrom('apps').selectAll().where('instance_id', '=', instanceId).orderBy('slug');
  if (type !== undefined) q = q.where('type', '=', type);
  return (await q.execute()).map(rowToApp);
}

export async function uninstallApp(db: DbExecutor, instanceId: string, slug: string): Promise<boolean> {
  const r = await db.deleteFrom('apps').where('instance_id', '=', instanceId).where('slug', '=', slug).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
