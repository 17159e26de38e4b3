import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimJob, countJobs, enqueueJob, getJob, type Job } from '../../src/jobs/queue.js';
import { startWorker, type Worker } from '../../src/jobs/worker.js';
import { pino } from 'pino';
import type { Logger } from '../../src/jobs/logger.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/database.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000, stepMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(stepMs);
  }
}

function captureLogger(): Logger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

describe.each(testEngines)('job worker (%s)', (engine) => {
  let db: TestDatabase;
  const workers: Worker[] = [];
  beforeEach(async () => {
    db = await createTestDatabase(engine);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await db.close();
  });

  it('two workers on two handles run each of 50 jobs exactly once', async () => {
    const other = await db.openSibling(); // a second pool / connection, as a second process has
    const runs = new Map<number, string[]>();
    const handler = async (job: Job<{ n: number }>, ctx: { workerId: string }) => {
      await sleep(Math.random() * 5);
      runs.set(job.payload.n, [...(runs.get(job.payload.n) ?? []), ctx.workerId]);
    };
    for (let n = 0; n < 50; n++) await enqueueJob(db.kysely, { queue: 'work', payload: { n } });
    workers.push(
      startWorker({ db, queue: 'work', handler, concurrency: 3, pollIntervalMs: 20, workerId: 'A' }),
      startWorker({ db: other, queue: 'work', handler, concurrency: 3, pollIntervalMs: 20, workerId: 'B' }),
    );
    await waitFor(async () => (await countJobs(db.kysely, 'work')).done === 50);
    expect(runs.size).toBe(50);
    for (const [, who] of runs) expect(who).toHaveLength(1);
    const byWorker = [...runs.values()].flat();
    expect(byWorker.filter((w) => w === 'A').length).toBeGreaterThan(0);
    expect(byWorker.filter((w) => w === 'B').length).toBeGreaterThan(0);
    expect(await countJobs(db.kysely, 'work')).toEqual({ queued: 0, running: 0, done: 50, failed: 0 });
  });

  it('retries a failing job after its backoff and logs the failure', async () => {
    const logger = captureLogger();
    let calls = 0;
    const job = await enqueueJob(db.kysely, { queue: 'flaky', payload: null });
    workers.push(
      startWorker({
        db,
        queue: 'flaky',
        logger,
        pollIntervalMs: 50,
        handler: async () => {
          calls++;
          if (calls === 1) throw new Error('temporary');
        },
      }),
    );
    const started = Date.now();
    await waitFor(async () => (await getJob(db.kysely, job.id))?.status === 'done');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the 1 s backoff
    expect(calls).toBe(2);
    expect(await getJob(db.kysely, job.id)).toMatchObject({ attempts: 2, lastError: 'temporary' });
    expect(logger.lines.some((l) => l.level === 'warn' && l.msg === 'job failed, will retry')).toBe(true);
  });

  it('stop() stops claiming and waits for the job in progress', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    const first = await enqueueJob(db.kysely, { queue: 'slow', payload: 1 });
    const worker = startWorker({
      db,
      queue: 'slow',
      pollIntervalMs: 10,
      handler: async () => {
        started = true;
        await gate;
      },
    });
    await waitFor(async () => started);
    const second = await enqueueJob(db.kysely, { queue: 'slow', payload: 2 });
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await sleep(100);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect((await getJob(db.kysely, first.id))?.status).toBe('done');
    expect((await getJob(db.kysely, second.id))?.status).toBe('queued');
    await worker.stop(); // idempotent
  });

  it('accepts a pino logger', async () => {
    const logger: Logger = pino({ level: 'silent' });
    const worker = startWorker({ db, queue: 'p', logger, pollIntervalMs: 10, handler: async () => {} });
    workers.push(worker);
    const job = await enqueueJob(db.kysely, { queue: 'p', payload: null });
    worker.wake();
    await waitFor(async () => (await getJob(db.kysely, job.id))?.status === 'done');
  });

  it('wake() makes an idle worker look for jobs at once', async () => {
    const done: number[] = [];
    const worker = startWorker({ db, queue: 'w', pollIntervalMs: 60_000, handler: async (j: Job<number>) => void done.push(j.payload) });
    workers.push(worker);
    await sleep(50); // now idle, sleeping for a minute
    await enqueueJob(db.kysely, { queue: 'w', payload: 7 });
    worker.wake();
    await waitFor(async () => done.length === 1, 2_000);
    expect(done).toEqual([7]);
  });

  it('renews the lease of a long job, and recovers the job of a crashed worker', async () => {
    // A job claimed by a worker that died: its lease runs out and a live worker takes it over.
    const orphan = await enqueueJob(db.kysely, { queue: 'lease', payload: 'orphan' });
    expect((await claimJob(db.kysely, 'lease', 'dead-worker', 300))?.id).toBe(orphan.id);
    const long = await enqueueJob(db.kysely, { queue: 'lease', payload: 'long' });
    const seen: string[] = [];
    const handler = async (j: Job<string>) => {
      seen.push(j.payload);
      if (j.payload === 'long') await sleep(1_000); // > 3 leases of 300 ms
    };
    workers.push(
      startWorker({ db, queue: 'lease', handler, leaseMs: 300, pollIntervalMs: 20, workerId: 'A' }),
      startWorker({ db, queue: 'lease', handler, leaseMs: 300, pollIntervalMs: 20, workerId: 'B' }),
    );
    await waitFor(async () => (await countJobs(db.kysely, 'lease')).done === 2);
    expect(seen.sort()).toEqual(['long', 'orphan']); // each ran once: the long one was never stolen
    expect(await getJob(db.kysely, long.id)).toMatchObject({ attempts: 1, status: 'done' });
    expect(await getJob(db.kysely, orphan.id)).toMatchObject({ attempts: 2, status: 'done' });
  });
});
