// The durable delivery of push jobs: a job whose process died mid-delivery is claimed again after
// its lease expired and finishes without pushing twice to a device already reached; two workers
// on two pools of one database drain one queue without duplicates (PostgreSQL: SKIP LOCKED).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, testEngines, type TestDatabase } from '../../helpers/database.js';
import { createInstance, type Instance } from '../../../src/repositories/instances.js';
import { createOAuthClient } from '../../../src/repositories/oauth-clients.js';
import { insertNotification } from '../../../src/repositories/notifications.js';
import { claimJob, enqueueJob, getJob, listJobs } from '../../../src/jobs/queue.js';
import type { Worker } from '../../../src/jobs/worker.js';
import {
  PUSH_MAX_ATTEMPTS,
  PUSH_QUEUE,
  createPushJobHandler,
  startPushWorker,
  type PushJobPayload,
  type PushMessage,
  type PushProvider,
  type PushProviders,
} from '../../../src/push/router.js';
import type { HearthDb } from '../../../src/db/database.js';
import { waitFor } from '../../helpers/fakes.js';

interface Push {
  token: string;
  title: string;
  notId: number;
}

function recordingProviders(pushes: Push[], opts: { crashOn?: string; onCrash?: () => void; delayMs?: number } = {}): PushProviders {
  const provider: PushProvider = {
    name: 'fake',
    configured: true,
    async send(token: string, message: PushMessage) {
      // The process "dies" here: the call never returns and nothing more happens in it.
      if (opts.crashOn === token) return new Promise<never>(() => opts.onCrash?.());
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      pushes.push({ token, title: message.title, notId: message.notId });
      return { kind: 'sent' };
    },
  };
  return { fcm: provider, apns: provider };
}

const noMail = async () => {
  throw new Error('no mail expected');
};

describe.each(testEngines)('push jobs (%s)', (engine) => {
  let db: TestDatabase;
  let instance: Instance;
  const workers: Worker[] = [];

  beforeEach(async () => {
    db = await createTestDatabase(engine);
    instance = await createInstance(db.kysely, { domain: `push-${engine}.test` });
  });

  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    await db.close();
  });

  async function notify(title: string): Promise<string> {
    const n = await insertNotification(db.kysely, {
      instanceId: instance.id,
      sourceId: 'cozy/app/drive/share/',
      doc: { source_id: 'cozy/app/drive/share/', originator: 'app', slug: 'drive', category: 'share', title },
    });
    const payload: PushJobPayload = { notificationId: n.id, instanceId: instance.id, channel: 'mobile' };
    await enqueueJob(db.kysely, { queue: PUSH_QUEUE, instanceId: instance.id, payload, maxAttempts: PUSH_MAX_ATTEMPTS });
    return n.id;
  }

  it('a job claimed by a process that died mid-delivery is claimed again after its lease and not pushed twice', async () => {
    const base = Date.now();
    for (const [i, token] of ['dev-a', 'dev-b'].entries()) {
      await createOAuthClient(db.kysely, { instanceId: instance.id, clientName: `m${i}`, softwareId: 'io.cozy.mobile', notificationPlatform: 'firebase', notificationDeviceToken: token }, base - i * 1000);
    }
    await notify('Restart');
    const pushes: Push[] = [];

    // Process A claims the job with a short lease, pushes to dev-a (the newest), then dies on dev-b.
    const leaseMs = 300;
    const job = await claimJob<PushJobPayload>(db.kysely, PUSH_QUEUE, 'process-a', leaseMs);
    expect(job).not.toBeNull();
    let crashed = false;
    const handlerA = createPushJobHandler({ providers: recordingProviders(pushes, { crashOn: 'dev-b', onCrash: () => (crashed = true) }), sendMail: noMail });
    void handlerA(job!, { db: db.kysely, workerId: 'process-a', logger: { info() {}, warn() {}, error() {}, debug() {} } });
    await waitFor(() => crashed, 'process A to reach dev-b');
    expect(pushes.map((p) => p.token)).toEqual(['dev-a']);
    expect((await getJob(db.kysely, job!.id))?.status).toBe('running');

    // Process B (another pool, as after a restart) starts; the job is not claimable until the lease expires.
    const sibling: HearthDb = await db.openSibling();
    workers.push(startPushWorker({ db: sibling, providers: recordingProviders(pushes), sendMail: noMail, pollIntervalMs: 25, leaseMs: 5_000, workerId: 'process-b' }));
    await waitFor(async () => (await getJob(db.kysely, job!.id))?.status === 'done', 'the job to be finished by process B');
    const done = await getJob(db.kysely, job!.id);
    expect(done).toMatchObject({ status: 'done', attempts: 2 });
    expect(pushes.map((p) => p.token).sort()).toEqual(['dev-a', 'dev-b']);
  });

  it('two workers on two pools of one database drain the queue without duplicate deliveries', async () => {
    await createOAuthClient(db.kysely, { instanceId: instance.id, clientName: 'm', softwareId: 'io.cozy.mobile', notificationPlatform: 'apns', notificationDeviceToken: 'dev-1' });
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push(await notify(`N${i}`));
    const pushesA: Push[] = [];
    const pushesB: Push[] = [];
    const sibling = await db.openSibling();
    workers.push(startPushWorker({ db: db.kysely, providers: recordingProviders(pushesA, { delayMs: 15 }), sendMail: noMail, pollIntervalMs: 10, concurrency: 2, workerId: 'w-a' }));
    workers.push(startPushWorker({ db: sibling, providers: recordingProviders(pushesB, { delayMs: 15 }), sendMail: noMail, pollIntervalMs: 10, concurrency: 2, workerId: 'w-b' }));
    await waitFor(async () => (await listJobs(db.kysely, { queue: PUSH_QUEUE, status: 'done' })).length === ids.length, 'every job done', 30_000);
    const titles = [...pushesA, ...pushesB].map((p) => p.title);
    expect(titles).toHaveLength(ids.length);
    expect(new Set(titles).size).toBe(ids.length);
    expect(pushesA.length).toBeGreaterThan(0);
    expect(pushesB.length).toBeGreaterThan(0);
    const jobs = await listJobs(db.kysely, { queue: PUSH_QUEUE });
    expect(jobs.every((j) => j.status === 'done' && j.attempts === 1)).toBe(true);
  });
});
