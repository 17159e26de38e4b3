// Firebase Cloud Messaging, HTTP v1 API (reference §4.2, platform `firebase` and the legacy
// `android`/`ios`): `POST <url>/v1/projects/<project_id>/messages:send` with an OAuth2 access
// token obtained from the service account (JWT bearer grant, RS256, RFC 7523).

import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import type { FcmConfig } from '../config/config.js';
import type { PushMessage, PushProvider, PushResult } from './router.js';

const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const REQUEST_TIMEOUT_MS = 10_000;
/** A cached access token is renewed this long before it expires. */
const TOKEN_MARGIN_MS = 60_000;

interface ServiceAccount {
  clientEmail: string;
  privateKey: string;
  privateKeyId: string | undefined;
  projectId: string;
  tokenUrl: string;
}

function serviceAccountOf(config: FcmConfig | null): ServiceAccount | null {
  if (!config?.credentials) return null;
  const c = config.credentials;
  const clientEmail = typeof c.client_email === 'string' ? c.client_email : '';
  const privateKey = typeof c.private_key === 'string' ? c.private_key : '';
  if (!clientEmail || !privateKey || !config.projectId || !config.tokenUrl) return null;
  return {
    clientEmail,
    privateKey,
    privateKeyId: typeof c.private_key_id === 'string' ? c.private_key_id : undefined,
    projectId: config.projectId,
    tokenUrl: config.tokenUrl,
  };
}

/** A transient failure (network, 429, 5xx): the job is retried with backoff. */
function transient(detail: string): PushResult {
  return { kind: 'failed', transient: true, detail };
}

function permanent(detail: string): PushResult {
  return { kind: 'failed', transient: false, detail };
}

/** The Android data payload: notId, title, body and every `data` key, all as strings. */
export function fcmData(message: PushMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.data)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  out.notId = String(message.notId);
  out.title = message.title;
  out.body = message.body;
  return out;
}

export function createFcmProvider(config: FcmConfig | null, opts: { now?: () => number } = {}): PushProvider {
  const account = serviceAccountOf(config);
  const now = opts.now ?? Date.now;
  let cached: { token: string; expiresAt: number } | null = null;
  let pending: Promise<string> | null = null;

  async function fetchAccessToken(sa: ServiceAccount): Promise<string> {
    const iat = Math.floor(now() / 1000);
    const key = createPrivateKey(sa.privateKey);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(sa.privateKeyId ? { kid: sa.privateKeyId } : {}) })
      .setIssuer(sa.clientEmail)
      .setSubject(sa.clientEmail)
      .setAudience(sa.tokenUrl)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(key);
    const res = await fetch(sa.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await res.json().catch(() => null)) as { access_token?: unknown; expires_in?: unknown } | null;
    if (!res.ok || typeof body?.access_token !== 'string') {
      const err = new Error(`FCM token endpoint answered ${res.status}`) as Error & { status: number };
      err.status = res.status;
      throw err;
    }
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : 3600_000;
    cached = { token: body.access_token, expiresAt: now() + expiresIn };
    return body.access_token;
  }

  async function accessToken(sa: ServiceAccount): Promise<string> {
    if (cached && cached.expiresAt - TOKEN_MARGIN_MS > now()) return cached.token;
    pending ??= fetchAccessToken(sa).finally(() => {
      pending = null;
    });
    return pending;
  }

  return {
    name: 'fcm',
    configured: account !== null,
    async send(deviceToken, message, platform): Promise<PushResult> {
      if (!account) return { kind: 'not_configured' };
      let token: string;
      try {
        token = await accessToken(account);
      } catch (err) {
        const status = (err as { status?: number }).status;
        const detail = `FCM access token: ${(err as Error).message}`;
        // A rejected service account will not get better by retrying; the endpoint being down may.
        return status !== undefined && status >= 400 && status < 500 && status !== 429 ? permanent(detail) : transient(detail);
      }
      const fcmMessage: Record<string, unknown> = {
        token: deviceToken,
        data: fcmData(message),
        android: {
          priority: message.priority === 'high' ? 'HIGH' : 'NORMAL',
          ...(message.collapseKey ? { collapse_key: message.collapseKey } : {}),
        },
      };
      // The legacy iOS apps registered through FCM need a visible notification.
      if (platform === 'ios') fcmMessage.notification = { title: message.title, body: message.body };
      const url = `${config!.url.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(account.projectId)}/messages:send`;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ message: fcmMessage }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (err) {
        return transient(`FCM request failed: ${(err as Error).message}`);
      }
      if (res.ok) {
        await res.arrayBuffer().catch(() => undefined);
        return { kind: 'sent' };
      }
      const text = await res.text().catch(() => '');
      const errorCode = fcmErrorCode(text);
      const detail = `FCM answered ${res.status}${errorCode ? ` ${errorCode}` : ''}`;
      if (res.status === 404 || errorCode === 'UNREGISTERED') return { kind: 'unregistered', detail };
      if (res.status === 401) cached = null; // the access token may have been revoked: get a new one next time
      if (res.status === 429 || res.status >= 500 || errorCode === 'UNAVAILABLE' || errorCode === 'INTERNAL' || errorCode === 'QUOTA_EXCEEDED') {
        return transient(detail);
      }
      return permanent(detail);
    },
  };
}

/** `error.details[].errorCode` of an FCM v1 error (UNREGISTERED, INVALID_ARGUMENT, …), else `error.status`. */
function fcmErrorCode(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: { status?: unknown; details?: { errorCode?: unknown }[] } };
    const detail = body.error?.details?.find((d) => typeof d?.errorCode === 'string');
    if (detail) return detail.errorCode as string;
    return typeof body.error?.status === 'string' ? body.error.status : undefined;
  } catch {
    return undefined;
  }
}
