// A polling worker over the durable queue (src/jobs/queue.ts): `concurrency` loops each claim a
// job, run the handler while renewing the lease, then complete or fail it (backoff, retries).

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Kysely } from 'kysely';
import type { HearthDb } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { errorMessage, silentLogger, type Logger } from './logger.js';
import { claimJob, completeJob, extendJobLease, failJob, type Job } from './queue.js';

export interface JobContext {
  db: Kysely<Database>;
  workerId: string;
  logger: Logger;
}

export type JobHandler<P = unknown> = (job: Job<P>, ctx: JobContext) => Promise<void>;

export interface WorkerOptions<P = unknown> {
  db: Kysely<Database> | HearthDb;
  queue: string;
  handler: JobHandler<P>;
  /** Jobs run at the same time by this worker (default 1). */
  concurrency?: number;
  /** How long an idle loop waits before looking again (default 1000 ms); wake() cuts it short. */
  pollIntervalMs?: number;
  /** Lease of a claimed job (default 60 s); renewed every third of it while the handler runs. */
  leaseMs?: number;
  logger?: Logger;
  /** Default: `<hostname>:<pid>:<random>`. */
  workerId?: string;
}

export interface Worker {
  readonly id: string;
  /** Stops claiming and resolves once the jobs in progress have finished. Idempotent. */
  stop(): Promise<void>;
  /** Looks for jobs now (e.g. right after enqueueing one) instead of at the next poll. */
  wake(): void;
}

export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export function startWorker<P = unknown>(opts: WorkerOptions<P>): Worker {
  const db = opts.db instanceof Kysely ? opts.db : opts.db.kysely;
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const pollIntervalMs = opts.pollIntervalMs ?? 1000;
  const leaseMs = opts.leaseMs ?? 60_000;
  const logger = opts.logger ?? silentLogger;
  const workerId = opts.workerId ?? newWorkerId();
  const { queue, handler } = opts;
  const ctx: JobContext = { db, workerId, logger };

  let stopping = false;
  // Bumped by wake(): a loop that saw an older value before claiming does not go to sleep.
  let wakeGeneration = 0;
  const sleepers = new Set<() => void>();

  const wake = (): void => {
    wakeGeneration++;
    for (const resolve of [...sleepers]) resolve();
  };

  const sleep = (ms: number, seenGeneration: number): Promise<void> => {
    if (stopping || seenGeneration !== wakeGeneration) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });
  };

  const run = async (job: Job<P>): Promise<void> => {
    const log = { queue, jobId: job.id, attempt: job.attempts, workerId };
    logger.debug(log, 'job started');
    const renew = setInterval(() => {
      extendJobLease(db, job.id, workerId, leaseMs).then(
        (held) => {
          if (!held) logger.warn(log, 'job lease lost while running');
        },
        (err: unknown) => logger.warn({ ...log, err: errorMessage(err) }, 'job lease renewal failed'),
      );
    }, Math.max(10, Math.floor(leaseMs / 3)));
    renew.unref?.();
    let failure: { error: unknown } | null = null;
    try {
      await handler(job, ctx);
    } catch (error) {
      failure = { error };
    } finally {
      clearInterval(renew);
    }
    try {
      if (!failure) {
        const held = await completeJob(db, job.id, { workerId });
        if (held) logger.debug(log, 'job done');
        else logger.warn(log, 'job finished after its lease was lost');
        return;
      }
      const err = errorMessage(failure.error);
      const after = await failJob(db, job.id, failure.error, { workerId });
      if (after?.status === 'failed') logger.error({ ...log, err }, 'job failed for good');
      else if (after) logger.warn({ ...log, err, retryAt: after.runAt }, 'job failed, will retry');
      else logger.warn({ ...log, err }, 'job failed after its lease was lost');
    } catch (dbErr) {
      // The lease will expire and the job will be claimed again.
      logger.error({ ...log, err: errorMessage(dbErr) }, 'could not record the end of the job');
    }
  };

  const loop = async (): Promise<void> => {
    while (!stopping) {
      const seen = wakeGeneration;
      let job: Job<P> | null = null;
      try {
        job = await claimJob<P>(db, queue, workerId, leaseMs);
      } catch (err) {
        logger.error({ queue, workerId, err: errorMessage(err) }, 'could not claim a job');
        await sleep(pollIntervalMs, wakeGeneration);
        continue;
      }
      if (job) await run(job);
      else await sleep(pollIntervalMs, seen);
    }
  };

  const loops = Array.from({ length: concurrency }, () => loop());
  logger.debug({ queue, workerId, concurrency }, 'worker started');

  let stopped: Promise<void> | null = null;
  return {
    id: workerId,
    wake,
    stop(): Promise<void> {
      if (!stopped) {
        stopping = true;
        wake();
        stopped = Promise.all(loops).then(() => logger.debug({ queue, workerId }, 'worker stopped'));
      }
      return stopped;
    },
  };
}
