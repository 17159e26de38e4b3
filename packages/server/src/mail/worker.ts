// The mail job handler: sends (or records) one outbox mail per `mail` job. A failed delivery is
// recorded on the mail and rethrown, so the queue retries it with backoff; after the job's last
// attempt the mail is `failed`.

import type { Kysely } from 'kysely';
import type { HearthDb } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { errorMessage, silentLogger, type Logger } from '../jobs/logger.js';
import { startWorker, type JobHandler, type Worker } from '../jobs/worker.js';
import { MAIL_QUEUE, getMail, type MailJobPayload } from './outbox.js';
import type { MailTransport } from './transport.js';

export { listMails } from './outbox.js';

export function createMailJobHandler(opts: { transport: MailTransport; logger?: Logger }): JobHandler<MailJobPayload> {
  const { transport } = opts;
  const logger = opts.logger ?? silentLogger;
  return async (job, { db }) => {
    const mailId = job.payload?.mailId;
    const mail = mailId ? await getMail(db, mailId) : null;
    if (!mail) {
      // Its instance was deleted meanwhile: nothing to send.
      logger.warn({ jobId: job.id, mailId }, 'mail job without its mail, skipped');
      return;
    }
    if (mail.status === 'sent' || mail.status === 'recorded') return; // a second run of a done job

    const outgoing = {
      id: mail.id,
      to: mail.to,
      from: mail.from,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      template: mail.template,
    };

    if (transport.kind === 'record') {
      await transport.send(outgoing);
      await db.updateTable('mails').set({ status: 'recorded', last_error: null }).where('id', '=', mail.id).execute();
      return;
    }

    await db
      .updateTable('mails')
      .set((eb) => ({ status: 'sending', attempts: eb('attempts', '+', 1) }))
      .where('id', '=', mail.id)
      .execute();
    try {
      await transport.send(outgoing);
    } catch (err) {
      const last = job.attempts >= job.maxAttempts;
      await db
        .updateTable('mails')
        .set({ status: last ? 'failed' : 'queued', last_error: errorMessage(err).slice(0, 2000) })
        .where('id', '=', mail.id)
        .execute();
      throw err;
    }
    await db
      .updateTable('mails')
      .set({ status: 'sent', sent_at: Date.now(), last_error: null })
      .where('id', '=', mail.id)
      .execute();
  };
}

/** Starts the worker of the `mail` queue with the handler above. */
export function startMailWorker(opts: {
  db: Kysely<Database> | HearthDb;
  transport: MailTransport;
  logger?: Logger;
  concurrency?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
}): Worker {
  const logger = opts.logger ?? silentLogger;
  return startWorker<MailJobPayload>({
    db: opts.db,
    queue: MAIL_QUEUE,
    handler: createMailJobHandler({ transport: opts.transport, logger }),
    logger,
    concurrency: opts.concurrency,
    pollIntervalMs: opts.pollIntervalMs,
    leaseMs: opts.leaseMs,
  });
}
