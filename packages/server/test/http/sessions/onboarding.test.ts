import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishOnboarding, getInstallFlagshipAppPage } from '@hearth/client';
import { updateInstance, type Instance } from '../../../src/repositories/instances.js';
import { updateSettings } from '../../../src/repositories/settings.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const IPAD = 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36';
const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0';

describe.each(testEngines)('onboarding helpers (%s)', (engine) => {
  let server: TestServer;
  let alice: Instance;

  beforeAll(async () => {
    server = await startTestServer({
      engine,
      configYaml: ['contexts:', '  beta:', '    onboarded_redirection: drive/#/intro', '    default_redirection: photos/'].join('\n'),
    });
    alice = await server.createInstance('alice', { kdf_iterations: 50000 });
  });
  afterAll(() => server.stop());

  const html = (domain: string, ua?: string, cookie?: string) =>
    server.client(domain, { cookie, headers: { Accept: 'text/html', ...(ua ? { 'User-Agent': ua } : {}) } });

  describe('GET /settings/onboarded', () => {
    it('redirects to the login page when not logged in, changing nothing', async () => {
      const inst = await server.createInstance('fresh');
      expect(inst.onboardingFinished).toBe(false);
      const res = await finishOnboarding({ client: html(inst.domain, DESKTOP) });
      expect(res.response.status).toBe(303);
      expect(res.response.headers.get('location')).toBe(`http://${inst.domain}/auth/login`);
      expect((await server.instance(inst.domain)).onboardingFinished).toBe(false);
    });

    it('finishes the onboarding and redirects to the home app', async () => {
      const inst = await server.createInstance('newbie');
      const { cookie } = await server.login(inst);
      const res = await finishOnboarding({ client: html(inst.domain, DESKTOP, cookie) });
      expect(res.response.status).toBe(303);
      expect(res.response.headers.get('location')).toBe(`http://home.${inst.domain}/`);
      expect((await server.instance(inst.domain)).onboardingFinished).toBe(true);
      // Again: still a redirection.
      const again = await finishOnboarding({ client: html(inst.domain, DESKTOP, cookie) });
      expect(again.response.status).toBe(303);
    });

    it('sends a mobile browser to /settings/install_flagship_app', async () => {
      const inst = await server.createInstance('mobile');
      const { cookie } = await server.login(inst);
      for (const ua of [IPHONE, ANDROID]) {
        const res = await finishOnboarding({ client: html(inst.domain, ua, cookie) });
        expect(res.response.status).toBe(303);
        expect(res.response.headers.get('location')).toBe(`http://${inst.domain}/settings/install_flagship_app`);
      }
      expect((await server.instance(inst.domain)).onboardingFinished).toBe(true);
    });

    it('uses the onboarded redirection of the context', async () => {
      const inst = await server.createInstance('beta', { context: 'beta' });
      const { cookie } = await server.login(inst);
      const res = await finishOnboarding({ client: html(inst.domain, DESKTOP, cookie) });
      expect(res.response.headers.get('location')).toBe(`http://drive.${inst.domain}/#/intro`);
    });

    it('else the home app, whatever the default redirection (reference OnboardedRedirection)', async () => {
      const inst = await server.createInstance('custom');
      await updateSettings(server.hearth.services.db, inst.id, (doc) => ({ ...doc, default_redirection: 'notes/n/1' }));
      const { cookie } = await server.login(inst);
      const res = await finishOnboarding({ client: html(inst.domain, DESKTOP, cookie) });
      expect(res.response.headers.get('location')).toBe(`http://home.${inst.domain}/`);
    });

    it('a session of another instance is not a login', async () => {
      const inst = await server.createInstance('other');
      const { cookie } = await server.login(alice);
      const res = await finishOnboarding({ client: html(inst.domain, DESKTOP, cookie) });
      expect(res.response.headers.get('location')).toBe(`http://${inst.domain}/auth/login`);
      expect((await server.instance(inst.domain)).onboardingFinished).toBe(false);
    });

    it('answers 404 for an unknown host', async () => {
      const res = await finishOnboarding({ client: server.client(`nobody.test:${server.port}`) });
      expect(res.response.status).toBe(404);
    });
  });

  describe('GET /settings/install_flagship_app', () => {
    const page = async (domain: string, ua?: string) => {
      const res = await getInstallFlagshipAppPage({ client: html(domain, ua), parseAs: 'text' });
      expect(res.response.status).toBe(200);
      expect(res.response.headers.get('content-type')).toMatch(/^text\/html/);
      return res.data as unknown as string;
    };

    it('links to the App Store for an iPhone or an iPad, and skips to the onboarded redirection', async () => {
      for (const ua of [IPHONE, IPAD]) {
        const body = await page(alice.domain, ua);
        expect(body).toContain('href="https://apps.apple.com/en/app/id1600636174"');
        expect(body).toContain(`href="http://home.${alice.domain}/"`);
        expect(body).not.toContain('play.google.com');
      }
    });

    it('links to the Play Store for Android', async () => {
      const body = await page(alice.domain, ANDROID);
      expect(body).toContain('https://play.google.com/store/apps/details?id=io.cozy.flagship.mobile&amp;hl=en');
      expect(body).not.toContain('apps.apple.com');
    });

    it('links to the download page otherwise', async () => {
      expect(await page(alice.domain, DESKTOP)).toContain('href="https://cozy.io/en/download"');
      expect(await page(alice.domain)).toContain('href="https://cozy.io/en/download"');
    });

    it('uses the store ids of the flags and the instance locale', async () => {
      const inst = await server.createInstance('flags', {
        locale: 'fr',
        feature_flags: { 'flagship.appstore_id': 'id42', 'flagship.playstore_id': 'io.example.app' },
      });
      expect(await page(inst.domain, IPHONE)).toContain('href="https://apps.apple.com/fr/app/id42"');
      expect(await page(inst.domain, ANDROID)).toContain('https://play.google.com/store/apps/details?id=io.example.app&amp;hl=fr');
      expect(await page(inst.domain, DESKTOP)).toContain('href="https://cozy.io/fr/download"');
    });

    it('skips to the onboarded redirection of the context', async () => {
      const inst = await server.createInstance('betapage', { context: 'beta' });
      expect(await page(inst.domain, IPHONE)).toContain(`href="http://drive.${inst.domain}/#/intro"`);
    });

    it('needs no authentication, even on a blocked instance it is served', async () => {
      const inst = await server.createInstance('blocked');
      await updateInstance(server.hearth.services.db, inst.id, { blocked: true, blockingReason: 'PAYMENT_FAILED' });
      const res = await getInstallFlagshipAppPage({ client: html(inst.domain, IPHONE), parseAs: 'text' });
      expect(res.response.status).toBe(200);
    });

    it('answers 404 for an unknown host', async () => {
      const res = await getInstallFlagshipAppPage({ client: server.client(`nobody.test:${server.port}`) });
      expect(res.response.status).toBe(404);
    });
  });
});
