// POST /notifications (reference §4.1, §4.2 channel selection): who may notify, where the
// category comes from, stateful categories, storage, and the queuing of the delivery job (the
// push tiers and the mail fallback run in src/push/router.ts).

import { canonicalJson, withTransaction } from '../db/util.js';
import type { components } from '../generated/public-api.gen.js';
import { jsonApiError, jsonBodyError } from '../http/errors.js';
import type { Permission } from '../http/auth.js';
import { enqueueJob } from '../jobs/queue.js';
import { getApp } from '../repositories/apps.js';
import type { Instance } from '../repositories/instances.js';
import { insertNotification, lastNotificationBySource, type StoredNotification } from '../repositories/notifications.js';
import { listNotifiableOAuthClients } from '../repositories/oauth-clients.js';
import { parseDuration } from '../config/values.js';
import { PUSH_MAX_ATTEMPTS, PUSH_QUEUE, type PushJobPayload } from '../push/router.js';
import type { Services } from '../services.js';
import { managerTosPage } from './manager.js';
import { tosVersion, warningsOf } from './instance-settings.js';

export type Originator = 'app' | 'konnector' | 'oauth';
export type Channel = 'mobile' | 'mail' | 'sms';

/** The attributes of the request body and of the answer, as the contract defines them. */
export type NotificationInput = components['schemas']['NotificationInput'];
export type NotificationAttributes = components['schemas']['Notification'];

export interface CreatedNotification {
  /** Null for a stateful duplicate (nothing stored). */
  stored: StoredNotification | null;
  attributes: NotificationAttributes;
  /** The channel whose job was queued, or null when nothing is sent. */
  channel: 'mobile' | 'mail' | null;
}

interface CategoryProps {
  stateful?: boolean;
  collapsible?: boolean;
  default_priority?: string;
  min_interval?: string;
  templates?: Record<string, unknown>;
}

const CHANNELS: readonly Channel[] = ['mobile', 'mail', 'sms'];

function notValid(): never {
  throw jsonApiError(400, 'Notification is not valid');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reference §0.1 CheckTOSDeadlineExpired: the latest terms are not signed and their date has
 * passed → 402 with the instance's warnings, or (for a client asking for HTML) a redirection to
 * the manager's terms page. Answers that page, or null when the route may go on.
 */
export async function checkTosDeadline(services: Services, instance: Instance, now: number, accept: string | undefined): Promise<string | null> {
  const latest = instance.tosLatest;
  if (!latest) return null;
  if (instance.tos && tosVersion(instance.tos) === tosVersion(latest)) return null;
  const m = /^[^-]*-(\d{4})(\d{2})(\d{2})$/.exec(latest);
  if (!m) return null;
  const deadline = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(deadline) || now < deadline) return null;
  const a = accept ?? '';
  if (a.includes('text/html') && !a.includes('json')) {
    const page = managerTosPage(services.config, instance);
    if (page) return page;
  }
  throw jsonBodyError(402, await warningsOf(services, instance, now), 'Terms of services have been updated');
}

/** The sender and its categories (reference §4.1 "Where the category properties come from"). */
async function senderOf(
  services: Services,
  instance: Instance,
  perm: Permission,
): Promise<{ originator: Originator; slug: string; categories: Record<string, unknown> }> {
  switch (perm.kind) {
    case 'app':
      return { originator: 'app', slug: perm.app?.slug ?? '', categories: perm.app?.notifications ?? {} };
    case 'konnector':
      // The konnector's own manifest (the reference derives the slug wrongly and answers 500).
      return { originator: 'konnector', slug: perm.app?.slug ?? '', categories: perm.app?.notifications ?? {} };
    case 'oauth': {
      const client = perm.client;
      if (!client) throw jsonApiError(403, 'Not authorized to send notification');
      if (client.softwareId.startsWith('registry://')) {
        const slug = client.softwareId.slice('registry://'.length);
        const app = slug ? await getApp(services.db, instance.id, slug, 'webapp') : null;
        if (!app) throw jsonApiError(404, 'Application is not installed');
        return { originator: 'oauth', slug, categories: app.notifications };
      }
      const registered = client.metadata.notifications;
      return { originator: 'oauth', slug: '', categories: isObject(registered) ? registered : {} };
    }
    default:
      throw jsonApiError(403, 'Not authorized to send notification');
  }
}

export async function createNotification(
  services: Services,
  instance: Instance,
  perm: Permission,
  input: NotificationInput,
  now: number,
): Promise<CreatedNotification> {
  const sender = await senderOf(services, instance, perm);

  // Validation (the contract's schema already refuses most of these).
  const title = typeof input.title === 'string' ? input.title : '';
  if (title.trim() === '') notValid();
  if (input.priority !== undefined && input.priority !== 'high' && input.priority !== 'normal') notValid();
  const preferred = input.preferred_channels ?? [];
  if (!Array.isArray(preferred) || preferred.some((c) => !(CHANNELS as readonly string[]).includes(c))) notValid();
  let at: number | null = null;
  if (input.at !== undefined) {
    at = Date.parse(input.at);
    if (Number.isNaN(at)) notValid();
  }

  if (Object.keys(sender.categories).length === 0) throw jsonApiError(403, 'No category for this app');
  const category = input.category ?? '';
  const rawProps = Object.prototype.hasOwnProperty.call(sender.categories, category) ? sender.categories[category] : undefined;
  if (rawProps === undefined) throw jsonApiError(403, 'Notification category does not exist');
  const props: CategoryProps = isObject(rawProps) ? (rawProps as CategoryProps) : {};

  const categoryId = input.category_id ?? '';
  const sourceId = `cozy/${sender.originator}/${sender.slug}/${category}/${categoryId}`;
  const priority =
    input.priority === 'high' || input.priority === 'normal'
      ? input.priority
      : props.default_priority === 'high' || props.default_priority === 'normal'
        ? props.default_priority
        : undefined;

  const doc: Record<string, unknown> = {
    source_id: sourceId,
    originator: sender.originator,
    slug: sender.slug,
    category,
    ...(input.category_id !== undefined ? { category_id: input.category_id } : {}),
    title,
    ...(input.message !== undefined ? { message: input.message } : {}),
    ...(priority ? { priority } : {}),
    ...(input.sound !== undefined ? { sound: input.sound } : {}),
    ...(input.state !== undefined ? { state: input.state } : {}),
    ...(input.data !== undefined ? { data: input.data } : {}),
  };
  const attributesOf = (createdAt: number, lastSent: number): NotificationAttributes =>
    ({ ...doc, created_at: new Date(createdAt).toISOString(), last_sent: new Date(lastSent).toISOString() }) as unknown as NotificationAttributes;

  // Channels (reference §4.2): the preferred ones, then mail.
  const channels: Channel[] = [...(preferred as Channel[])];
  if (!channels.includes('mail')) channels.push('mail');
  const mailMessage = input.message ?? input.content ?? input.content_html;
  const hasMail = typeof props.templates?.mail === 'string' || input.content !== undefined || input.content_html !== undefined;

  const result = await withTransaction(services.db, async (tx): Promise<CreatedNotification> => {
    let send = true;
    let lastSent = now;
    if (props.stateful) {
      const last = await lastNotificationBySource(tx, instance.id, sourceId);
      if (last && canonicalJson(last.state ?? null) === canonicalJson(input.state ?? null)) {
        return { stored: null, attributes: attributesOf(now, now), channel: null };
      }
      if (input.state === false || input.state === 0) send = false;
      const interval = props.min_interval ? parseDuration(props.min_interval) : undefined;
      if (send && last && last.lastSent !== null && interval && interval > 0 && now - last.lastSent < interval) {
        send = false;
        lastSent = last.lastSent;
      }
    }
    const stored = await insertNotification(tx, {
      instanceId: instance.id,
      sourceId,
      doc,
      state: input.state ?? null,
      createdAt: now,
      lastSent,
    });
    let channel: 'mobile' | 'mail' | null = null;
    if (send) {
      for (const c of channels) {
        if (c === 'mobile') {
          const notifiable = await listNotifiableOAuthClients(tx, instance.id, { limit: 1 });
          if (notifiable.length > 0) channel = 'mobile';
        } else if (c === 'mail') {
          if (hasMail) channel = 'mail';
        }
        // `sms`: Hearth has no SMS gateway, the channel always fails.
        if (channel) break;
      }
    }
    if (channel) {
      const payload: PushJobPayload = {
        notificationId: stored.id,
        instanceId: instance.id,
        channel,
        ...(props.collapsible ? { collapsible: true } : {}),
        ...(mailMessage !== undefined ? { mailMessage } : {}),
      };
      await enqueueJob(tx, {
        queue: PUSH_QUEUE,
        instanceId: instance.id,
        payload,
        maxAttempts: PUSH_MAX_ATTEMPTS,
        runAt: at !== null && at > now ? at : now,
        now,
      });
    }
    return { stored, attributes: attributesOf(stored.createdAt, stored.lastSent ?? lastSent), channel };
  });
  if (result.channel) services.wakeQueue(PUSH_QUEUE);
  return result;
}
