// The long-lived services of a Hearth process: configuration, logger, database, mail delivery.
// Created once at start, shared by the public app, the admin app, the CLI and the tests.
import type { Kysely } from 'kysely';
import type { HearthConfig } from './config/config.js';
import { migrateToLatest } from './db/migrate.js';
import { openDatabase, type HearthDb } from './db/database.js';
import type { Database } from './db/schema.js';
import type { DbExecutor } from './db/util.js';
import type { Logger } from './log.js';
import { enqueueMail, type MailMode } from './mail/outbox.js';
import { renderMail } from './mail/templates.js';
import { createMailTransport, type MailTransport } from './mail/transport.js';
import { startMailWorker } from './mail/worker.js';
import type { Worker } from './jobs/worker.js';
import type { Instance } from './repositories/instances.js';
import { getSettings } from './repositories/settings.js';
import { startOAuthCleanup, type OAuthCleanup } from './domain/oauth-cleanup.js';
import { closeAmqp } from './domain/amqp.js';
import { instanceBaseUrl } from './config/config.js';
import { PUSH_QUEUE, createPushProviders, startPushWorker } from './push/router.js';

export type MailTemplate = Parameters<typeof renderMail>[0];

export interface SendMailInput {
  instance: Instance;
  template: MailTemplate;
  values: Record<string, unknown>;
  /** `noreply` (to the owner's email), `pending` (to the pending email), or an explicit address. */
  to?: string;
  mode?: MailMode;
}

export interface Services {
  config: HearthConfig;
  logger: Logger;
  database: HearthDb;
  db: Kysely<Database>;
  /** The clock, in epoch milliseconds (tests may replace it). */
  now(): number;
  /** Renders a mail template and puts it in the durable outbox (in `tx` when given). */
  sendMail(input: SendMailInput, tx?: DbExecutor): Promise<{ id: string } | null>;
  /** Starts the background workers (mail delivery, push notifications). */
  startWorkers(): void;
  /** Tells the worker of a queue (`push`) that a job was just queued (no-op when none runs here). */
  wakeQueue(queue: string): void;
  /** Stops the workers (letting current jobs finish) and closes the database. */
  close(): Promise<void>;
}

export async function createServices(
  config: HearthConfig,
  logger: Logger,
  opts: { migrate?: boolean; /** PostgreSQL schema (tests isolate themselves with one). */ databaseSchema?: string } = {},
): Promise<Services> {
  const database = await openDatabase({
    url: config.database.kind === 'postgres' ? config.database.url : undefined,
    dataDir: config.dataDir,
    sqliteFile: config.database.kind === 'sqlite' ? config.database.path : undefined,
    schema: opts.databaseSchema,
    onPoolError: (err) => logger.error({ err }, 'idle PostgreSQL connection error'),
  });
  if (opts.migrate !== false) {
    const { applied } = await migrateToLatest(database);
    if (applied.length) logger.info({ applied }, 'database migrated');
  }
  const transport: MailTransport = createMailTransport({ smtpUrl: config.mail.smtpUrl ?? undefined, from: config.mail.from, logger });
  let mailWorker: Worker | null = null;
  let oauthCleanup: OAuthCleanup | null = null;
  let pushWorker: Worker | null = null;

  const services: Services = {
    config,
    logger,
    database,
    db: database.kysely,
    now: () => Date.now(),
    async sendMail(input, tx) {
      const { instance } = input;
      let to = input.to;
      if (!to) {
        const settings = await getSettings(tx ?? database.kysely, instance.id);
        const doc = settings?.doc ?? {};
        const key = input.mode === 'pending' ? 'pending_email' : 'email';
        to = typeof doc[key] === 'string' ? (doc[key] as string) : undefined;
      }
      if (!to) {
        logger.warn({ instance: instance.domain, template: input.template }, 'mail not sent: the instance has no email address');
        return null;
      }
      const rendered = renderMail(input.template, input.values as never, { locale: instance.locale });
      const mail = await enqueueMail(tx ?? database.kysely, {
        instanceId: instance.id,
        to,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        template: input.template,
        mode: input.mode ?? 'noreply',
      });
      mailWorker?.wake();
      return { id: mail.id };
    },
    startWorkers() {
      mailWorker ??= startMailWorker({ db: database, transport, logger });
      oauthCleanup ??= startOAuthCleanup({ db: database.kysely, logger, now: () => services.now() });
      pushWorker ??= startPushWorker({
        db: database,
        providers: createPushProviders(config.notifications),
        sendMail: (input, tx) => services.sendMail(input, tx),
        baseUrl: (instance) => instanceBaseUrl(config, instance.domain),
        logger,
      });
    },
    wakeQueue(queue) {
      if (queue === PUSH_QUEUE) pushWorker?.wake();
    },
    async close() {
      await mailWorker?.stop();
      mailWorker = null;
      await oauthCleanup?.stop();
      oauthCleanup = null;
      await pushWorker?.stop();
      pushWorker = null;
      transport.close();
      await closeAmqp();
      await database.close();
    },
  };
  return services;
}
