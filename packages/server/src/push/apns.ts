// Apple Push Notification service (reference §4.2, platform `apns`): HTTP/2 (node:http2) to
// `<url>/3/device/<token>`, token-based authentication (an ES256 JWT {iss: team_id, iat} with
// kid = key_id, renewed every 50 minutes). `https://` URLs use TLS; `http://` URLs use cleartext
// HTTP/2 (h2c), which only a local stand-in of APNs speaks (tests).

import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ApnsConfig } from '../config/config.js';
import type { PushMessage, PushProvider, PushResult } from './router.js';

const REQUEST_TIMEOUT_MS = 10_000;
/** Apple refuses provider tokens older than an hour and rate-limits renewing them more often than every 20 min. */
const JWT_LIFETIME_MS = 50 * 60_000;

export function apnsPayload(message: PushMessage): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(message.data)) if (k !== 'aps' && v !== undefined) payload[k] = v;
  payload.aps = {
    alert: { title: message.title, body: message.body },
    ...(message.sound ? { sound: message.sound } : {}),
  };
  return payload;
}

export function createApnsProvider(config: ApnsConfig | null, opts: { now?: () => number } = {}): PushProvider {
  const now = opts.now ?? Date.now;
  let jwt: { token: string; issuedAt: number } | null = null;

  async function providerToken(c: ApnsConfig): Promise<string> {
    if (jwt && now() - jwt.issuedAt < JWT_LIFETIME_MS) return jwt.token;
    const issuedAt = now();
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: c.keyId })
      .setIssuer(c.teamId)
      .setIssuedAt(Math.floor(issuedAt / 1000))
      .sign(createPrivateKey(c.privateKey));
    jwt = { token, issuedAt };
    return token;
  }

  function request(
    c: ApnsConfig,
    deviceToken: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      let session: ClientHttp2Session;
      try {
        session = connect(c.url);
      } catch (err) {
        reject(err as Error);
        return;
      }
      const timer = setTimeout(() => {
        session.destroy(new Error('APNs request timed out'));
      }, REQUEST_TIMEOUT_MS);
      const finish = (err: Error | null, value?: { status: number; body: string }) => {
        clearTimeout(timer);
        session.close();
        if (err) reject(err);
        else resolve(value!);
      };
      session.once('error', (err) => finish(err));
      const req = session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: `/3/device/${encodeURIComponent(deviceToken)}`,
        'content-type': 'application/json',
        ...headers,
      });
      let status = 0;
      const chunks: Buffer[] = [];
      req.on('response', (h) => {
        status = Number(h[constants.HTTP2_HEADER_STATUS]);
      });
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => finish(null, { status, body: Buffer.concat(chunks).toString('utf8') }));
      req.on('error', (err) => finish(err));
      req.end(body);
    });
  }

  return {
    name: 'apns',
    configured: config !== null,
    async send(deviceToken, message): Promise<PushResult> {
      if (!config) return { kind: 'not_configured' };
      let token: string;
      try {
        token = await providerToken(config);
      } catch (err) {
        return { kind: 'failed', transient: false, detail: `APNs provider token: ${(err as Error).message}` };
      }
      const headers: Record<string, string> = {
        authorization: `bearer ${token}`,
        'apns-topic': config.topic,
        'apns-push-type': 'alert',
        'apns-priority': message.priority === 'high' ? '10' : '5',
      };
      if (message.collapseKey) headers['apns-collapse-id'] = message.collapseKey.slice(0, 64);
      let res: { status: number; body: string };
      try {
        res = await request(config, deviceToken, headers, JSON.stringify(apnsPayload(message)));
      } catch (err) {
        return { kind: 'failed', transient: true, detail: `APNs request failed: ${(err as Error).message}` };
      }
      if (res.status === 200) return { kind: 'sent' };
      let reason = '';
      try {
        const parsed = JSON.parse(res.body) as { reason?: unknown };
        if (typeof parsed.reason === 'string') reason = parsed.reason;
      } catch {
        // no JSON body
      }
      const detail = `APNs answered ${res.status}${reason ? ` ${reason}` : ''}`;
      if (res.status === 410 || (res.status === 400 && (reason === 'BadDeviceToken' || reason === 'Unregistered'))) {
        return { kind: 'unregistered', detail };
      }
      if (res.status === 403 && reason === 'ExpiredProviderToken') jwt = null;
      if (res.status === 429 || res.status >= 500 || reason === 'ExpiredProviderToken') return { kind: 'failed', transient: true, detail };
      return { kind: 'failed', transient: false, detail };
    },
  };
}
