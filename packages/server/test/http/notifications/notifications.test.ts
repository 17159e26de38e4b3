// POST /notifications (reference §4.1) and the push routing of §4.2 through the real server, with
// local fakes of FCM, APNs and an SMTP receiver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotification } from '@hearth/client';
import { installApp as adminInstallApp } from '@hearth/client/admin';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { installApp } from '../../../src/repositories/apps.js';
import { createOAuthClient, getOAuthClient, type OAuthClient } from '../../../src/repositories/oauth-clients.js';
import { updateInstance } from '../../../src/repositories/instances.js';
import type { Instance } from '../../../src/repositories/instances.js';
import { listJobs } from '../../../src/jobs/queue.js';
import { getNotification } from '../../../src/repositories/notifications.js';
import { startFakeApns, startFakeFcm, startSmtpReceiver, waitFor, type FakeApns, type FakeFcm } from '../../helpers/fakes.js';

type Attrs = Record<string, unknown>;

const CATEGORIES = {
  share: { description: 'Shares', templates: { mail: 'mails/share.hbs' } },
  alert: { description: 'Alerts', default_priority: 'high', collapsible: true },
  status: { description: 'Status', stateful: true },
  sync: { description: 'Sync', stateful: true, min_interval: '1h' },
} as const;

describe.each(testEngines)('POST /notifications (%s)', (engine) => {
  let server: TestServer;
  let bare: TestServer;
  let fcm: FakeFcm;
  let apns: FakeApns;
  let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  let bareSmtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  let n = 0;

  beforeAll(async () => {
    [fcm, apns, smtp, bareSmtp] = await Promise.all([startFakeFcm(), startFakeApns(), startSmtpReceiver(), startSmtpReceiver()]);
    const configYaml = JSON.stringify({
      notifications: {
        fcm: { url: fcm.url, credentials: fcm.credentials },
        apns: { url: apns.url, key_id: apns.keyId, team_id: apns.teamId, private_key: apns.privateKey, topic: 'io.cozy.flagship.mobile' },
      },
    });
    server = await startTestServer({ engine, configYaml, env: { HEARTH_SMTP_URL: smtp.url } });
    // A server with APNs only: FCM is not configured there.
    bare = await startTestServer({
      engine,
      configYaml: JSON.stringify({ notifications: { apns: { url: apns.url, key_id: apns.keyId, team_id: apns.teamId, private_key: apns.privateKey } } }),
      env: { HEARTH_SMTP_URL: bareSmtp.url },
    });
  });

  afterAll(async () => {
    await server?.stop();
    await bare?.stop();
    await Promise.all([fcm?.close(), apns?.close(), smtp?.close(), bareSmtp?.close()]);
  });

  /** A new instance with the `drive` webapp (installed through the admin API) and a konnector. */
  async function setup(s: TestServer = server): Promise<{ instance: Instance; appToken: string; konnToken: string }> {
    const instance = await s.createInstance(`notif${n++}${engine[0]}`);
    const installed = await adminInstallApp({
      client: s.adminClient() as never,
      path: { domain: instance.domain },
      body: { slug: 'drive', type: 'webapp', notifications: CATEGORIES },
    });
    expect(installed.response.status).toBe(201);
    await installApp(s.hearth.services.db, { instanceId: instance.id, slug: 'edf', type: 'konnector', notifications: { bills: { description: 'New bills' } } });
    return { instance, appToken: await s.token(instance, 'app', { sub: 'drive' }), konnToken: await s.token(instance, 'konn', { sub: 'edf' }) };
  }

  async function client(s: TestServer, instance: Instance, patch: Partial<OAuthClient> & { softwareId?: string } = {}): Promise<OAuthClient> {
    return createOAuthClient(s.hearth.services.db, { instanceId: instance.id, clientName: 'Mobile', softwareId: 'io.cozy.drive.mobile', ...patch });
  }

  async function send(s: TestServer, instance: Instance, token: string | undefined, attributes: Attrs, headers: Record<string, string> = {}) {
    return createNotification({
      client: s.client(instance.domain, { token, headers }),
      body: { data: { type: 'io.cozy.notifications', attributes: attributes as never } },
    });
  }

  async function jobsDone(s: TestServer, instance: Instance): Promise<void> {
    await waitFor(async () => {
      const jobs = await listJobs(s.hearth.services.db, { queue: 'push', instanceId: instance.id });
      return jobs.every((j) => j.status === 'done' || j.status === 'failed');
    }, 'push jobs');
  }

  const mailsTo = (received: { to: string[]; raw: string }[], instance: Instance) => received.filter((m) => m.to.includes(`${instance.domain.split('.')[0]}@example.net`));

  describe('authentication and validation', () => {
    it('401 without a token, 400 for a bad token or one of another instance', async () => {
      const { instance } = await setup();
      const other = await setup();
      const none = await send(server, instance, undefined, { category: 'share', title: 'x' });
      expect(none.response.status).toBe(401);
      const bad = await send(server, instance, 'not-a-jwt', { category: 'share', title: 'x' });
      expect(bad.response.status).toBe(400);
      expect(bad.error).toEqual({ error: 'Invalid JWT token' });
      const cross = await send(server, instance, other.appToken, { category: 'share', title: 'x' });
      expect(cross.response.status).toBe(400);
    });

    it('404 on an unknown host', async () => {
      const { appToken } = await setup();
      const r = await createNotification({
        client: server.client(`nobody.test:${server.port}`, { token: appToken }),
        body: { data: { attributes: { category: 'share', title: 'x' } } },
      });
      expect(r.response.status).toBe(404);
    });

    it('403 for a CLI token, for a sender without categories and for an unknown category', async () => {
      const { instance, appToken } = await setup();
      const cli = await send(server, instance, await server.token(instance, 'cli', { scope: '*' }), { category: 'share', title: 'x' });
      expect(cli.response.status).toBe(403);
      expect(cli.error).toMatchObject({ errors: [{ status: '403', detail: 'Not authorized to send notification' }] });

      await installApp(server.hearth.services.db, { instanceId: instance.id, slug: 'notes', type: 'webapp' });
      const none = await send(server, instance, await server.token(instance, 'app', { sub: 'notes' }), { category: 'share', title: 'x' });
      expect(none.response.status).toBe(403);
      expect(none.error).toMatchObject({ errors: [{ detail: 'No category for this app' }] });

      const unknown = await send(server, instance, appToken, { category: 'nope', title: 'x' });
      expect(unknown.response.status).toBe(403);
      expect(unknown.error).toMatchObject({ errors: [{ detail: 'Notification category does not exist' }] });
    });

    it('400 JSON:API for a missing title, a bad priority or a bad channel; nothing stored', async () => {
      const { instance, appToken } = await setup();
      for (const attrs of [{ category: 'share' }, { category: 'share', title: '' }, { category: 'share', title: 'x', priority: 'urgent' }, { category: 'share', title: 'x', preferred_channels: ['pigeon'] }]) {
        const r = await send(server, instance, appToken, attrs);
        expect(r.response.status, JSON.stringify(attrs)).toBe(400);
        expect(r.response.headers.get('content-type')).toContain('application/vnd.api+json');
        expect((r.error as { errors: { status: string }[] }).errors[0]!.status).toBe('400');
      }
      const r = await send(server, instance, appToken, { category: 'share', title: '   ' });
      expect(r.response.status).toBe(400);
      expect(r.error).toMatchObject({ errors: [{ detail: 'Notification is not valid' }] });
      expect(await listJobs(server.hearth.services.db, { queue: 'push', instanceId: instance.id })).toHaveLength(0);
    });

    it('503 on a blocked instance, 402 for a failed payment or expired terms (JSON warnings), 302 for HTML', async () => {
      const { instance, appToken } = await setup();
      const db = server.hearth.services.db;
      await updateInstance(db, instance.id, { blocked: true, blockingReason: 'UNKNOWN' });
      expect((await send(server, instance, appToken, { category: 'share', title: 'x' })).response.status).toBe(503);
      await updateInstance(db, instance.id, { blocked: true, blockingReason: 'PAYMENT_FAILED' });
      const paid = await send(server, instance, appToken, { category: 'share', title: 'x' });
      expect(paid.response.status).toBe(402);
      expect(paid.error).toMatchObject([{ code: 'PAYMENT_FAILED' }]);
      await updateInstance(db, instance.id, { blocked: false, blockingReason: null, tos: '1.0.0', tosLatest: '2.0.0-20200101' });
      const tos = await send(server, instance, appToken, { category: 'share', title: 'x' });
      expect(tos.response.status).toBe(402);
      expect(tos.error).toMatchObject([{ status: '402', code: 'tos-updated', title: 'TOS Updated' }]);
      // Terms dated in the future are not a deadline yet.
      await updateInstance(db, instance.id, { tosLatest: '2.0.0-29990101' });
      expect((await send(server, instance, appToken, { category: 'share', title: 'x' })).response.status).toBe(201);
    });
  });

  describe('senders and stored attributes', () => {
    it('webapp: 201 JSON:API with the attributes of §4.1, mailed through the category template', async () => {
      const { instance, appToken } = await setup();
      const r = await send(server, instance, appToken, { category: 'share', category_id: 'f1', title: 'Bob shared a folder', message: 'Holidays', sound: 'ding', data: { n: 1 }, at: '2001-01-01T00:00:00Z', preferred_channels: ['mail'] });
      expect(r.response.status).toBe(201);
      const data = r.data!.data;
      expect(data.type).toBe('io.cozy.notifications');
      expect(data.id).toMatch(/^[0-9a-f]{32}$/);
      expect(data.meta).toMatchObject({ rev: expect.stringMatching(/^1-[0-9a-f]{32}$/) });
      expect(data.links).toEqual({ self: `/notifications/${data.id}` });
      expect(data.attributes).toMatchObject({ source_id: 'cozy/app/drive/share/f1', originator: 'app', slug: 'drive', category: 'share', category_id: 'f1', title: 'Bob shared a folder', message: 'Holidays', sound: 'ding', data: { n: 1 } });
      expect(data.attributes).not.toHaveProperty('preferred_channels');
      expect(data.attributes).not.toHaveProperty('at');
      expect(Date.parse(data.attributes.created_at)).not.toBeNaN();
      expect(data.attributes.last_sent).toBe(data.attributes.created_at);
      const stored = await getNotification(server.hearth.services.db, instance.id, data.id!);
      expect(stored?.sourceId).toBe('cozy/app/drive/share/f1');
      await waitFor(() => mailsTo(smtp.received, instance).length === 1, 'the mail');
      expect(mailsTo(smtp.received, instance)[0]!.raw).toContain('Subject: Bob shared a folder');
    });

    it('default priority from the category; no mail template and no content: nothing sent', async () => {
      const { instance, appToken } = await setup();
      const r = await send(server, instance, appToken, { category: 'alert', title: 'Disk almost full' });
      expect(r.response.status).toBe(201);
      expect(r.data!.data.attributes.priority).toBe('high');
      expect(await listJobs(server.hearth.services.db, { queue: 'push', instanceId: instance.id })).toHaveLength(0);
    });

    it('konnector: its own manifest categories (originator konnector, slug of the konnector)', async () => {
      const { instance, konnToken } = await setup();
      const r = await send(server, instance, konnToken, { category: 'bills', category_id: 'acc1', title: '3 new bills' });
      expect(r.response.status).toBe(201);
      expect(r.data!.data.attributes).toMatchObject({ originator: 'konnector', slug: 'edf', source_id: 'cozy/konnector/edf/bills/acc1' });
      const wrong = await send(server, instance, konnToken, { category: 'share', title: 'x' });
      expect(wrong.response.status).toBe(403);
    });

    it('OAuth client: its registered categories (empty slug); a linked client uses the webapp manifest, 404 when not installed', async () => {
      const { instance } = await setup();
      const own = await client(server, instance, { metadata: { notifications: { backup: { description: 'Backups' } } } });
      const r = await send(server, instance, await server.token(instance, 'access', { sub: own.id, scope: 'io.cozy.files' }), { category: 'backup', title: 'Backup done' });
      expect(r.response.status).toBe(201);
      expect(r.data!.data.attributes).toMatchObject({ originator: 'oauth', slug: '', source_id: 'cozy/oauth//backup/' });
      const plain = await client(server, instance);
      const noCat = await send(server, instance, await server.token(instance, 'access', { sub: plain.id, scope: 'io.cozy.files' }), { category: 'backup', title: 'x' });
      expect(noCat.response.status).toBe(403);

      const linked = await client(server, instance, { softwareId: 'registry://drive' });
      const l = await send(server, instance, await server.token(instance, 'access', { sub: linked.id, scope: '@io.cozy.apps/drive' }), { category: 'share', title: 'x' });
      expect(l.response.status).toBe(201);
      expect(l.data!.data.attributes).toMatchObject({ originator: 'oauth', slug: 'drive' });
      const missing = await client(server, instance, { softwareId: 'registry://photos' });
      const m = await send(server, instance, await server.token(instance, 'access', { sub: missing.id, scope: 'io.cozy.files' }), { category: 'share', title: 'x' });
      expect(m.response.status).toBe(404);
      expect(m.error).toMatchObject({ errors: [{ status: '404', detail: 'Application is not installed' }] });
    });

    it('stateful: the same state → 201 without id, state false/0 stored but not sent, min_interval', async () => {
      const { instance, appToken } = await setup();
      await client(server, instance, { notificationPlatform: 'firebase', notificationDeviceToken: `fcm-ok-state-${engine}` });
      const first = await send(server, instance, appToken, { category: 'status', title: 'Sync on', state: 1, preferred_channels: ['mobile'] });
      expect(first.data!.data.id).toBeDefined();
      const dup = await send(server, instance, appToken, { category: 'status', title: 'Sync on', state: 1, preferred_channels: ['mobile'] });
      expect(dup.response.status).toBe(201);
      expect(dup.data!.data.id).toBeUndefined();
      expect(dup.data!.data.meta).toEqual({});
      expect(dup.data!.data).not.toHaveProperty('links');
      const off = await send(server, instance, appToken, { category: 'status', title: 'Sync off', state: false, preferred_channels: ['mobile'] });
      expect(off.data!.data.id).toBeDefined();
      const zero = await send(server, instance, appToken, { category: 'status', title: 'Sync zero', state: 0, preferred_channels: ['mobile'] });
      expect(zero.data!.data.id).toBeDefined();
      // Only the first was queued.
      const jobs = await listJobs<{ notificationId: string }>(server.hearth.services.db, { queue: 'push', instanceId: instance.id });
      expect(jobs.map((j) => j.payload.notificationId)).toEqual([first.data!.data.id]);

      const s1 = await send(server, instance, appToken, { category: 'sync', title: 'A', state: 'a', preferred_channels: ['mobile'] });
      const s2 = await send(server, instance, appToken, { category: 'sync', title: 'B', state: 'b', preferred_channels: ['mobile'] });
      expect(s2.data!.data.id).toBeDefined();
      expect(s2.data!.data.attributes.last_sent).toBe(s1.data!.data.attributes.last_sent);
      const all = await listJobs(server.hearth.services.db, { queue: 'push', instanceId: instance.id });
      expect(all).toHaveLength(2);
      await jobsDone(server, instance);
    });
  });

  describe('push routing', () => {
    it('tier 1: the dedicated (non-flagship) apps only, title unchanged, FCM data as strings; APNs for apns clients', async () => {
      const { instance, appToken } = await setup();
      const t = `${engine}-t1`;
      await client(server, instance, { notificationPlatform: 'firebase', notificationDeviceToken: `fcm-ok-${t}` });
      await client(server, instance, { notificationPlatform: 'apns', notificationDeviceToken: `apns-ok-${t}` });
      await client(server, instance, { notificationPlatform: 'apns', notificationDeviceToken: `apns-ok-flag-${t}`, flagship: true });
      const r = await send(server, instance, appToken, { category: 'alert', title: 'Hello', message: 'World', data: { appName: 'Drive', count: 3, deep: { a: 1 } }, preferred_channels: ['mobile'] });
      expect(r.response.status).toBe(201);
      await jobsDone(server, instance);
      const f = fcm.delivered.filter((d) => d.token === `fcm-ok-${t}`);
      expect(f).toHaveLength(1);
      expect(f[0]!.message.data).toMatchObject({ title: 'Hello', body: 'World', appName: 'Drive', count: '3', deep: '{"a":1}' });
      expect(f[0]!.message.data.notId).toMatch(/^\d+$/);
      expect(f[0]!.message.android).toMatchObject({ priority: 'HIGH', collapse_key: expect.stringMatching(/^[0-9a-f]{32}$/) });
      const a = apns.delivered.filter((d) => d.token === `apns-ok-${t}`);
      expect(a).toHaveLength(1);
      expect(a[0]!.payload.aps.alert).toEqual({ title: 'Hello', body: 'World' });
      expect(a[0]!.headers['apns-priority']).toBe('10');
      expect(apns.requests.filter((d) => d.token === `apns-ok-flag-${t}`)).toHaveLength(0);
      expect(mailsTo(smtp.received, instance)).toHaveLength(0);
    });

    it('de-duplicates by device token (the newest client keeps it)', async () => {
      const { instance, appToken } = await setup();
      const token = `fcm-ok-dup-${engine}`;
      await client(server, instance, { notificationPlatform: 'firebase', notificationDeviceToken: token });
      await client(server, instance, { notificationPlatform: 'firebase', notificationDeviceToken: token });
      await send(server, instance, appToken, { category: 'share', title: 'Once', preferred_channels: ['mobile'] });
      await jobsDone(server, instance);
      expect(fcm.delivered.filter((d) => d.token === token)).toHaveLength(1);
    });

    for (const [label, data, expected] of [
      ['the slug', undefined, 'drive - Backup'],
      ['data.appName', { appName: 'Drive' }, 'Drive - Backup'],
      ['no prefix for an empty appName', { appName: '' }, 'Backup'],
      ['the slug when appName is not a string', { appName: 42 }, 'drive - Backup'],
    ] as const) {
      it(`tier 2: flagship apps when no dedicated app, title with ${label}`, async () => {
        const { instance, appToken } = await setup();
        const token = `apns-ok-t2-${engine}-${label.replace(/\W/g, '')}`;
        await client(server, instance, { notificationPlatform: 'apns', notificationDeviceToken: token, flagship: true });
        await send(server, instance, appToken, { category: 'share', title: 'Backup', ...(data ? { data } : {}), preferred_channels: ['mobile'] });
        await jobsDone(server, instance);
        const got = apns.delivered.filter((d) => d.token === token);
        expect(got).toHaveLength(1);
        expect(got[0]!.payload.aps.alert.title).toBe(expected);
        expect(mailsTo(smtp.received, instance)).toHaveLength(0);
      });
    }

    it('a provider failure in tier 1 falls through to the flagship apps', async () => {
      const { instance, appToken } = await setup();
      const t = `${engine}-fail`;
      await client(server, instance, { notificationPlatform: 'firebase', notificationDeviceToken: `fcm-bad-${t}` });
      await client(server, instance, { notificationPlatform: 'firebase', notificationDeviceToken: `fcm-ok-flag-${t}`, flagship: true });
      await send(server, instance, appToken, { category: 'share', title: 'Fallthrough', preferred_channels: ['mobile'] });
      await jobsDone(server, instance);
      expect(fcm.requests.filter((d) => d.token === `fcm-bad-${t}`)).toHaveLength(1);
      const got = fcm.delivered.filter((d) => d.token === `fcm-ok-flag-${t}`);
      expect(got).toHaveLength(1);
      expect(got[0]!.message.data.title).toBe('drive - Fallthrough');
    });

    it('tier 3: the mail fallback when no device was reached', async () => {
      const { instance, appToken } = await setup();
      await client(server, instance, { notificationPlatform: 'firebase', notificationDeviceToken: `fcm-bad-t3-${engine}` });
      await client(server, instance, { notificationPlatform: 'apns', notificationDeviceToken: `apns-bad-t3-${engine}`, flagship: true });
      await send(server, instance, appToken, { category: 'alert', title: 'Nobody home', message: 'Read me by mail', preferred_channels: ['mobile'] });
      await jobsDone(server, instance);
      await waitFor(() => mailsTo(smtp.received, instance).length === 1, 'the fallback mail');
      const mail = mailsTo(smtp.received, instance)[0]!;
      expect(mail.raw).toContain('Subject: Nobody home');
      expect(mail.raw).toContain('Read me by mail');
    });

    it('a provider that is not configured does not swallow the notification', async () => {
      const { instance, appToken } = await setup(bare);
      const t = `${engine}-bare`;
      await client(bare, instance, { notificationPlatform: 'firebase', notificationDeviceToken: `fcm-ok-${t}` });
      await client(bare, instance, { notificationPlatform: 'huawei', notificationDeviceToken: `huawei-${t}` });
      await client(bare, instance, { notificationPlatform: 'apns', notificationDeviceToken: `apns-ok-flag-${t}`, flagship: true });
      await send(bare, instance, appToken, { category: 'share', title: 'Still here', preferred_channels: ['mobile'] });
      await jobsDone(bare, instance);
      expect(fcm.requests.filter((d) => d.token === `fcm-ok-${t}`)).toHaveLength(0);
      expect(apns.delivered.filter((d) => d.token === `apns-ok-flag-${t}`)).toHaveLength(1);

      // Only unconfigured providers everywhere: the mail fallback.
      const other = await setup(bare);
      await client(bare, other.instance, { notificationPlatform: 'firebase', notificationDeviceToken: `fcm-ok-${t}-2`, flagship: true });
      await send(bare, other.instance, other.appToken, { category: 'share', title: 'By mail', preferred_channels: ['mobile'] });
      await jobsDone(bare, other.instance);
      await waitFor(() => mailsTo(bareSmtp.received, other.instance).length === 1, 'the fallback mail');
    });

    it('an unregistered device loses its push registration (the client is kept)', async () => {
      const { instance, appToken } = await setup();
      const t = `${engine}-gone`;
      const f = await client(server, instance, { notificationPlatform: 'firebase', notificationDeviceToken: `fcm-gone-${t}` });
      const a = await client(server, instance, { notificationPlatform: 'apns', notificationDeviceToken: `apns-gone-${t}`, flagship: true });
      await send(server, instance, appToken, { category: 'share', title: 'Gone', preferred_channels: ['mobile'] });
      await jobsDone(server, instance);
      for (const c of [f, a]) {
        const after = await getOAuthClient(server.hearth.services.db, instance.id, c.id);
        expect(after).not.toBeNull();
        expect(after!.notificationPlatform).toBeNull();
        expect(after!.notificationDeviceToken).toBeNull();
      }
      await waitFor(() => mailsTo(smtp.received, instance).length === 1, 'the fallback mail');
      // No notifiable client any more: the mobile channel fails at once and mail is used.
      await send(server, instance, appToken, { category: 'share', title: 'Gone again', preferred_channels: ['mobile'] });
      const jobs = await listJobs<{ channel: string }>(server.hearth.services.db, { queue: 'push', instanceId: instance.id });
      expect(jobs.map((j) => j.payload.channel)).toEqual(['mobile', 'mail']);
    });

    it('a transient provider error is retried with backoff and delivered once', async () => {
      const { instance, appToken } = await setup();
      const token = `fcm-flaky-${engine}`;
      await client(server, instance, { notificationPlatform: 'firebase', notificationDeviceToken: token });
      await client(server, instance, { notificationPlatform: 'apns', notificationDeviceToken: `apns-ok-flag-flaky-${engine}`, flagship: true });
      await send(server, instance, appToken, { category: 'share', title: 'Retry', preferred_channels: ['mobile'] });
      await waitFor(() => fcm.delivered.some((d) => d.token === token), 'the retried push');
      await jobsDone(server, instance);
      expect(fcm.requests.filter((d) => d.token === token)).toHaveLength(2);
      expect(fcm.delivered.filter((d) => d.token === token)).toHaveLength(1);
      const [job] = await listJobs(server.hearth.services.db, { queue: 'push', instanceId: instance.id });
      expect(job).toMatchObject({ status: 'done', attempts: 2 });
      expect(apns.requests.filter((d) => d.token === `apns-ok-flag-flaky-${engine}`)).toHaveLength(0);
      expect(mailsTo(smtp.received, instance)).toHaveLength(0);
    });

    it('stops tier 1 after 10 successful pushes', async () => {
      const { instance, appToken } = await setup();
      for (let i = 0; i < 12; i++) await client(server, instance, { notificationPlatform: 'firebase', notificationDeviceToken: `fcm-ok-ten-${engine}-${i}` });
      await send(server, instance, appToken, { category: 'share', title: 'Ten', preferred_channels: ['mobile'] });
      await jobsDone(server, instance);
      expect(fcm.delivered.filter((d) => d.token.startsWith(`fcm-ok-ten-${engine}-`))).toHaveLength(10);
    });

    it('the FCM access token is obtained from the service account and reused', async () => {
      expect(fcm.tokenRequests).toBeGreaterThanOrEqual(1);
      expect(fcm.requests.length).toBeGreaterThan(fcm.tokenRequests);
      expect(fcm.requests.every((r) => r.authorization === 'Bearer fcm-access-token-1')).toBe(true);
    });
  });
});
