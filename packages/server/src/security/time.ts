/**
 * Time injection shared by the security modules.
 *
 * Every `now?` parameter accepts a `Date` or a number of **milliseconds** since
 * the Unix epoch (the unit of `Date.now()`); it defaults to the current time.
 */
export type Now = Date | number;

export function nowMs(now?: Now): number {
  if (now === undefined) return Date.now();
  const ms = now instanceof Date ? now.getTime() : now;
  if (!Number.isFinite(ms)) throw new RangeError('now must be a valid Date or a finite number of milliseconds');
  return ms;
}

/** Unix time in whole seconds (floor). */
export function nowSeconds(now?: Now): number {
  return Math.floor(nowMs(now) / 1000);
}
