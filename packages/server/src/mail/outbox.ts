// The mail outbox: every mail is a `mails` row plus a job on the `mail` queue, written in one
// transaction, so a mail is never lost between the request that queued it and the SMTP server.
// After the transaction commits, callers may wake the mail worker to send it at once.

import type { Selectable } from 'kysely';
import type { MailStatus, MailsTable } from '../db/schema.js';
import { newId, withTransaction, type DbExecutor } from '../db/util.js';
import { DEFAULT_MAX_ATTEMPTS, enqueueJob } from '../jobs/queue.js';

export const MAIL_QUEUE = 'mail';

/**
 * `noreply`: to the owner, from the noreply address; `pending`: to the pending (new) address of an
 * email change; other modes are free-form labels kept for the record.
 */
export type MailMode = 'noreply' | 'pending' | 'from' | (string & {});

export interface Mail {
  id: string;
  instanceId: string;
  jobId: string | null;
  to: string;
  /** null → the transport's default sender. */
  from: string | null;
  subject: string;
  text: string;
  html: string | null;
  template: string;
  mode: MailMode;
  status: MailStatus;
  /** SMTP deliveries tried (recording without SMTP does not count). */
  attempts: number;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

export interface MailJobPayload {
  mailId: string;
}

export function rowToMail(r: Selectable<MailsTable>): Mail {
  return {
    id: r.id,
    instanceId: r.instance_id,
    jobId: r.job_id,
    to: r.to_addr,
    from: r.from_addr,
    subject: r.subject,
    text: r.text_body,
    html: r.html_body,
    template: r.template,
    mode: r.mode,
    status: r.status,
    attempts: Number(r.attempts),
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    sentAt: r.sent_at === null ? null : Number(r.sent_at),
  };
}

export interface EnqueueMailInput {
  instanceId: string;
  to: string;
  from?: string | null;
  subject: string;
  /** The plain-text part: always present. */
  text: string;
  html?: string | null;
  template: string;
  mode: MailMode;
  maxAttempts?: number;
  now?: number;
}

/**
 * Queues a mail: inserts its row and its `mail` job in one transaction (the caller's when `db` is
 * a transaction). Answers the queued mail.
 */
export async function enqueueMail(db: DbExecutor, input: EnqueueMailInput): Promise<Mail> {
  if (typeof input.text !== 'string') throw new TypeError('a mail needs a text part');
  const now = input.now ?? Date.now();
  const id = newId();
  return withTransaction(db, async (trx) => {
    const job = await enqueueJob<MailJobPayload>(trx, {
      queue: MAIL_QUEUE,
      instanceId: input.instanceId,
      payload: { mailId: id },
      maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      now,
    });
    const row = await trx
      .insertInto('mails')
      .values({
        id,
        instance_id: input.instanceId,
        job_id: job.id,
        to_addr: input.to,
        from_addr: input.from ?? null,
        subject: input.subject,
        text_body: input.text,
        html_body: input.html ?? null,
        template: input.template,
        mode: input.mode,
        status: 'queued',
        attempts: 0,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return rowToMail(row);
  });
}

export async function getMail(db: DbExecutor, id: string): Promise<Mail | null> {
  const row = await db.selectFrom('mails').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? rowToMail(row) : null;
}

/** The mails of an instance, oldest first. */
export async function listMails(db: DbExecutor, instanceId: string): Promise<Mail[]> {
  const rows = await db
    .selectFrom('mails')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(rowToMail);
}
