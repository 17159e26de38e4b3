// Browser sessions (reference §0.5): opening one (server-side document, login history entry and
// the Set-Cookie header), and closing them.
import type { Request } from 'express';
import type { HearthConfig } from '../config/config.js';
import type { DbExecutor } from '../db/util.js';
import { sessionCookieName } from '../http/auth.js';
import type { Instance } from '../repositories/instances.js';
import { insertLoginHistory } from '../repositories/login-history.js';
import { createSession, deleteSession, type Session } from '../repositories/sessions.js';
import {
  clearCookie,
  cookieDomain,
  encodeSessionCookie,
  serializeSessionCookie,
  sessionSecretKey,
  SessionDuration,
} from '../security/index.js';

export { SessionDuration };

export interface OpenSessionInput {
  duration: SessionDuration;
  /** How the user logged in, for the login history (`password`, `registration`, `magic_link`, `session_code`, `flagship`, `oidc`, `JWT`…); null: no history entry. */
  method: string | null;
  /** The request, for the IP address and User-Agent of the history entry. */
  req?: Request;
  clientRegistration?: boolean;
  sid?: string | null;
  now?: number;
}

export interface OpenedSession {
  session: Session;
  /** The `Set-Cookie` header value. */
  cookie: string;
  /** `name=value`, as a client sends it back in `Cookie`. */
  cookiePair: string;
}

export function sessionCookieFor(config: HearthConfig, instance: Instance, session: Pick<Session, 'id'>, duration: SessionDuration, now?: number) {
  const name = sessionCookieName(config, instance);
  const value = encodeSessionCookie(name, session.id, sessionSecretKey(instance.sessionSecret), now);
  return {
    cookie: serializeSessionCookie(name, value, {
      domain: cookieDomain(instance.domain, { flatSubdomains: config.subdomains === 'flat' }),
      secure: config.secureCookies,
      duration,
    }),
    cookiePair: `${name}=${value}`,
  };
}

export async function openSession(db: DbExecutor, config: HearthConfig, instance: Instance, input: OpenSessionInput): Promise<OpenedSession> {
  const now = input.now ?? Date.now();
  const session = await createSession(db, {
    instanceId: instance.id,
    longRun: input.duration === SessionDuration.LongRun,
    shortRun: input.duration === SessionDuration.ShortRun,
    sid: input.sid ?? null,
    now,
  });
  if (input.method) {
    const ua = input.req?.headers['user-agent'] ?? null;
    const forwarded = input.req?.headers['x-forwarded-for'];
    const ip = (typeof forwarded === 'string' ? forwarded.split(',')[0]?.trim() : undefined) ?? input.req?.socket.remoteAddress ?? null;
    await insertLoginHistory(db, {
      instanceId: instance.id,
      sessionId: session.id,
      method: input.method,
      ip,
      userAgent: ua,
      os: ua ? osOf(ua) : null,
      browser: ua ? browserOf(ua) : null,
      clientRegistration: input.clientRegistration ?? false,
      createdAt: now,
    });
  }
  return { session, ...sessionCookieFor(config, instance, session, input.duration, now) };
}

/** The duration a session was opened with (to keep it when a cookie is re-issued). */
export function durationOf(session: Pick<Session, 'longRun' | 'shortRun'>): SessionDuration {
  return session.longRun ? SessionDuration.LongRun : session.shortRun ? SessionDuration.ShortRun : SessionDuration.NormalRun;
}

/** Deletes a session and answers the `Set-Cookie` header that clears the cookie. */
export async function closeSession(db: DbExecutor, config: HearthConfig, instance: Instance, sessionId: string): Promise<string> {
  await deleteSession(db, instance.id, sessionId);
  return clearSessionCookie(config, instance);
}

export function clearSessionCookie(config: HearthConfig, instance: Instance): string {
  return clearCookie(sessionCookieName(config, instance), {
    domain: cookieDomain(instance.domain, { flatSubdomains: config.subdomains === 'flat' }),
    secure: config.secureCookies,
  });
}

/** A mobile browser (the onboarding then proposes the flagship app). */
export function isMobileUserAgent(ua: string | undefined): boolean {
  return Boolean(ua && /Android|iPhone|iPad|iPod|Mobile/i.test(ua));
}

export function osOf(ua: string): string {
  if (/Android/i.test(ua)) return 'Android';
  if (/iPhone|iPad|iPod/i.test(ua)) return 'iOS';
  if (/Mac OS X|Macintosh/i.test(ua)) return 'macOS';
  if (/Windows/i.test(ua)) return 'Windows';
  if (/Linux/i.test(ua)) return 'Linux';
  return 'Unknown';
}

export function browserOf(ua: string): string {
  if (/Edg\//.test(ua)) return 'Edge';
  if (/Firefox\//.test(ua)) return 'Firefox';
  if (/Chrome\/|Chromium\//.test(ua)) return 'Chrome';
  if (/Safari\//.test(ua)) return 'Safari';
  return 'Unknown';
}
