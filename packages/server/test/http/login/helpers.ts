// Shared helpers of the browser login tests: a tiny cookie jar, the CSRF token of a page, mails.
import { getLoginPage, hashPassphrase } from '@hearth/client';
import type { Instance } from '../../../src/repositories/instances.js';
import type { TestServer } from '../../helpers/server.js';

export const ITERATIONS = 50_000;
export const PASSWORD = 'correct horse battery staple';
export const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';

/** The client-side hash of a password for an instance (as the login page computes it). */
export const hashFor = (instance: Pick<Instance, 'domain'>, password = PASSWORD, iterations = ITERATIONS) => hashPassphrase(password, instance.domain, iterations);

/** The Set-Cookie header of a response for one cookie name, or undefined. */
export function setCookie(response: Response, name: string): string | undefined {
  return response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
}

/** `name=value` of a Set-Cookie header for one cookie name, or undefined. */
export function cookiePair(response: Response, name: string): string | undefined {
  return setCookie(response, name)?.split(';')[0];
}

/** The value of the hidden `csrf_token` field of a page. */
export function csrfTokenOf(html: string): string | undefined {
  return /name="csrf_token" value="([^"]*)"/.exec(html)?.[1];
}

/** The value of a hidden field of a page. */
export function hiddenField(html: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
}

export interface BrowserForm {
  /** `_csrf=…` as the browser sends it back. */
  csrfCookie: string;
  csrfToken: string;
  html: string;
}

/** GET /auth/login like a browser: the CSRF cookie and the token of the form. */
export async function openLoginPage(server: TestServer, domain: string, opts: { query?: Record<string, string>; cookie?: string } = {}): Promise<BrowserForm> {
  const res = await getLoginPage({
    client: server.client(domain, { headers: { Accept: 'text/html', 'User-Agent': UA, ...(opts.cookie ? { Cookie: opts.cookie } : {}) } }),
    query: opts.query as never,
    parseAs: 'text',
  });
  if (res.response.status !== 200) throw new Error(`login page: ${res.response.status}`);
  const html = res.data as unknown as string;
  const csrfCookie = cookiePair(res.response, '_csrf');
  const csrfToken = csrfTokenOf(html);
  if (!csrfCookie || !csrfToken) throw new Error('no CSRF token on the login page');
  return { csrfCookie, csrfToken, html };
}

/** Joins cookie pairs into a Cookie header. */
export function cookies(...pairs: (string | undefined)[]): string {
  return pairs.filter((p): p is string => Boolean(p)).join('; ');
}

/** The mails of a template sent to an instance, oldest first. */
export async function mailsOf(server: TestServer, instance: Instance, template: string) {
  return (await server.mails(instance)).filter((m) => m.template === template);
}

/** The 6-digit passcode of the last `two_factor` mail. */
export async function lastPasscode(server: TestServer, instance: Instance): Promise<string> {
  const mails = await mailsOf(server, instance, 'two_factor');
  const last = mails.at(-1);
  const code = last && /^\s*(\d{6})\s*$/m.exec(last.text)?.[1];
  if (!code) throw new Error('no two_factor mail with a passcode');
  return code;
}

/** The first URL of the last mail of a template that contains `needle`. */
export async function lastLink(server: TestServer, instance: Instance, template: string, needle: string): Promise<string> {
  const mails = await mailsOf(server, instance, template);
  const text = mails.at(-1)?.text ?? '';
  const url = text.split(/\s+/).find((w) => w.includes(needle));
  if (!url) throw new Error(`no link with ${needle} in the ${template} mail`);
  return url;
}

export const formHeaders = (cookie: string | undefined, accept = 'text/html', extra: Record<string, string> = {}) => ({
  Accept: accept,
  'User-Agent': UA,
  ...(cookie ? { Cookie: cookie } : {}),
  ...extra,
});
