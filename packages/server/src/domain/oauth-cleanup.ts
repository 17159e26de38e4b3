// The `clean-clients` job of reference §3.1, as a periodic sweep: an OAuth client still `pending`
// one hour after its registration (no login flow issued it a token) is deleted.
import type { DbExecutor } from '../db/util.js';
import type { Logger } from '../log.js';
import { deletePendingOAuthClientsOlderThan } from '../repositories/oauth-clients.js';

/** A pending client is deleted once it is this old. */
export const PENDING_CLIENT_MAX_AGE_MS = 3600_000;
/** How often the sweep runs. */
export const OAUTH_CLEANUP_INTERVAL_MS = 60_000;

/** One sweep over every instance: deletes the clients pending for an hour or more at `now`. Answers their ids. */
export async function sweepPendingOAuthClients(db: DbExecutor, now: number): Promise<string[]> {
  return deletePendingOAuthClientsOlderThan(db, PENDING_CLIENT_MAX_AGE_MS, { now });
}

export interface OAuthCleanup {
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

/** Runs the sweep every `intervalMs` (default one minute) until stopped. Errors are logged, never thrown. */
export function startOAuthCleanup(opts: { db: DbExecutor; logger: Logger; now: () => number; intervalMs?: number }): OAuthCleanup {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (stopped || running) return;
    running = sweepPendingOAuthClients(opts.db, opts.now())
      .then((ids) => {
        if (ids.length) opts.logger.info({ count: ids.length }, 'deleted OAuth clients still pending after one hour');
      })
      .catch((err: unknown) => opts.logger.error({ err }, 'OAuth clients clean-up failed'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, opts.intervalMs ?? OAUTH_CLEANUP_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
