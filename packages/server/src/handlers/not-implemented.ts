// Operations that have no real handler yet answer 501 with a JSON:API error — never a fake success.
import { jsonApiError } from '../http/errors.js';

export function notImplemented(operationId: string) {
  return () => {
    throw jsonApiError(501, `${operationId} is not implemented yet`);
  };
}

/** A handler map where each listed operation answers 501. */
export function notImplementedAll<K extends string>(ids: readonly K[]): Record<K, () => never> {
  return Object.fromEntries(ids.map((id) => [id, notImplemented(id)])) as Record<K, () => never>;
}
