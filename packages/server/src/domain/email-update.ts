// Changing the owner's email address (reference §2.3): the new address waits as `pending_email`
// in the settings document until the link mailed to it is opened by the logged-in owner.
//
// Token: 32 alphanumeric characters, stored as a code of kind `email_update` (7 days) whose data
// is the pending address it was sent to: a later request for another address makes it useless.
import { clouderyConfig } from '../config/config.js';
import { withTransaction, type DbExecutor } from '../db/util.js';
import { jsonApiError } from '../http/errors.js';
import type { RequestContext } from '../http/context.js';
import { CODE_TTL_MS, getCode, putCode } from '../repositories/codes.js';
import type { Instance } from '../repositories/instances.js';
import { getSettings, updateSettings } from '../repositories/settings.js';
import { randomAlnum } from '../security/index.js';
import type { Services } from '../services.js';
import { checkOwnerPassphrase, invalidPassphrase, publicNameOf } from './account.js';
import { settingsAppUrl } from './apps-urls.js';

/** A well-formed address: `local@domain`, no spaces or control characters, a dotted or simple domain. */
const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+$/;

export function isValidEmail(email: string): boolean {
  return email.length <= 254 && EMAIL.test(email) && !/[\x00-\x1f\x7f]/.test(email) && !email.endsWith('.') && !email.includes('@.');
}

interface EmailUpdateCode {
  email: string;
}

function confirmationLink(ctx: RequestContext, token: string): string {
  return `${ctx.baseUrl}/settings/email/confirm?token=${encodeURIComponent(token)}`;
}

/** Creates a token for `email` and queues the `update_email` mail to it (in `tx`). */
async function sendConfirmation(ctx: RequestContext, tx: DbExecutor, email: string): Promise<void> {
  const token = randomAlnum(32);
  await putCode(tx, ctx.instance.id, 'email_update', token, { email } satisfies EmailUpdateCode, CODE_TTL_MS.email_update, ctx.now);
  await ctx.services.sendMail(
    {
      instance: ctx.instance,
      template: 'update_email',
      values: { PublicName: await publicNameOf(tx, ctx.instance), BaseURL: ctx.baseUrl, EmailUpdateLink: confirmationLink(ctx, token) },
      to: email,
      mode: 'pending',
    },
    tx,
  );
}

/** POST /settings/email. */
export async function requestEmailUpdate(ctx: RequestContext, passphrase: string, email: string): Promise<void> {
  if (ctx.contextConfig.signupUrl) throw jsonApiError(403, 'email is managed externally');
  if (!(await checkOwnerPassphrase(ctx, passphrase))) throw invalidPassphrase(400);
  const address = email.trim();
  if (!isValidEmail(address)) throw jsonApiError(422, 'The email address is not valid', { title: 'Invalid Parameter', parameter: 'email' });
  await withTransaction(ctx.services.db, async (tx) => {
    await updateSettings(tx, ctx.instance.id, (doc) => ({ ...doc, pending_email: address }));
    await sendConfirmation(ctx, tx, address);
  });
}

/** POST /settings/email/resend. */
export async function resendEmailUpdate(ctx: RequestContext): Promise<void> {
  await withTransaction(ctx.services.db, async (tx) => {
    const doc = (await getSettings(tx, ctx.instance.id))?.doc ?? {};
    const pending = doc.pending_email;
    if (typeof pending !== 'string' || !pending) throw jsonApiError(400, 'no pending email');
    await sendConfirmation(ctx, tx, pending);
  });
}

/** DELETE /settings/email: a no-op when nothing is pending. */
export async function cancelEmailUpdate(ctx: RequestContext): Promise<void> {
  const current = await getSettings(ctx.services.db, ctx.instance.id);
  if (current?.doc.pending_email === undefined || current.doc.pending_email === null) return;
  await updateSettings(ctx.services.db, ctx.instance.id, (doc) => ({ ...doc, pending_email: null }));
}

/**
 * GET /settings/email/confirm: when the token is valid and its address is still the pending one,
 * the address becomes the owner's email. Answers the settings app URL, or null for a bad link.
 */
export async function confirmEmailUpdate(ctx: RequestContext, token: string | undefined): Promise<string | null> {
  if (!token) return null;
  const code = await getCode<EmailUpdateCode>(ctx.services.db, ctx.instance.id, 'email_update', token, ctx.now);
  const email = code?.data?.email;
  if (typeof email !== 'string') return null;
  let confirmed = false;
  const saved = await updateSettings(ctx.services.db, ctx.instance.id, (doc) => {
    if (doc.pending_email !== email) return doc;
    confirmed = true;
    return { ...doc, email, pending_email: null };
  });
  if (!confirmed) return null;
  const publicName = typeof saved.doc.public_name === 'string' ? saved.doc.public_name : null;
  await pushToCloudery(ctx.services, ctx.instance, { email, public_name: publicName, locale: ctx.instance.locale });
  return settingsAppUrl(ctx.services.config, ctx.instance.domain);
}

/**
 * Best effort: tells the cloudery of the instance context about the owner's new address
 * (`PUT <cloudery api>/api/admin/instances/<uuid>` with its bearer token). Failures are logged.
 */
export async function pushToCloudery(
  services: Services,
  instance: Instance,
  fields: { email?: string | null; public_name?: string | null; locale?: string | null },
): Promise<boolean> {
  const cloudery = clouderyConfig(services.config, instance.context);
  if (!cloudery || !instance.uuid) return false;
  const url = `${cloudery.api.url.replace(/\/+$/, '')}/api/admin/instances/${encodeURIComponent(instance.uuid)}`;
  const body: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (typeof v === 'string' && v) body[k] = v;
  try {
    const res = await fetch(url, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${cloudery.api.token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) {
      services.logger.warn({ instance: instance.domain, status: res.status }, 'the cloudery refused the instance update');
      return false;
    }
    return true;
  } catch (err) {
    services.logger.warn({ instance: instance.domain, err: err instanceof Error ? err.message : String(err) }, 'the cloudery could not be reached');
    return false;
  }
}
