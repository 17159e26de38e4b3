// A durable job queue in the database (the `jobs` table), shared by every Hearth process.
//
// Life of a job: `queued` → claimed (`running`, with a lease: locked_by + locked_until) →
// `done`, or back to `queued` with an exponential backoff on failure, or `failed` (kept) after
// max_attempts. A worker that crashes leaves its lease to expire; the job is then claimable
// again. Delivery is at-least-once: handlers must tolerate a rare second run.

import { sql, type Selectable } from 'kysely';
import type { JobStatus, JobsTable } from '../db/schema.js';
import { dialectOf, newId, parseJson, type DbExecutor } from '../db/util.js';
import { errorMessage } from './logger.js';

export const DEFAULT_MAX_ATTEMPTS = 20;
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 10 * 60 * 1000;
const MAX_ERROR_LENGTH = 2000;

export interface Job<P = unknown> {
  id: string;
  queue: string;
  instanceId: string | null;
  payload: P;
  status: JobStatus;
  /** Claims so far (the current run included while running). */
  attempts: number;
  maxAttempts: number;
  runAt: number;
  lockedBy: string | null;
  lockedUntil: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

function rowToJob<P>(r: Selectable<JobsTable>): Job<P> {
  return {
    id: r.id,
    queue: r.queue,
    instanceId: r.instance_id,
    payload: parseJson<P>(r.payload, null as P),
    status: r.status,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    runAt: Number(r.run_at),
    lockedBy: r.locked_by,
    lockedUntil: r.locked_until === null ? null : Number(r.locked_until),
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** Delay before the next try after the `attempts`-th failure: 1 s, 2 s, 4 s … capped at 10 min. */
export function backoffMs(attempts: number): number {
  const exp = Math.max(0, attempts - 1);
  return exp >= 20 ? BACKOFF_MAX_MS : Math.min(BACKOFF_BASE_MS * 2 ** exp, BACKOFF_MAX_MS);
}

export interface EnqueueJobInput<P = unknown> {
  queue: string;
  instanceId?: string | null;
  payload: P;
  /** Epoch ms; default now. */
  runAt?: number;
  maxAttempts?: number;
  now?: number;
}

export async function enqueueJob<P>(db: DbExecutor, input: EnqueueJobInput<P>): Promise<Job<P>> {
  const now = input.now ?? Date.now();
  const row = await db
    .insertInto('jobs')
    .values({
      id: newId(),
      queue: input.queue,
      instance_id: input.instanceId ?? null,
      payload: JSON.stringify(input.payload ?? null),
      status: 'queued',
      attempts: 0,
      max_attempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      run_at: input.runAt ?? now,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToJob<P>(row);
}

/**
 * Claims the next due job of `queue` for `workerId` for `leaseMs`, or answers null. Due jobs are
 * the queued ones whose run_at has come, and the running ones whose lease expired (their worker
 * died); a job whose lease expired after its last allowed attempt is marked failed instead.
 *
 * Atomic across processes, in one statement `UPDATE jobs … WHERE id = (SELECT id … LIMIT 1)
 * RETURNING *`:
 * - PostgreSQL: the subquery takes `FOR UPDATE SKIP LOCKED`, so concurrent claimers skip the row
 *   another one is taking, and re-check it when it was just claimed;
 * - SQLite: an autocommit write statement is its own immediate transaction (the write lock is
 *   taken before the subquery reads, and busy_timeout makes other processes wait for it). An
 *   explicit BEGIN IMMEDIATE spanning two awaited statements would add nothing and could not be
 *   shared by two connections in one process (better-sqlite3 blocks the thread while waiting).
 *   Inside a caller's transaction the statement simply joins it.
 */
export async function claimJob<P = unknown>(
  db: DbExecutor,
  queue: string,
  workerId: string,
  leaseMs: number,
  now: number = Date.now(),
): Promise<Job<P> | null> {
  await db
    .updateTable('jobs')
    .set({ status: 'failed', locked_by: null, locked_until: null, updated_at: now, last_error: 'lease expired after the last attempt' })
    .where('queue', '=', queue)
    .where('status', '=', 'running')
    .where('locked_until', '<=', now)
    .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
    .execute();

  let next = db
    .selectFrom('jobs')
    .select('id')
    .where('queue', '=', queue)
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]),
        eb.and([eb('status', '=', 'running'), eb('locked_until', '<=', now)]),
      ]),
    )
    .orderBy('run_at')
    .orderBy('created_at')
    .limit(1);
  if (dialectOf(db) === 'postgres') next = next.forUpdate().skipLocked();

  const row = await db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'running',
      locked_by: workerId,
      locked_until: now + leaseMs,
      attempts: eb('attempts', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', next)
    .returningAll()
    .executeTakeFirst();
  return row ? rowToJob<P>(row) : null;
}

/** Marks a running job done. With `workerId`, only if that worker still holds it. */
export async function completeJob(
  db: DbExecutor,
  jobId: string,
  opts: { workerId?: string; now?: number } = {},
): Promise<boolean> {
  let q = db
    .updateTable('jobs')
    .set({ status: 'done', locked_by: null, locked_until: null, updated_at: opts.now ?? Date.now() })
    .where('id', '=', jobId)
    .where('status', '=', 'running');
  if (opts.workerId !== undefined) q = q.where('locked_by', '=', opts.workerId);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Records a failed run: back to `queued` after backoffMs(attempts), or `failed` (kept, not
 * retried) once attempts reached max_attempts. Answers the job as stored, or null when it is not
 * running (or, with `workerId`, no longer held by that worker).
 */
export async function failJob<P = unknown>(
  db: DbExecutor,
  jobId: string,
  error: unknown,
  opts: { workerId?: string; now?: number } = {},
): Promise<Job<P> | null> {
  const now = opts.now ?? Date.now();
  const message = errorMessage(error).slice(0, MAX_ERROR_LENGTH);
  let current = db.selectFrom('jobs').selectAll().where('id', '=', jobId).where('status', '=', 'running');
  if (opts.workerId !== undefined) current = current.where('locked_by', '=', opts.workerId);
  const row = await current.executeTakeFirst();
  if (!row) return null;
  const attempts = Number(row.attempts);
  const final = attempts >= Number(row.max_attempts);
  let q = db
    .updateTable('jobs')
    .set({
      status: final ? 'failed' : 'queued',
      run_at: final ? Number(row.run_at) : now + backoffMs(attempts),
      locked_by: null,
      locked_until: null,
      last_error: message,
      updated_at: now,
    })
    .where('id', '=', jobId)
    .where('status', '=', 'running')
    .where('attempts', '=', attempts);
  if (opts.workerId !== undefined) q = q.where('locked_by', '=', opts.workerId);
  const updated = await q.returningAll().executeTakeFirst();
  return updated ? rowToJob<P>(updated) : null;
}

/** Extends the lease of a job the worker still holds (long handlers). */
export async function extendJobLease(
  db: DbExecutor,
  jobId: string,
  workerId: string,
  leaseMs: number,
  now: number = Date.now(),
): Promise<boolean> {
  const r = await db
    .updateTable('jobs')
    .set({ locked_until: now + leaseMs, updated_at: now })
    .where('id', '=', jobId)
    .where('status', '=', 'running')
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function getJob<P = unknown>(db: DbExecutor, jobId: string): Promise<Job<P> | null> {
  const row = await db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
  return row ? rowToJob<P>(row) : null;
}

export async function listJobs<P = unknown>(
  db: DbExecutor,
  opts: { queue?: string; status?: JobStatus; instanceId?: string; limit?: number } = {},
): Promise<Job<P>[]> {
  let q = db.selectFrom('jobs').selectAll().orderBy('created_at').orderBy('id');
  if (opts.queue !== undefined) q = q.where('queue', '=', opts.queue);
  if (opts.status !== undefined) q = q.where('status', '=', opts.status);
  if (opts.instanceId !== undefined) q = q.where('instance_id', '=', opts.instanceId);
  if (opts.limit !== undefined) q = q.limit(opts.limit);
  return (await q.execute()).map((r) => rowToJob<P>(r));
}

/** Counts jobs by status (of one queue, or of all). */
export async function countJobs(db: DbExecutor, queue?: string): Promise<Record<JobStatus, number>> {
  let q = db
    .selectFrom('jobs')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status');
  if (queue !== undefined) q = q.where('queue', '=', queue);
  const out: Record<JobStatus, number> = { queued: 0, running: 0, done: 0, failed: 0 };
  for (const r of await q.execute()) out[r.status] = Number(r.n);
  return out;
}

/** Deletes the `done` jobs (and with `includeFailed`, the failed ones) older than `ageMs`. */
export async function purgeFinishedJobs(
  db: DbExecutor,
  ageMs: number,
  opts: { includeFailed?: boolean; now?: number } = {},
): Promise<number> {
  const now = opts.now ?? Date.now();
  const statuses: JobStatus[] = opts.includeFailed ? ['done', 'failed'] : ['done'];
  const r = await db
    .deleteFrom('jobs')
    .where('status', 'in', statuses)
    .where('updated_at', '<=', now - ageMs)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Queued jobs of a queue due now: used by tests and health checks. */
export async function countDueJobs(db: DbExecutor, queue: string, now: number = Date.now()): Promise<number> {
  const r = await db
    .selectFrom('jobs')
    .select(sql<number>`count(*)`.as('n'))
    .where('queue', '=', queue)
    .where('status', '=', 'queued')
    .where('run_at', '<=', now)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
