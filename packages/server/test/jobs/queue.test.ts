import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BACKOFF_MAX_MS,
  backoffMs,
  claimJob,
  completeJob,
  countJobs,
  enqueueJob,
  extendJobLease,
  failJob,
  getJob,
  listJobs,
  purgeFinishedJobs,
} from '../../src/jobs/queue.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/database.js';

describe('backoffMs', () => {
  it('doubles from 1 s and caps at 10 min', () => {
    expect([1, 2, 3, 4, 5].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(backoffMs(10)).toBe(512_000);
    expect(backoffMs(11)).toBe(BACKOFF_MAX_MS);
    expect(backoffMs(19)).toBe(600_000);
    expect(backoffMs(1000)).toBe(600_000);
  });
});

describe.each(testEngines)('job queue (%s)', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase(engine);
  });
  afterEach(() => db.close());

  it('enqueues, claims and completes a job', async () => {
    const job = await enqueueJob(db.kysely, { queue: 'q', instanceId: 'i1', payload: { a: [1, 2] }, now: 100 });
    expect(job).toMatchObject({ queue: 'q', instanceId: 'i1', payload: { a: [1, 2] }, status: 'queued', attempts: 0, maxAttempts: 20, runAt: 100 });
    expect(await claimJob(db.kysely, 'other', 'w1', 1000, 100)).toBeNull();
    const claimed = await claimJob(db.kysely, 'q', 'w1', 1000, 100);
    expect(claimed).toMatchObject({ id: job.id, status: 'running', attempts: 1, lockedBy: 'w1', lockedUntil: 1100, payload: { a: [1, 2] } });
    expect(await claimJob(db.kysely, 'q', 'w2', 1000, 100)).toBeNull();
    expect(await completeJob(db.kysely, job.id, { workerId: 'w2' })).toBe(false);
    expect(await completeJob(db.kysely, job.id, { workerId: 'w1' })).toBe(true);
    expect(await getJob(db.kysely, job.id)).toMatchObject({ status: 'done', lockedBy: null, lockedUntil: null });
    expect(await claimJob(db.kysely, 'q', 'w1', 1000, 10_000)).toBeNull();
    expect(await countJobs(db.kysely, 'q')).toEqual({ queued: 0, running: 0, done: 1, failed: 0 });
  });

  it('respects run_at and claims the earliest due job first', async () => {
    const later = await enqueueJob(db.kysely, { queue: 'q', payload: 'later', runAt: 5_000, now: 0 });
    const sooner = await enqueueJob(db.kysely, { queue: 'q', payload: 'sooner', runAt: 1_000, now: 0 });
    expect(await claimJob(db.kysely, 'q', 'w', 60_000, 999)).toBeNull();
    expect((await claimJob(db.kysely, 'q', 'w', 60_000, 1_000))?.id).toBe(sooner.id);
    expect(await claimJob(db.kysely, 'q', 'w', 60_000, 4_999)).toBeNull();
    expect((await claimJob(db.kysely, 'q', 'w', 60_000, 5_000))?.id).toBe(later.id);
  });

  it('lets another worker re-claim a job whose lease expired', async () => {
    const job = await enqueueJob(db.kysely, { queue: 'q', payload: null, now: 0 });
    expect((await claimJob(db.kysely, 'q', 'crashed', 1_000, 0))?.id).toBe(job.id);
    expect(await claimJob(db.kysely, 'q', 'w2', 1_000, 999)).toBeNull();
    const again = await claimJob(db.kysely, 'q', 'w2', 1_000, 1_000);
    expect(again).toMatchObject({ id: job.id, attempts: 2, lockedBy: 'w2', lockedUntil: 2_000 });
    // The crashed worker can no longer complete, fail or extend it.
    expect(await completeJob(db.kysely, job.id, { workerId: 'crashed' })).toBe(false);
    expect(await failJob(db.kysely, job.id, new Error('late'), { workerId: 'crashed' })).toBeNull();
    expect(await extendJobLease(db.kysely, job.id, 'crashed', 10_000, 1_500)).toBe(false);
    // The holder can extend its lease, which keeps others away.
    expect(await extendJobLease(db.kysely, job.id, 'w2', 10_000, 1_500)).toBe(true);
    expect(await claimJob(db.kysely, 'q', 'w3', 1_000, 5_000)).toBeNull();
    expect(await completeJob(db.kysely, job.id, { workerId: 'w2' })).toBe(true);
  });

  it('retries failures with exponential backoff, then keeps the job as failed', async () => {
    const job = await enqueueJob(db.kysely, { queue: 'q', payload: null, maxAttempts: 4, now: 0 });
    let t = 0;
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const claimed = await claimJob(db.kysely, 'q', 'w', 60_000, t);
      expect(claimed?.attempts).toBe(attempt);
      const after = await failJob(db.kysely, job.id, new Error(`boom ${attempt}`), { workerId: 'w', now: t });
      expect(after?.lastError).toBe(`boom ${attempt}`);
      if (attempt < 4) {
        expect(after?.status).toBe('queued');
        delays.push(after!.runAt - t);
        expect(await claimJob(db.kysely, 'q', 'w', 60_000, after!.runAt - 1)).toBeNull();
        t = after!.runAt;
      } else {
        expect(after?.status).toBe('failed');
      }
    }
    expect(delays).toEqual([1000, 2000, 4000]);
    expect(await claimJob(db.kysely, 'q', 'w', 60_000, t + 10 * 60_000)).toBeNull();
    expect(await getJob(db.kysely, job.id)).toMatchObject({ status: 'failed', attempts: 4, lastError: 'boom 4' });
  });

  it('marks failed a job whose lease expired after its last attempt', async () => {
    const job = await enqueueJob(db.kysely, { queue: 'q', payload: null, maxAttempts: 1, now: 0 });
    await claimJob(db.kysely, 'q', 'crashed', 100, 0);
    expect(await claimJob(db.kysely, 'q', 'w', 100, 200)).toBeNull();
    expect(await getJob(db.kysely, job.id)).toMatchObject({ status: 'failed', lastError: 'lease expired after the last attempt' });
  });

  it('lists and purges finished jobs', async () => {
    const a = await enqueueJob(db.kysely, { queue: 'q', payload: 1, now: 0 });
    await enqueueJob(db.kysely, { queue: 'q', payload: 2, now: 0 });
    await claimJob(db.kysely, 'q', 'w', 1000, 0);
    await completeJob(db.kysely, a.id, { now: 10 });
    expect((await listJobs(db.kysely, { queue: 'q', status: 'queued' })).map((j) => j.payload)).toEqual([2]);
    expect(await purgeFinishedJobs(db.kysely, 100, { now: 50 })).toBe(0);
    expect(await purgeFinishedJobs(db.kysely, 100, { now: 110 })).toBe(1);
    expect(await listJobs(db.kysely, { queue: 'q' })).toHaveLength(1);
  });

  it('never hands the same job to two concurrent claimers', async () => {
    const other = await db.openSibling({ poolSize: 10 });
    for (let i = 0; i < 20; i++) await enqueueJob(db.kysely, { queue: 'q', payload: i });
    const claims = await Promise.all(
      Array.from({ length: 30 }, (_, i) => claimJob((i % 2 ? other : db).kysely, 'q', `w${i}`, 60_000)),
    );
    const ids = claims.filter((c) => c !== null).map((c) => c!.id);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });
});
