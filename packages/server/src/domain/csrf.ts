// CSRF protection of the `/auth` forms (reference §0.9): the page that carries a form sets the
// cookie `_csrf` (32 random characters, Path=/auth, Max-Age=3600, HttpOnly, Secure per config,
// SameSite=Strict) and puts the same value in the form's hidden `csrf_token` field; the POST must
// echo it.
//
//   const csrf = issueCsrf(ctx.services.config, request.cookies);   // on the GET page
//   headers: { 'Set-Cookie': [csrf.cookie] }, page data: { csrfToken: csrf.token }
//   verifyCsrf(request.cookies, form.csrf_token);                    // first thing on the POST
import type { HearthConfig } from '../config/config.js';
import { negotiatedError } from '../http/errors.js';
import { randomAlnum, serializeCookie } from '../security/index.js';

export const CSRF_COOKIE = '_csrf';
export const CSRF_FIELD = 'csrf_token';
export const CSRF_MAX_AGE_SECONDS = 3600;
const TOKEN = /^[A-Za-z0-9]{32}$/;

/** The `Set-Cookie` header value for a CSRF token. */
export function csrfCookie(config: HearthConfig, token: string): string {
  return serializeCookie(CSRF_COOKIE, token, {
    path: '/auth',
    maxAge: CSRF_MAX_AGE_SECONDS,
    httpOnly: true,
    secure: config.secureCookies,
    sameSite: 'Strict',
  });
}

/**
 * The CSRF token of a page and its `Set-Cookie` header. A well-formed `_csrf` cookie already sent
 * by the browser keeps its value (several tabs keep working) and gets a fresh Max-Age.
 */
export function issueCsrf(config: HearthConfig, cookies: Record<string, string | undefined> = {}): { token: string; cookie: string } {
  const existing = cookies[CSRF_COOKIE];
  const token = existing && TOKEN.test(existing) ? existing : randomAlnum(32);
  return { token, cookie: csrfCookie(config, token) };
}

/**
 * Checks the form field against the cookie. Missing field → 400 "missing csrf token in the form
 * parameter"; missing cookie or different value → 403 "invalid csrf token" (both negotiated on
 * Accept, as the reference's echo errors).
 */
export function verifyCsrf(cookies: Record<string, string | undefined>, formToken: unknown): void {
  if (typeof formToken !== 'string' || formToken === '') throw negotiatedError(400, 'missing csrf token in the form parameter');
  const cookie = cookies[CSRF_COOKIE];
  if (!cookie || !constantTimeEqual(cookie, formToken)) throw negotiatedError(403, 'invalid csrf token');
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
