/**
 * The one shared limiter for every slow KDF call (scrypt, PBKDF2).
 *
 * node's async `crypto.scrypt` / `crypto.pbkdf2` run on the libuv threadpool
 * (4 threads by default). Without a bound, a login storm would fill the pool
 * and starve every other user of it (fs, dns.lookup, zlib). All KDF work of
 * this folder goes through `runHashing`, which allows `concurrency` (default: the cores minus one)
 * computations at once and queues the rest in FIFO order.
 */
import { availableParallelism } from 'node:os';
import { createLimiter } from './limiter.js';

/**
 * One computation per core, minus one core left to the event loop (at least one): with every
 * core hashing, a login storm made the p99 of the other routes grow past 25 ms on 2 cores.
 * Logins queue instead.
 */
export const DEFAULT_HASHING_CONCURRENCY = Math.max(1, availableParallelism() - 1);

const limiter = createLimiter(DEFAULT_HASHING_CONCURRENCY);

export interface HashingOptions {
  /** Maximum number of concurrent scrypt/PBKDF2 computations (positive integer). */
  concurrency?: number;
}

/** Reconfigures the shared hashing limiter; applies to already queued work too. */
export function configureHashing(options: HashingOptions): void {
  if (options.concurrency !== undefined) limiter.setMax(options.concurrency);
}

/** Runs one KDF computation under the shared limiter. */
export function runHashing<T>(fn: () => Promise<T>): Promise<T> {
  return limiter.run(fn);
}

/** Current state of the shared limiter (for metrics and tests). */
export function hashingStats(): { concurrency: number; active: number; pending: number } {
  return { concurrency: limiter.max, active: limiter.active, pending: limiter.pending };
}
