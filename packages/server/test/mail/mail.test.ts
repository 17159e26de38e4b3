import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getJob, listJobs } from '../../src/jobs/queue.js';
import type { Logger } from '../../src/jobs/logger.js';
import type { Worker } from '../../src/jobs/worker.js';
import { MAIL_QUEUE, enqueueMail, getMail, listMails, type EnqueueMailInput } from '../../src/mail/outbox.js';
import { createMailTransport, type MailTransport } from '../../src/mail/transport.js';
import { startMailWorker } from '../../src/mail/worker.js';
import { createInstance } from '../../src/repositories/instances.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/database.js';
import { startSmtpReceiver } from '../helpers/fakes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(25);
  }
}

type Line = { level: string; obj: Record<string, unknown>; msg?: string };
function captureLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}


/** A loopback port nobody listens on (for now). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe.each(testEngines)('mail outbox and delivery (%s)', (engine) => {
  let db: TestDatabase;
  let instanceId: string;
  const cleanups: (() => Promise<void> | void)[] = [];
  const mail = (over: Partial<EnqueueMailInput> = {}): EnqueueMailInput => ({
    instanceId,
    to: 'alice@example.com',
    subject: 'Your security code',
    text: 'Hello Alice,\n\nYour security code is 482913.\n',
    html: '<p>Hello Alice,</p><p>Your security code is <strong>482913</strong>.</p>',
    template: 'two_factor',
    mode: 'noreply',
    ...over,
  });

  beforeEach(async () => {
    db = await createTestDatabase(engine);
    instanceId = (await createInstance(db.kysely, { domain: 'alice.example' })).id;
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await db.close();
  });

  const worker = (transport: MailTransport, logger?: Logger): Worker => {
    const w = startMailWorker({ db, transport, logger, pollIntervalMs: 25 });
    cleanups.push(() => w.stop());
    return w;
  };

  it('queues the mail row and its job together, or neither', async () => {
    const m = await enqueueMail(db.kysely, mail());
    expect(m).toMatchObject({ status: 'queued', attempts: 0, to: 'alice@example.com', from: null, template: 'two_factor', mode: 'noreply', sentAt: null });
    const job = await getJob(db.kysely, m.jobId!);
    expect(job).toMatchObject({ queue: MAIL_QUEUE, instanceId, payload: { mailId: m.id }, status: 'queued' });

    // In the caller's transaction: a rollback takes both away.
    await expect(
      db.kysely.transaction().execute(async (trx) => {
        await enqueueMail(trx, mail({ subject: 'rolled back' }));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await listMails(db.kysely, instanceId)).map((x) => x.subject)).toEqual(['Your security code']);
    expect(await listJobs(db.kysely, { queue: MAIL_QUEUE })).toHaveLength(1);
    await expect(enqueueMail(db.kysely, mail({ text: undefined as never }))).rejects.toThrow(/text part/);
  });

  it('lists the mails of an instance oldest first', async () => {
    await enqueueMail(db.kysely, mail({ subject: 'second', now: 2_000 }));
    await enqueueMail(db.kysely, mail({ subject: 'first', now: 1_000 }));
    const other = await createInstance(db.kysely, { domain: 'bob.example' });
    await enqueueMail(db.kysely, mail({ instanceId: other.id, subject: 'not mine' }));
    expect((await listMails(db.kysely, instanceId)).map((m) => m.subject)).toEqual(['first', 'second']);
  });

  it('records mails without SMTP and logs their text', async () => {
    const logger = captureLogger();
    const transport = createMailTransport({ from: 'Hearth <noreply@hearth.test>', logger });
    expect(transport.kind).toBe('record');
    const m = await enqueueMail(db.kysely, mail());
    worker(transport, logger).wake();
    await waitFor(async () => (await getMail(db.kysely, m.id))?.status === 'recorded');
    const stored = await getMail(db.kysely, m.id);
    expect(stored).toMatchObject({ status: 'recorded', attempts: 0, sentAt: null, lastError: null });
    await waitFor(async () => (await getJob(db.kysely, m.jobId!))?.status === 'done');
    const line = logger.lines.find((l) => l.level === 'info' && l.obj.mailId === m.id);
    expect(line?.obj).toMatchObject({ to: 'alice@example.com', subject: 'Your security code', text: m.text });
    expect(line?.msg).toContain('Your security code');
  });

  it('delivers to an SMTP server with a text and an HTML part', async () => {
    const smtp = await startSmtpReceiver();
    cleanups.push(() => smtp.close());
    const transport = createMailTransport({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, from: 'Hearth <noreply@hearth.test>', logger: captureLogger() });
    cleanups.push(() => transport.close());
    expect(transport.kind).toBe('smtp');
    const m = await enqueueMail(db.kysely, mail());
    const textOnly = await enqueueMail(db.kysely, mail({ html: null, subject: 'Text only', from: 'Owner <owner@hearth.test>' }));
    worker(transport).wake();
    await waitFor(async () => (await listMails(db.kysely, instanceId)).every((x) => x.status === 'sent'));
    const stored = await getMail(db.kysely, m.id);
    expect(stored).toMatchObject({ status: 'sent', attempts: 1, lastError: null });
    expect(stored?.sentAt).toBeGreaterThan(0);
    expect(smtp.received).toHaveLength(2);
    const first = smtp.received.find((r) => r.raw.includes('Subject: Your security code'))!;
    expect(first.from).toBe('noreply@hearth.test');
    expect(first.to).toEqual(['alice@example.com']);
    expect(first.raw).toContain('multipart/alternative');
    expect(first.raw).toContain('text/plain');
    expect(first.raw).toContain('482913');
    expect(first.raw).toContain('text/html');
    const second = smtp.received.find((r) => r.raw.includes('Subject: Text only'))!;
    expect(second.from).toBe('owner@hearth.test');
    expect(second.raw).toContain('text/plain');
    expect(second.raw).not.toContain('text/html');
    expect((await getMail(db.kysely, textOnly.id))?.status).toBe('sent');
  });

  it('retries while the SMTP server is down and delivers once it is up (never lost)', async () => {
    const port = await freePort();
    const transport = createMailTransport({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'noreply@hearth.test', logger: captureLogger(), timeoutMs: 2_000 });
    cleanups.push(() => transport.close());
    const m = await enqueueMail(db.kysely, mail());
    worker(transport).wake();
    // The first attempt fails (connection refused) and the mail goes back to the queue.
    await waitFor(async () => {
      const s = await getMail(db.kysely, m.id);
      return (s?.attempts ?? 0) >= 1 && s?.status === 'queued' && s.lastError !== null;
    });
    // The job is back in the queue too (failJob runs just after the mail row is updated).
    await waitFor(async () => (await getJob(db.kysely, m.jobId!))?.status === 'queued');
    const smtp = await startSmtpReceiver(port);
    cleanups.push(() => smtp.close());
    await waitFor(async () => (await getMail(db.kysely, m.id))?.status === 'sent');
    const sent = await getMail(db.kysely, m.id);
    expect(sent?.attempts).toBeGreaterThanOrEqual(2);
    expect(sent?.lastError).toBeNull();
    expect(smtp.received).toHaveLength(1);
    await waitFor(async () => (await getJob(db.kysely, m.jobId!))?.status === 'done');
  });

  it('marks the mail failed after the last attempt', async () => {
    const port = await freePort();
    const transport = createMailTransport({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'noreply@hearth.test', logger: captureLogger() });
    cleanups.push(() => transport.close());
    const m = await enqueueMail(db.kysely, mail({ maxAttempts: 1 }));
    worker(transport).wake();
    await waitFor(async () => (await getMail(db.kysely, m.id))?.status === 'failed');
    expect(await getMail(db.kysely, m.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect((await getMail(db.kysely, m.id))?.lastError).toMatch(/ECONNREFUSED|connect/i);
    await waitFor(async () => (await getJob(db.kysely, m.jobId!))?.status === 'failed');
  });
});
