// POST/DELETE /settings/email, POST /settings/email/resend, GET /settings/email/confirm.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelEmailUpdate, confirmEmailUpdate, requestEmailUpdate, resendEmailUpdate } from '@hearth/client';
import { getSettings } from '../../../src/repositories/settings.js';
import type { Instance } from '../../../src/repositories/instances.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { cliToken, hashFor, ITERATIONS } from './helpers.js';
import { startSmtpReceiver, type ReceivedMail, type SmtpReceiver } from '../../helpers/fakes.js';

interface CloudCall {
  method: string;
  url: string;
  auth: string | undefined;
  body: unknown;
}

/** A fake cloudery that records its calls and answers 200 (or `status`). */
async function startFakeCloudery(): Promise<{ url: string; calls: CloudCall[]; status: { value: number }; close(): Promise<void> }> {
  const calls: CloudCall[] = [];
  const status = { value: 200 };
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      calls.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body: text ? (JSON.parse(text) as unknown) : null });
      res.writeHead(status.value, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, status, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The text of a raw MIME message, with quoted-printable and base64 parts decoded. */
function decodeMime(raw: string): string {
  const parts = [raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))];
  for (const m of raw.matchAll(/Content-Transfer-Encoding: base64\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+/=\r\n]+)/gi)) {
    parts.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64').toString('utf8'));
  }
  return parts.join('\n');
}

const LINK = /(http:\/\/[^\s"<>]+\/settings\/email\/confirm\?token=([A-Za-z0-9]{32}))/;

describe.each(testEngines)('email change (%s)', (engine) => {
  let server: TestServer;
  let cloudery: Awaited<ReturnType<typeof startFakeCloudery>>;
  const PW = 'email password';

  beforeAll(async () => {
    cloudery = await startFakeCloudery();
    server = await startTestServer({
      engine,
      configYaml: `
contexts:
  managed:
    signup_url: https://signup.example.net/
clouderies:
  default:
    api:
      url: ${cloudery.url}
      token: cloudery-secret
`,
    });
  });
  afterAll(async () => {
    await server.stop();
    await cloudery.close();
  });

  async function setup(name: string, input: Parameters<TestServer['createInstance']>[1] = {}) {
    const instance = await server.createInstance(name, { passphrase: PW, kdf_iterations: ITERATIONS, ...input });
    const token = await cliToken(server, instance.domain, 'io.cozy.settings');
    return { instance, client: server.client(instance.domain, { token }), passphrase: await hashFor(instance, PW) };
  }

  const settingsOf = async (instance: Instance) => (await getSettings(server.hearth.services.db, instance.id))!.doc;

  async function updateMails(instance: Instance) {
    return (await server.mails(instance)).filter((m) => m.template === 'update_email');
  }

  it('POST /settings/email: 204, the address pending, a mail with the confirmation link to the new address', async () => {
    const { instance, client, passphrase } = await setup('mail1');
    const res = await requestEmailUpdate({ client, body: { passphrase, email: 'alice.new@example.org' } });
    expect(res.response.status).toBe(204);
    const doc = await settingsOf(instance);
    expect(doc.email).toBe('mail1@example.net');
    expect(doc.pending_email).toBe('alice.new@example.org');
    const mails = await updateMails(instance);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ to: 'alice.new@example.org', mode: 'pending' });
    const link = LINK.exec(mails[0]!.text);
    expect(link?.[1]).toBe(`http://mail1.test:${server.port}/settings/email/confirm?token=${link?.[2]}`);
    expect(mails[0]!.text).toContain('mail1'); // PublicName
  });

  it('confirm: 303 to the login page without a session, 307 to the settings app with one; the address changes and is pushed to the cloudery', async () => {
    const { instance, client, passphrase } = await setup('mail2', { uuid: 'uuid-mail2', public_name: 'Alice Two' });
    expect((await requestEmailUpdate({ client, body: { passphrase, email: 'two@example.org' } })).response.status).toBe(204);
    const token = LINK.exec((await updateMails(instance))[0]!.text)![2]!;

    const anonymous = await confirmEmailUpdate({ client: server.client(instance.domain), query: { token } });
    expect(anonymous.response.status).toBe(303);
    const here = `http://mail2.test:${server.port}/settings/email/confirm?token=${token}`;
    expect(anonymous.response.headers.get('location')).toBe(`http://mail2.test:${server.port}/auth/login?redirect=${encodeURIComponent(here)}`);
    expect((await settingsOf(instance)).pending_email).toBe('two@example.org');

    const { cookie } = await server.login(instance);
    const before = cloudery.calls.length;
    const res = await confirmEmailUpdate({ client: server.client(instance.domain, { cookie }), query: { token } });
    expect(res.response.status).toBe(307);
    expect(res.response.headers.get('location')).toBe(`http://settings.mail2.test:${server.port}/`);
    const doc = await settingsOf(instance);
    expect(doc.email).toBe('two@example.org');
    expect(doc.pending_email).toBeNull();
    const calls = cloudery.calls.slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual({
      method: 'PUT',
      url: '/api/admin/instances/uuid-mail2',
      auth: 'Bearer cloudery-secret',
      body: { email: 'two@example.org', public_name: 'Alice Two', locale: 'en' },
    });

    // The link works once: nothing is pending any more.
    const again = await confirmEmailUpdate({ client: server.client(instance.domain, { cookie }), query: { token } });
    expect(again.response.status).toBe(400);
    expect(again.response.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('confirm: still confirms when the cloudery fails (best effort)', async () => {
    const { instance, client, passphrase } = await setup('mail3', { uuid: 'uuid-mail3' });
    await requestEmailUpdate({ client, body: { passphrase, email: 'three@example.org' } });
    const token = LINK.exec((await updateMails(instance))[0]!.text)![2]!;
    const { cookie } = await server.login(instance);
    cloudery.status.value = 500;
    try {
      const res = await confirmEmailUpdate({ client: server.client(instance.domain, { cookie }), query: { token } });
      expect(res.response.status).toBe(307);
    } finally {
      cloudery.status.value = 200;
    }
    expect((await settingsOf(instance)).email).toBe('three@example.org');
  });

  it('confirm: 400 HTML for a missing, unknown or superseded token, and after a cancel; 404 for an unknown host', async () => {
    const { instance, client, passphrase } = await setup('mail4');
    const { cookie } = await server.login(instance);
    const browser = server.client(instance.domain, { cookie });
    expect((await confirmEmailUpdate({ client: browser })).response.status).toBe(400);
    const unknown = await confirmEmailUpdate({ client: browser, query: { token: 'A'.repeat(32) } });
    expect(unknown.response.status).toBe(400);
    expect(String(unknown.error)).toContain('<html');

    await requestEmailUpdate({ client, body: { passphrase, email: 'first@example.org' } });
    const first = LINK.exec((await updateMails(instance))[0]!.text)![2]!;
    await requestEmailUpdate({ client, body: { passphrase, email: 'second@example.org' } });
    // The first link was for another address: it no longer confirms anything.
    expect((await confirmEmailUpdate({ client: browser, query: { token: first } })).response.status).toBe(400);
    expect((await settingsOf(instance)).email).toBe('mail4@example.net');

    const second = (await updateMails(instance)).map((m) => LINK.exec(m.text)![2]!).find((t) => t !== first)!;
    expect((await cancelEmailUpdate({ client })).response.status).toBe(204);
    expect((await confirmEmailUpdate({ client: browser, query: { token: second } })).response.status).toBe(400);
    expect((await settingsOf(instance)).email).toBe('mail4@example.net');

    const nobody = await confirmEmailUpdate({ client: server.client(`nobody.test:${server.port}`), query: { token: second } });
    expect(nobody.response.status).toBe(404);
  });

  it('confirm: a cookie of another instance is not a session here (303)', async () => {
    const a = await setup('mail5');
    const b = await setup('mail6');
    await requestEmailUpdate({ client: a.client, body: { passphrase: a.passphrase, email: 'five@example.org' } });
    const token = LINK.exec((await updateMails(a.instance))[0]!.text)![2]!;
    const { cookie } = await server.login(b.instance);
    const res = await confirmEmailUpdate({ client: server.client(a.instance.domain, { cookie }), query: { token } });
    expect(res.response.status).toBe(303);
    expect((await settingsOf(a.instance)).pending_email).toBe('five@example.org');
  });

  it('POST /settings/email: 400 for a wrong passphrase (not 500), 400 without one, 422 for a malformed address', async () => {
    const { instance, client, passphrase } = await setup('mail7');
    const wrong = await requestEmailUpdate({ client, body: { passphrase: await hashFor(instance, 'wrong'), email: 'x@example.org' } });
    expect(wrong.response.status).toBe(400);
    expect(wrong.response.headers.get('content-type')).toBe('application/vnd.api+json');
    expect(wrong.error).toEqual({ errors: [{ status: '400', title: 'Bad Request', detail: 'Invalid passphrase', source: {} }] });
    const missing = await requestEmailUpdate({ client, body: { email: 'x@example.org' } as never });
    expect(missing.response.status).toBe(400);
    for (const email of ['not-an-address', 'two@@example.org', 'spa ce@example.org', '']) {
      const bad = await requestEmailUpdate({ client, body: { passphrase, email } });
      expect(bad.response.status).toBe(422);
      expect(bad.error).toEqual({ errors: [{ status: '422', title: 'Invalid Parameter', detail: 'The email address is not valid', source: { parameter: 'email' } }] });
    }
    expect((await settingsOf(instance)).pending_email).toBeUndefined();
    expect(await updateMails(instance)).toHaveLength(0);
  });

  it('POST /settings/email: 403 JSON:API when the context manages the address externally', async () => {
    const { instance, client, passphrase } = await setup('mail8', { context: 'managed' });
    const res = await requestEmailUpdate({ client, body: { passphrase, email: 'x@example.org' } });
    expect(res.response.status).toBe(403);
    expect(res.response.headers.get('content-type')).toBe('application/vnd.api+json');
    expect(res.error).toEqual({ errors: [{ status: '403', title: 'Forbidden', detail: 'email is managed externally', source: {} }] });
    expect((await settingsOf(instance)).pending_email).toBeUndefined();
  });

  it('POST /settings/email: 401, 400 bad token, 403 without POST on io.cozy.settings, 404 unknown host', async () => {
    const { instance, passphrase } = await setup('mail9');
    const body = { passphrase, email: 'x@example.org' };
    expect((await requestEmailUpdate({ client: server.client(instance.domain), body })).response.status).toBe(401);
    expect((await requestEmailUpdate({ client: server.client(instance.domain, { token: 'bad' }), body })).response.status).toBe(400);
    const other = await server.createInstance('mail9-other');
    expect((await requestEmailUpdate({ client: server.client(instance.domain, { token: await server.token(other, 'cli', { scope: 'io.cozy.settings' }) }), body })).response.status).toBe(400);
    const denied = await requestEmailUpdate({ client: server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings:GET') }), body });
    expect(denied.response.status).toBe(403);
    expect(denied.error).toEqual({ error: 'Forbidden' });
    expect((await requestEmailUpdate({ client: server.client(`nobody.test:${server.port}`), body })).response.status).toBe(404);
    expect((await settingsOf(instance)).pending_email).toBeUndefined();
  });

  it('resend: 400 with nothing pending; otherwise a new token and mail, both links valid', async () => {
    const { instance, client, passphrase } = await setup('mail10');
    const nothing = await resendEmailUpdate({ client });
    expect(nothing.response.status).toBe(400);
    expect(nothing.error).toEqual({ errors: [{ status: '400', title: 'Bad Request', detail: 'no pending email', source: {} }] });

    await requestEmailUpdate({ client, body: { passphrase, email: 'ten@example.org' } });
    expect((await resendEmailUpdate({ client })).response.status).toBe(204);
    const mails = await updateMails(instance);
    expect(mails).toHaveLength(2);
    expect(mails.every((m) => m.to === 'ten@example.org' && m.mode === 'pending')).toBe(true);
    const tokens = mails.map((m) => LINK.exec(m.text)![2]!);
    expect(new Set(tokens).size).toBe(2);

    const { cookie } = await server.login(instance);
    const res = await confirmEmailUpdate({ client: server.client(instance.domain, { cookie }), query: { token: tokens[1]! } });
    expect(res.response.status).toBe(307);
    expect((await settingsOf(instance)).email).toBe('ten@example.org');
  });

  it('resend: 401, 400, 403 without POST, 404', async () => {
    const { instance } = await setup('mail11');
    expect((await resendEmailUpdate({ client: server.client(instance.domain) })).response.status).toBe(401);
    expect((await resendEmailUpdate({ client: server.client(instance.domain, { token: 'bad' }) })).response.status).toBe(400);
    expect((await resendEmailUpdate({ client: server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings:GET') }) })).response.status).toBe(403);
    expect((await resendEmailUpdate({ client: server.client(`nobody.test:${server.port}`) })).response.status).toBe(404);
  });

  it('DELETE /settings/email: clears the pending address (a no-op when nothing is pending); DELETE or POST permission', async () => {
    const { instance, client, passphrase } = await setup('mail12');
    expect((await cancelEmailUpdate({ client })).response.status).toBe(204);
    expect((await settingsOf(instance)).pending_email).toBeUndefined();
    await requestEmailUpdate({ client, body: { passphrase, email: 'twelve@example.org' } });
    const del = server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings:DELETE') });
    expect((await cancelEmailUpdate({ client: del })).response.status).toBe(204);
    expect((await settingsOf(instance)).pending_email).toBeNull();

    await requestEmailUpdate({ client, body: { passphrase, email: 'twelve@example.org' } });
    const post = server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings:POST') });
    expect((await cancelEmailUpdate({ client: post })).response.status).toBe(204);
    expect((await settingsOf(instance)).pending_email).toBeNull();

    await requestEmailUpdate({ client, body: { passphrase, email: 'twelve@example.org' } });
    const get = server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings:GET') });
    expect((await cancelEmailUpdate({ client: get })).response.status).toBe(403);
    expect((await cancelEmailUpdate({ client: server.client(instance.domain) })).response.status).toBe(401);
    expect((await cancelEmailUpdate({ client: server.client(instance.domain, { token: 'bad' }) })).response.status).toBe(400);
    expect((await cancelEmailUpdate({ client: server.client(`nobody.test:${server.port}`) })).response.status).toBe(404);
    expect((await settingsOf(instance)).pending_email).toBe('twelve@example.org');
  });
});

describe.each(testEngines)('email change delivered over SMTP (%s)', (engine) => {
  let server: TestServer;
  let smtp: SmtpReceiver;
  let received: ReceivedMail[];

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    received = smtp.received;
    server = await startTestServer({ engine, env: { HEARTH_SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    await server.stop();
    await smtp.close();
  });

  it('the confirmation mail reaches the new address with the link, which then confirms the change', async () => {
    const instance = await server.createInstance('smtp1', { passphrase: 'pw', kdf_iterations: ITERATIONS });
    const client = server.client(instance.domain, { token: await cliToken(server, instance.domain, 'io.cozy.settings') });
    const res = await requestEmailUpdate({ client, body: { passphrase: await hashFor(instance, 'pw'), email: 'smtp.new@example.org' } });
    expect(res.response.status).toBe(204);

    for (let i = 0; i < 200 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(1);
    expect(received[0]!.to).toEqual(['smtp.new@example.org']);
    const text = decodeMime(received[0]!.raw);
    const link = LINK.exec(text);
    expect(link).not.toBeNull();
    expect(link![1]).toBe(`http://smtp1.test:${server.port}/settings/email/confirm?token=${link![2]}`);
    const mail = (await server.mails(instance)).find((m) => m.template === 'update_email')!;
    expect(mail.text).toContain(link![1]);

    const { cookie } = await server.login(instance);
    const confirm = await confirmEmailUpdate({ client: server.client(instance.domain, { cookie }), query: { token: link![2] } });
    expect(confirm.response.status).toBe(307);
    expect((await getSettings(server.hearth.services.db, instance.id))!.doc.email).toBe('smtp.new@example.org');
  });
});
