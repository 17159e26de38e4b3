// The browser pages driven by a real (headless) Chromium against a test server, end to end:
//  (a) onboarding from the register-token URL to the home redirect;
//  (b) browser login with two-factor authentication, the code read from a local SMTP receiver;
//  (c) manual flagship certification (the 6-digit code from the mail), consent and the PKCE token
//      exchange, the redirect to the custom-scheme redirect_uri captured from the page;
//  (d) a wrong passphrase shows the error on the login page.
// `*.test` resolves to 127.0.0.1 inside the browser (--host-resolver-rules, test/helpers/browser.ts),
// so http://<name>.test:<port>/ reaches the test server. Cookies are not Secure in tests
// (HEARTH_SECURE_COOKIES defaults to false outside production).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { startSmtpReceiver, type ReceivedMail, type SmtpReceiver } from '../helpers/fakes.js';
import { createSessionCode, exchangeCode, getLoginPage, prepareAuthorize, registerOAuthClient } from '@hearth/client';
import { CHROMIUM_PATH, chromiumAvailable, launchBrowser } from '../helpers/browser.js';
import { loopbackFetch } from '../helpers/http.js';
import { startTestServer, testEngines, type TestServer } from '../helpers/server.js';

const ITERATIONS = 50_000;
const PASSWORD = 'browser flows password';
const describeIfChromium = chromiumAvailable ? describe : describe.skip;
if (!chromiumAvailable) console.warn(`test/browser/flows.test.ts skipped: no Chromium at ${CHROMIUM_PATH}`);

/** The text of a MIME message (quoted-printable and base64 parts decoded). */
function decodeMime(raw: string): string {
  const parts = [raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))];
  for (const m of raw.matchAll(/Content-Transfer-Encoding: base64\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+/=\r\n]+)/gi)) {
    parts.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64').toString('utf8'));
  }
  return parts.join('\n');
}

describeIfChromium.each(testEngines)('browser flows (%s)', { timeout: 60_000 }, (engine) => {
  let server: TestServer;
  let smtp: SmtpReceiver;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let received: ReceivedMail[] = [];

  /** Waits for the n-th mail to `to` whose subject matches, and answers the 6-digit code in it. */
  async function codeFromMail(to: string, subject: RegExp, count = 1): Promise<string> {
    const matching = () => received.filter((m) => m.to.includes(to) && subject.test(decodeMime(m.raw)));
    for (let i = 0; i < 200 && matching().length < count; i++) await new Promise((r) => setTimeout(r, 50));
    const mails = matching();
    expect(mails.length, `mails to ${to}`).toBeGreaterThanOrEqual(count);
    const text = decodeMime(mails[count - 1]!.raw);
    // The code stands alone on its line of the text part (a looser pattern also matches six digits
    // inside the MIME boundary or the message id).
    const code = /^[ \t]*([0-9]{6})[ \t]*\r?$/m.exec(text)?.[1];
    expect(code, text).toBeDefined();
    return code!;
  }

  async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.browser.newContext();
    const page = await context.newPage();
    // Well under the test timeout, so that a step that hangs is named by Playwright's error.
    page.setDefaultTimeout(20_000);
    return { context, page };
  }

  /** The cookie is a live session: the login page sends it straight on (303), not to the form. */
  async function expectLoggedIn(domain: string, cookie: string) {
    const anonymous = await getLoginPage({ client: server.client(domain, { headers: { Accept: 'text/html' } }) });
    expect(anonymous.response.status).toBe(200);
    const loggedIn = await getLoginPage({ client: server.client(domain, { cookie: `cozysessid=${cookie}`, headers: { Accept: 'text/html' } }) });
    expect(loggedIn.response.status).toBe(303);
    expect(loggedIn.response.headers.get('location')).toBe(`http://home.${domain}/`);
  }

  async function typeLogin(page: Page, password: string) {
    await page.locator('#passphrase').fill(password);
    await page.locator('#login-form button[type=submit]').click();
  }

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    received = smtp.received;
    server = await startTestServer({ engine, env: { HEARTH_SMTP_URL: smtp.url } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await smtp?.close();
  });

  it('(a) onboarding: from the register-token URL to the home app, with a session cookie', async () => {
    const instance = await server.createInstance('onboard');
    expect(instance.registerToken).toBeTruthy();
    const { context, page } = await freshPage();
    const origin = `http://${instance.domain}`;
    const response = await page.goto(`${origin}/auth/passphrase?registerToken=${instance.registerToken}`);
    expect(response?.status()).toBe(200);
    await page.locator('#new-passphrase').fill(PASSWORD);
    await page.locator('#confirm-passphrase').fill(PASSWORD);
    const posted = page.waitForResponse((r) => r.url() === `${origin}/settings/passphrase` && r.request().method() === 'POST');
    await page.locator('#passphrase-form button[type=submit]').click();
    expect((await posted).status()).toBe(200);
    // The answer is {"redirect": <home>} and the page goes there.
    const redirect = `http://home.${instance.domain}/`;
    await page.waitForURL(redirect);
    expect(page.url()).toBe(redirect);

    const cookies = await context.cookies(origin);
    const session = cookies.find((c) => c.name === 'cozysessid');
    expect(session, JSON.stringify(cookies)).toBeDefined();
    expect(session!.domain).toBe(`.${instance.domain.replace(/:\d+$/, '')}`);
    expect(session!.httpOnly).toBe(true);
    expect(session!.secure).toBe(false);
    // The server now knows the passphrase and the cookie is a live session.
    const after = await server.instance(instance.domain);
    expect(after.onboardingFinished).toBe(true);
    expect(after.passphraseKdfIterations).toBeGreaterThanOrEqual(50_000);
    await expectLoggedIn(instance.domain, session!.value);
    await context.close();
  });

  it('(b) login with two-factor authentication: the code from the SMTP mail opens the session', async () => {
    const instance = await server.createInstance('twofa', { passphrase: PASSWORD, kdf_iterations: ITERATIONS, auth_mode: 'two_factor_mail' });
    const { context, page } = await freshPage();
    const origin = `http://${instance.domain}`;
    expect((await page.goto(`${origin}/auth/login`))?.status()).toBe(200);
    await typeLogin(page, PASSWORD);
    await page.waitForURL((u) => u.pathname === '/auth/twofactor');
    expect(new URL(page.url()).searchParams.get('two_factor_token')).toMatch(/^[A-Za-z0-9_-]{96}$/);
    expect((await context.cookies(origin)).some((c) => c.name === 'cozysessid')).toBe(false);

    const code = await codeFromMail('twofa@example.net', /sign-in code/i);
    await page.locator('#two-factor-passcode').fill(code);
    await page.locator('#twofactor-form button[type=submit]').click();
    await page.waitForURL(`http://home.${instance.domain}/`);
    const session = (await context.cookies(origin)).find((c) => c.name === 'cozysessid');
    expect(session).toBeDefined();
    await expectLoggedIn(instance.domain, session!.value);
    await context.close();
  });

  it('(c) manual flagship certification, consent and the PKCE token exchange', async () => {
    const instance = await server.createInstance('certify', { passphrase: PASSWORD, kdf_iterations: ITERATIONS });
    const api = server.client(instance.domain);
    const registered = await registerOAuthClient({
      client: api,
      body: { redirect_uris: ['cozy://flagship'], client_name: 'Flagship', software_id: 'github.com/cozy/cozy-flagship-app', client_kind: 'mobile' },
    });
    expect(registered.response.status).toBe(201);
    const client = registered.data as { client_id: string; client_secret: string };
    const origin = `http://${instance.domain}`;
    const authorize = await prepareAuthorize({ instanceUrl: origin, clientId: client.client_id, redirectUri: 'cozy://flagship', scope: '*' });

    const { context, page } = await freshPage();
    // The deeplink to the app: the consent form posts with fetch (Accept: application/json), the
    // server answers {"deeplink"} and the page navigates to it. The navigation to an unknown
    // scheme goes nowhere in Chromium, so the deeplink is read from the page's traffic: the POST
    // answer through page.route, and the navigation request through a request listener.
    const deeplinks: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith('cozy:')) deeplinks.push(r.url());
    });
    const captured: string[] = [];
    await page.route(`${origin}/auth/authorize`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      // Sent from Node (Node cannot resolve *.test: loopbackFetch keeps the Host), then handed
      // back to the page unchanged.
      const request = route.request();
      const response = await loopbackFetch(request.url(), { method: 'POST', headers: await request.allHeaders(), body: request.postData() ?? undefined });
      const text = await response.text();
      const body = JSON.parse(text) as { deeplink?: string };
      if (body.deeplink) captured.push(body.deeplink);
      return route.fulfill({ status: response.status, headers: Object.fromEntries(response.headers), body: text });
    });

    // Not logged in: the authorize page sends the browser to the login page and back.
    await page.goto(authorize.url);
    await page.waitForURL((u) => u.pathname === '/auth/login');
    expect(new URL(page.url()).searchParams.get('redirect')).toBe(authorize.url);
    await typeLogin(page, PASSWORD);

    // Back on /auth/authorize?scope=*: the client is not certified → the confirm page, code mailed.
    await page.locator('#confirm-flagship-form').waitFor();
    expect(new URL(page.url()).pathname).toBe('/auth/authorize');
    const code = await codeFromMail('certify@example.net', /confirm the mobile app/i);
    await page.locator('#code').fill(code);
    await page.locator('#confirm-flagship-form button[type=submit]').click();

    // The page reloads the authorize URL: now the consent page.
    await page.locator('#authorize-form').waitFor();
    await page.locator('#authorize-form button[type=submit]').click();
    await expect.poll(() => captured.length, { timeout: 10_000 }).toBe(1);
    // The page then navigates to the deeplink (the request the app's webview intercepts).
    // (A request URL carries no fragment: the server's ends with an empty one, `#`.)
    expect(captured[0]).toMatch(/#$/);
    await expect.poll(() => deeplinks, { timeout: 10_000 }).toEqual([captured[0]!.replace(/#$/, '')]);
    const redirect = new URL(captured[0]!);
    expect(`${redirect.protocol}//${redirect.host}`).toBe('cozy://flagship');
    expect(redirect.searchParams.get('state')).toBe(authorize.state);
    const accessCode = redirect.searchParams.get('access_code');
    expect(accessCode).toMatch(/^[0-9a-f]{32}$/);
    expect(redirect.searchParams.get('code')).toBe(accessCode);

    // The app exchanges the code with its verifier: tokens with the maximal scope.
    const wrong = await exchangeCode({ client: api, clientId: client.client_id, clientSecret: client.client_secret, code: accessCode!, codeVerifier: 'x'.repeat(43) }).catch((e: Error) => e);
    expect((wrong as Error).message).toBe('invalid code_verifier');
    const tokens = await exchangeCode({ client: api, clientId: client.client_id, clientSecret: client.client_secret, code: accessCode!, codeVerifier: authorize.codeVerifier });
    expect(tokens.scope).toBe('*');
    expect(tokens.refresh_token).toBeTruthy();
    const sessionCode = await createSessionCode({ client: server.client(instance.domain, { token: tokens.access_token }) });
    expect(sessionCode.response.status).toBe(201);
    await context.close();
  });

  it('(d) a wrong passphrase shows the error on the login page', async () => {
    const instance = await server.createInstance('wrongpw', { passphrase: PASSWORD, kdf_iterations: ITERATIONS });
    const { context, page } = await freshPage();
    const origin = `http://${instance.domain}`;
    await page.goto(`${origin}/auth/login`);
    const posted = page.waitForResponse((r) => r.url() === `${origin}/auth/login` && r.request().method() === 'POST');
    await typeLogin(page, 'not the password');
    expect((await posted).status()).toBe(401);
    await expect.poll(() => page.locator('#form-error').innerText()).toBe('The password you entered is incorrect, please try again.');
    expect(new URL(page.url()).pathname).toBe('/auth/login');
    expect((await context.cookies(origin)).some((c) => c.name === 'cozysessid')).toBe(false);
    // The form is usable again: the right password now logs in.
    await typeLogin(page, PASSWORD);
    await page.waitForURL(`http://home.${instance.domain}/`);
    await context.close();
  });
});
