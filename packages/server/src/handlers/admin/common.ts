// Helpers shared by the admin handlers.
import type { AdminContext } from '../../http/apps.js';
import { plainError } from '../../http/errors.js';
import { getInstanceByDomain, type Instance } from '../../repositories/instances.js';

/** The instance named in the path (its current domain only, not an old one), or 404. */
export async function instanceOr404(ctx: AdminContext, domain: string): Promise<Instance> {
  const found = await getInstanceByDomain(ctx.services.db, domain.toLowerCase());
  if (!found || found.viaOldDomain) throw plainError(404, 'instance not found');
  return found.instance;
}

/** An epoch-ms timestamp as the contract's date-time (seconds precision, `Z`). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
