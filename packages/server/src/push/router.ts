// Push routing of notifications (reference §4.2), run by the durable `push` queue.
//
// A `push` job carries one notification and the channel chosen when it was created:
// - `mobile`: the notifiable OAuth clients are reloaded (both notification_platform and
//   notification_device_token, up to 100, newest first, one per device token) and tried in tiers:
//   1. every client that is NOT flagship (the dedicated apps), stopping after 10 successes;
//   2. only when tier 1 reached nobody, the flagship clients (at most 10), the title prefixed
//      with "<name> - " (name = the slug of source_id, replaced by data.appName when it is a string,
//      no prefix when that string is empty);
//   3. only when nobody was reached, the mail fallback (template `notification_fallback`).
//   A provider that is not configured reaches nobody (the next tier is tried); a device that the
//   provider reports as unregistered loses its push registration (notification_platform and
//   notification_device_token are cleared; the OAuth client itself is kept).
// - `mail`: the notification is mailed to the owner (template `notification_fallback`).
//
// Failures: a transient provider error (network, 429, 5xx) fails the job, which the queue retries
// with backoff; on the job's last attempt the next tier is tried instead. Progress (the clients
// already reached, the mail already queued) is recorded on the notification, so a job claimed
// again after a crash or a retry does not push twice to the same device nor mail twice.

import type { Kysely } from 'kysely';
import type { NotificationsConfig } from '../config/config.js';
import type { HearthDb } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { md5Hex, withTransaction, type DbExecutor } from '../db/util.js';
import { errorMessage, silentLogger, type Logger } from '../jobs/logger.js';
import { startWorker, type JobHandler, type Worker } from '../jobs/worker.js';
import { getInstanceById, type Instance } from '../repositories/instances.js';
import { getNotification, updateNotificationDoc, type StoredNotification } from '../repositories/notifications.js';
import { listNotifiableOAuthClients, updateOAuthClient, type OAuthClient } from '../repositories/oauth-clients.js';
import type { SendMailInput } from '../services.js';
import { createApnsProvider } from './apns.js';
import { createFcmProvider } from './fcm.js';

export const PUSH_QUEUE = 'push';
/** Attempts of a push job: 1 s, 2 s, 4 s, 8 s between them, then the next tier. */
export const PUSH_MAX_ATTEMPTS = 5;
/** Successful pushes after which a tier stops. */
export const MAX_PUSHES_PER_TIER = 10;
/** Notifiable clients reloaded by a push job. */
export const MAX_NOTIFIABLE_CLIENTS = 100;

export type PushChannel = 'mobile' | 'mail';

export interface PushJobPayload {
  notificationId: string;
  instanceId: string;
  channel: PushChannel;
  /** The category is collapsible: the push carries a collapse key (md5 of source_id). */
  collapsible?: boolean;
  /** The text of the mail (`message`, or the legacy `content`). */
  mailMessage?: string;
}

export interface PushMessage {
  title: string;
  body: string;
  data: Record<string, unknown>;
  priority?: 'high' | 'normal';
  sound?: string;
  collapseKey?: string;
  notId: number;
}

export type PushResult =
  | { kind: 'sent' }
  | { kind: 'unregistered'; detail: string }
  | { kind: 'not_configured' }
  | { kind: 'failed'; transient: boolean; detail: string };

export interface PushProvider {
  readonly name: string;
  readonly configured: boolean;
  send(deviceToken: string, message: PushMessage, platform: string): Promise<PushResult>;
}

export interface PushProviders {
  fcm: PushProvider;
  apns: PushProvider;
}

export function createPushProviders(config: NotificationsConfig): PushProviders {
  return { fcm: createFcmProvider(config.fcm), apns: createApnsProvider(config.apns) };
}

/** The provider of a client's notification platform, or null (Huawei Push Kit is not supported). */
export function providerFor(providers: PushProviders, platform: string | null): PushProvider | null {
  switch ((platform ?? '').toLowerCase()) {
    case 'firebase':
    case 'android':
    case 'ios':
      return providers.fcm;
    case 'apns':
      return providers.apns;
    default:
      return null;
  }
}

/** The title shown by the flagship apps (reference §4.2 pass 2). */
export function flagshipTitle(title: string, sourceId: string, data: Record<string, unknown> | undefined): string {
  let name = sourceId.split('/')[2] ?? '';
  const appName = data?.appName;
  if (typeof appName === 'string') name = appName;
  return name ? `${name} - ${title}` : title;
}

/** The notifiable clients, newest first, one per device token (the newest keeps it). */
export function dedupeByDeviceToken(clients: OAuthClient[]): OAuthClient[] {
  const seen = new Set<string>();
  const out: OAuthClient[] = [];
  for (const c of clients) {
    const token = c.notificationDeviceToken ?? '';
    if (!token || seen.has(token)) continue;
    seen.add(token);
    out.push(c);
  }
  return out;
}

interface DeliveryProgress {
  /** Client id → the tier that reached it. */
  sent: Record<string, number>;
  /** The mail (fallback or mail channel) is queued. */
  mailed?: boolean;
}

function progressOf(n: StoredNotification): DeliveryProgress {
  const d = n.doc.delivery as Partial<DeliveryProgress> | undefined;
  return { sent: { ...(d?.sent ?? {}) }, ...(d?.mailed ? { mailed: true } : {}) };
}

export interface PushDeps {
  providers: PushProviders;
  /** Queues a mail in the durable outbox (Services.sendMail). */
  sendMail(input: SendMailInput, tx?: DbExecutor): Promise<{ id: string } | null>;
  /** `http(s)://<domain>` of an instance, for the mail. */
  baseUrl?(instance: Instance): string;
  logger?: Logger;
}

export function createPushJobHandler(deps: PushDeps): JobHandler<PushJobPayload> {
  const logger = deps.logger ?? silentLogger;
  return async (job, { db }) => {
    const p = job.payload;
    if (!p?.notificationId || !p.instanceId) return;
    const notification = await getNotification(db, p.instanceId, p.notificationId);
    const instance = notification ? await getInstanceById(db, p.instanceId) : null;
    if (!notification || !instance) {
      logger.warn({ jobId: job.id, notificationId: p.notificationId }, 'push job without its notification, skipped');
      return;
    }
    const log = { jobId: job.id, notificationId: notification.id, instance: instance.domain };
    const lastAttempt = job.attempts >= job.maxAttempts;
    const progress = progressOf(notification);
    const doc = notification.doc;
    const data = isObject(doc.data) ? doc.data : {};
    const title = typeof doc.title === 'string' ? doc.title : '';
    const body = typeof doc.message === 'string' ? doc.message : '';

    const mail = async (): Promise<void> => {
      if (progress.mailed) return;
      await withTransaction(db, async (tx) => {
        const values: Record<string, unknown> = { title };
        const message = p.mailMessage ?? body;
        if (message) values.message = message;
        if (deps.baseUrl) values.BaseURL = deps.baseUrl(instance);
        await deps.sendMail({ instance, template: 'notification_fallback', values }, tx);
        progress.mailed = true;
        await updateNotificationDoc(tx, notification.id, { delivery: progress });
      });
      logger.info({ ...log, channel: p.channel }, 'notification mailed');
    };

    if (p.channel === 'mail') {
      await mail();
      return;
    }

    const message: PushMessage = {
      title,
      body,
      data,
      ...(doc.priority === 'high' || doc.priority === 'normal' ? { priority: doc.priority } : {}),
      ...(typeof doc.sound === 'string' && doc.sound ? { sound: doc.sound } : {}),
      ...(p.collapsible ? { collapseKey: md5Hex(String(doc.source_id ?? '')) } : {}),
      notId: Number.parseInt(md5Hex(p.collapsible ? String(doc.source_id ?? '') : notification.id).slice(0, 7), 16),
    };
    const clients = dedupeByDeviceToken(await listNotifiableOAuthClients(db, instance.id, { limit: MAX_NOTIFIABLE_CLIENTS }));

    const pushTier = async (tier: number, targets: OAuthClient[], msg: PushMessage): Promise<{ sent: number; transient: string[] }> => {
      let sent = targets.filter((c) => progress.sent[c.id] !== undefined).length;
      const transient: string[] = [];
      for (const client of targets) {
        if (sent >= MAX_PUSHES_PER_TIER) break;
        if (progress.sent[client.id] !== undefined) continue;
        const clog = { ...log, tier, clientId: client.id, platform: client.notificationPlatform };
        const provider = providerFor(deps.providers, client.notificationPlatform);
        const result: PushResult = provider
          ? await provider.send(client.notificationDeviceToken ?? '', msg, (client.notificationPlatform ?? '').toLowerCase()).catch(
              (err: unknown): PushResult => ({ kind: 'failed', transient: true, detail: errorMessage(err) }),
            )
          : { kind: 'not_configured' };
        switch (result.kind) {
          case 'sent':
            sent++;
            progress.sent[client.id] = tier;
            await updateNotificationDoc(db, notification.id, { delivery: progress });
            logger.info(clog, 'notification pushed');
            break;
          case 'unregistered':
            await updateOAuthClient(db, instance.id, client.id, { notificationPlatform: null, notificationDeviceToken: null });
            logger.info({ ...clog, detail: result.detail }, 'device unregistered: push registration removed');
            break;
          case 'not_configured':
            logger.warn(clog, 'push provider not configured: device skipped');
            break;
          case 'failed':
            logger.warn({ ...clog, detail: result.detail, transient: result.transient }, 'push failed');
            if (result.transient) transient.push(result.detail);
            break;
        }
      }
      return { sent, transient };
    };

    // Tier 1: the dedicated apps.
    const t1 = await pushTier(1, clients.filter((c) => !c.flagship), message);
    if (t1.transient.length && !lastAttempt) throw new Error(`transient push failures (tier 1): ${t1.transient.join('; ')}`);
    if (t1.sent > 0) return;

    // Tier 2: the flagship apps, with the app name in the title.
    const t2 = await pushTier(2, clients.filter((c) => c.flagship), { ...message, title: flagshipTitle(title, String(doc.source_id ?? ''), data) });
    if (t2.transient.length && !lastAttempt) throw new Error(`transient push failures (tier 2): ${t2.transient.join('; ')}`);
    if (t2.sent > 0) return;

    // Tier 3: the mail fallback.
    await mail();
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Starts the worker of the `push` queue. */
export function startPushWorker(opts: PushDeps & {
  db: Kysely<Database> | HearthDb;
  concurrency?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
  workerId?: string;
}): Worker {
  return startWorker<PushJobPayload>({
    db: opts.db,
    queue: PUSH_QUEUE,
    handler: createPushJobHandler(opts),
    concurrency: opts.concurrency ?? 2,
    pollIntervalMs: opts.pollIntervalMs,
    leaseMs: opts.leaseMs,
    logger: opts.logger,
    workerId: opts.workerId,
  });
}
