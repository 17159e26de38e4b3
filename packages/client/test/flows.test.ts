// The flow helpers (src/helpers/flows.ts) against a small node:http fake of the server that
// replays the contract's documented answers: every status and body below is an example of
// openapi/dist/openapi.json (the fake only decides WHICH documented answer fits the request).
// The real server runs the same flows in packages/server/test/story and test/browser.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  authorizeWithPkce,
  createClient,
  createConfig,
  createKonnectorToken,
  exchangeCode,
  flagshipLogin,
  FlowError,
  getInstanceSettings,
  hashPassphrase,
  prepareAuthorize,
  refreshTokens,
  withTokenRefresh,
  type OAuthTokens,
} from '../src/index.js';

const require = createRequire(import.meta.url);
type Json = Record<string, unknown>;
const spec = require('@hearth/contract/openapi.json') as { paths: Record<string, Record<string, Json>>; components: Record<string, Record<string, Json>> };

const deref = (o: Json, kind: string): Json => (typeof o.$ref === 'string' ? (spec.components[kind]![o.$ref.split('/').pop()!] as Json) : o);
/** The value of a documented example: path, method, status, media type, example name. */
function example(path: string, method: string, status: number, name: string, mediaType = 'application/json'): unknown {
  const op = spec.paths[path]![method] as { responses: Record<string, Json> };
  const response = deref(op.responses[String(status)]!, 'responses') as { content: Record<string, { examples: Record<string, Json> }> };
  const ex = response.content[mediaType]!.examples[name];
  if (!ex) throw new Error(`no example ${name} for ${method} ${path} ${status}`);
  return deref(ex, 'examples').value;
}

const DOMAIN = 'alice.localhost:8080';
const PASSWORD = 'correct horse battery staple';
const CLIENT = { id: '64ce5cb0bd4c4d39a3bd7c6b7ad0f3ab', secret: 'the-client-secret' };
const PASSCODE = '123456';
const prelogin = example('/public/prelogin', 'get', 200, 'passphrase') as { KdfIterations: number };
const twoFactorNeeded = example('/auth/login/flagship', 'post', 401, 'twoFactorNeeded') as { two_factor_token: string };
const codeTokens = example('/auth/access_token', 'post', 200, 'authorizationCode') as OAuthTokens;
const refreshed = example('/auth/access_token', 'post', 200, 'refreshToken') as OAuthTokens;

interface Scenario {
  onboarded: boolean;
  twoFactor: boolean;
  certified: boolean;
  /** The challenge the fake authorize step recorded. */
  challenge?: string;
  /** The access token the protected routes accept. */
  validAccessToken: string;
}

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('flow helpers against the documented answers', () => {
  let server: Server;
  let baseUrl: string;
  let expectedHash: string;
  let scenario: Scenario;
  const requests: Recorded[] = [];

  const reply = (res: import('node:http').ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const html = typeof body === 'string';
    res.writeHead(status, { 'Content-Type': html ? 'text/html; charset=utf-8' : 'application/json', ...headers });
    res.end(html ? body : JSON.stringify(body));
  };

  beforeAll(async () => {
    expectedHash = await hashPassphrase(PASSWORD, DOMAIN, prelogin.KdfIterations);
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://fake');
        const body = Buffer.concat(chunks).toString('utf8');
        requests.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body });
        const route = `${req.method} ${url.pathname}`;
        if (route === 'GET /public/prelogin') {
          if (!scenario.onboarded) return reply(res, 412, example('/public/prelogin', 'get', 412, 'notOnboarded'));
          return reply(res, 200, prelogin);
        }
        if (route === 'POST /auth/login/flagship') {
          if (!scenario.onboarded) return reply(res, 200, example('/auth/login/flagship', 'post', 200, 'needOnboarding', 'text/html'));
          const b = JSON.parse(body) as Json;
          if (b.passphrase !== expectedHash) return reply(res, 401, example('/auth/login/flagship', 'post', 401, 'wrongPassphrase'));
          if (scenario.twoFactor && b.email_verified_code !== 'verified-code') {
            if (!b.two_factor_token) return reply(res, 401, twoFactorNeeded);
            if (b.two_factor_token !== twoFactorNeeded.two_factor_token || b.two_factor_passcode !== PASSCODE) {
              return reply(res, 403, example('/auth/login/flagship', 'post', 403, 'wrongPasscode'));
            }
          }
          if (b.client_id !== CLIENT.id) return reply(res, 400, example('/auth/login/flagship', 'post', 400, 'unknownClient'));
          if (b.client_secret !== CLIENT.secret) return reply(res, 400, example('/auth/login/flagship', 'post', 400, 'badSecret'));
          if (!scenario.certified) return reply(res, 202, example('/auth/login/flagship', 'post', 202, 'sessionCode'));
          return reply(res, 200, example('/auth/login/flagship', 'post', 200, 'tokens'));
        }
        if (route === 'POST /auth/access_token') {
          const form = new URLSearchParams(body);
          const err = (name: string) => reply(res, 400, example('/auth/access_token', 'post', 400, name));
          if (!form.get('grant_type')) return err('missingGrantType');
          if (form.get('client_id') !== CLIENT.id) return err('unknownClient');
          if (form.get('client_secret') !== CLIENT.secret) return err('invalidClientSecret');
          if (form.get('grant_type') === 'authorization_code') {
            if (form.get('code') !== 'the-access-code') return err('invalidCode');
            const verifier = form.get('code_verifier') ?? '';
            if (createHash('sha256').update(verifier).digest('base64url') !== scenario.challenge) return err('invalidCodeVerifier');
            return reply(res, 200, codeTokens);
          }
          if (form.get('grant_type') === 'refresh_token') {
            if (form.get('refresh_token') !== codeTokens.refresh_token) return err('invalidRefreshToken');
            return reply(res, 200, refreshed);
          }
          return err('invalidGrantType');
        }
        const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        if (route === 'GET /settings/instance') {
          if (!bearer) return reply(res, 401, example('/settings/instance', 'get', 401, 'noToken'));
          if (bearer !== scenario.validAccessToken) {
            return reply(res, 400, example('/settings/instance', 'get', 400, 'expiredToken'), {
              'WWW-Authenticate': 'Bearer error="invalid_token" error_description="The access token expired"',
            });
          }
          return reply(res, 200, example('/settings/instance', 'get', 200, 'onboarded', 'application/vnd.api+json'), { 'Content-Type': 'application/vnd.api+json' });
        }
        if (route === 'POST /auth/tokens/konnectors/banks') {
          if (bearer !== scenario.validAccessToken) return reply(res, 403, example('/auth/tokens/konnectors/{slug}', 'post', 403, 'expiredToken'));
          return reply(res, 201, example('/auth/tokens/konnectors/{slug}', 'post', 201, 'konnectorToken'));
        }
        if (route === 'GET /settings/capabilities') return reply(res, 403, { error: 'Forbidden' });
        reply(res, 404, { error: 'not in the fake' });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    scenario = { onboarded: true, twoFactor: false, certified: true, validAccessToken: codeTokens.access_token };
    requests.length = 0;
  });

  const client = () => createClient(createConfig({ baseUrl, headers: { Accept: 'application/json' } }));
  const login = (o: Partial<Parameters<typeof flagshipLogin>[0]> = {}) =>
    flagshipLogin({ client: client(), domain: DOMAIN, password: PASSWORD, clientId: CLIENT.id, clientSecret: CLIENT.secret, ...o });
  const rejection = async (p: Promise<unknown>): Promise<FlowError> => {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(FlowError);
    return e as FlowError;
  };

  describe('flagshipLogin', () => {
    it('hashes with the prelogin iterations and resolves the tokens of a certified client', async () => {
      const result = await login();
      expect(result).toEqual({ kind: 'tokens', tokens: example('/auth/login/flagship', 'post', 200, 'tokens') });
      expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /public/prelogin', 'POST /auth/login/flagship']);
      const sent = JSON.parse(requests[1]!.body) as Json;
      expect(sent).toEqual({ passphrase: expectedHash, client_id: CLIENT.id, client_secret: CLIENT.secret });
      expect(sent.passphrase).toHaveLength(44);
      expect(requests[1]!.body).not.toContain(PASSWORD);
    });

    it('resolves a session code for an uncertified client (202)', async () => {
      scenario.certified = false;
      expect(await login()).toEqual({ kind: 'session_code', sessionCode: '7Xi1ZJYSPXNkHePxGUYPZmFbTqA1RQTx' });
    });

    it('asks the callback for the passcode and retries with two_factor_token + two_factor_passcode', async () => {
      scenario.twoFactor = true;
      const asked: string[] = [];
      const result = await login({
        twoFactor: async (ctx) => {
          asked.push(ctx.twoFactorToken);
          return PASSCODE;
        },
      });
      expect(result.kind).toBe('tokens');
      expect(asked).toEqual([twoFactorNeeded.two_factor_token]);
      const logins = requests.filter((r) => r.path === '/auth/login/flagship').map((r) => JSON.parse(r.body) as Json);
      expect(logins).toHaveLength(2);
      expect(logins[0]).not.toHaveProperty('two_factor_token');
      expect(logins[1]).toMatchObject({ two_factor_token: twoFactorNeeded.two_factor_token, two_factor_passcode: PASSCODE, passphrase: expectedHash });
    });

    it('sends email_verified_code, which skips the second factor', async () => {
      scenario.twoFactor = true;
      const result = await login({ emailVerifiedCode: 'verified-code', twoFactor: () => Promise.reject(new Error('not asked')) });
      expect(result.kind).toBe('tokens');
      expect(JSON.parse(requests[1]!.body)).toMatchObject({ email_verified_code: 'verified-code' });
    });

    it.each([
      ['a wrong passphrase', { password: 'wrong' }, {}, 'wrong_passphrase', 401, 'The password you entered is incorrect, please try again.'],
      ['a wrong passcode', { twoFactor: async () => '000000' }, { twoFactor: true }, 'wrong_passcode', 403, 'The passcode you entered is incorrect, please try again.'],
      ['2FA without a callback', {}, { twoFactor: true }, 'two_factor_required', 401, undefined],
      ['an unknown client', { clientId: 'nope' }, {}, 'client_not_registered', 400, 'the client must be registered'],
      ['a wrong client secret', { clientSecret: 'nope' }, {}, 'invalid_client_secret', 400, 'invalid client_secret'],
      ['a non-onboarded instance', {}, { onboarded: false }, 'not_onboarded', 412, 'the instance has not been onboarded'],
    ] as const)('rejects %s with a typed error', async (_name, opts, sc, code, status, message) => {
      Object.assign(scenario, sc);
      const e = await rejection(login(opts));
      expect(e.code).toBe(code);
      expect(e.status).toBe(status);
      if (message) expect(e.message).toBe(message);
    });
  });

  describe('authorize with PKCE and the code exchange', () => {
    it('builds the URL with a S256 challenge and exchanges the code as a form with the verifier', async () => {
      let opened = '';
      const tokens = await authorizeWithPkce({
        client: client(),
        instanceUrl: `http://${DOMAIN}`,
        clientId: CLIENT.id,
        clientSecret: CLIENT.secret,
        redirectUri: 'cozy://flagship',
        sessionCode: 'abc',
        open: async (url) => {
          opened = url;
          const u = new URL(url);
          scenario.challenge = u.searchParams.get('code_challenge') ?? undefined;
          return `cozy://flagship?state=${encodeURIComponent(u.searchParams.get('state')!)}&access_code=the-access-code&code=the-access-code#`;
        },
      });
      expect(tokens).toEqual(codeTokens);
      const u = new URL(opened);
      expect(u.pathname).toBe('/auth/authorize');
      expect(Object.fromEntries(u.searchParams)).toMatchObject({
        client_id: CLIENT.id,
        redirect_uri: 'cozy://flagship',
        response_type: 'code',
        scope: '*',
        code_challenge_method: 'S256',
        session_code: 'abc',
      });
      expect(u.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const exchange = requests.find((r) => r.path === '/auth/access_token')!;
      expect(exchange.headers['content-type']).toContain('application/x-www-form-urlencoded');
      expect(new URLSearchParams(exchange.body).get('grant_type')).toBe('authorization_code');
    });

    it('rejects a redirect carrying another state', async () => {
      const e = await rejection(
        authorizeWithPkce({
          client: client(),
          instanceUrl: `http://${DOMAIN}`,
          clientId: CLIENT.id,
          clientSecret: CLIENT.secret,
          redirectUri: 'cozy://flagship',
          open: async () => 'cozy://flagship?state=forged&access_code=the-access-code',
        }),
      );
      expect(e.code).toBe('state_mismatch');
      expect(requests.some((r) => r.path === '/auth/access_token')).toBe(false);
    });

    it('reports a wrong verifier and a wrong code with the server message', async () => {
      const prepared = await prepareAuthorize({ instanceUrl: baseUrl, clientId: CLIENT.id, redirectUri: 'cozy://flagship' });
      scenario.challenge = prepared.codeChallenge;
      const wrongVerifier = await rejection(exchangeCode({ client: client(), clientId: CLIENT.id, clientSecret: CLIENT.secret, code: 'the-access-code', codeVerifier: 'x'.repeat(43) }));
      expect([wrongVerifier.code, wrongVerifier.status, wrongVerifier.message]).toEqual(['token_exchange_failed', 400, 'invalid code_verifier']);
      const wrongCode = await rejection(exchangeCode({ client: client(), clientId: CLIENT.id, clientSecret: CLIENT.secret, code: 'nope', codeVerifier: prepared.codeVerifier }));
      expect(wrongCode.message).toBe('invalid code');
      const badClient = await rejection(exchangeCode({ client: client(), clientId: CLIENT.id, clientSecret: 'nope', code: 'the-access-code', codeVerifier: prepared.codeVerifier }));
      expect(badClient.code).toBe('invalid_client_secret');
      expect(await exchangeCode({ client: client(), clientId: CLIENT.id, clientSecret: CLIENT.secret, code: 'the-access-code', codeVerifier: prepared.codeVerifier })).toEqual(codeTokens);
    });
  });

  describe('token refresh', () => {
    it('a refresh answer without refresh_token keeps the old one', async () => {
      const tokens = await refreshTokens({ client: client(), clientId: CLIENT.id, clientSecret: CLIENT.secret, refreshToken: codeTokens.refresh_token! });
      expect(refreshed).not.toHaveProperty('refresh_token');
      expect(tokens).toEqual({ ...refreshed, refresh_token: codeTokens.refresh_token });
    });

    function refreshingClient(initial: OAuthTokens) {
      let tokens: OAuthTokens | undefined = initial;
      const stored: OAuthTokens[] = [];
      const c = client();
      const eject = withTokenRefresh(c, {
        clientId: CLIENT.id,
        clientSecret: CLIENT.secret,
        getTokens: () => tokens,
        setTokens: (t) => {
          tokens = t;
          stored.push(t);
        },
      });
      return { c, stored, eject, current: () => tokens };
    }

    it('on 400 "Expired token" + WWW-Authenticate, refreshes once and retries once with the new token', async () => {
      scenario.validAccessToken = refreshed.access_token; // the access token the app holds has expired
      const { c, stored } = refreshingClient(codeTokens);
      const { data, response } = await getInstanceSettings({ client: c });
      expect(response.status).toBe(200);
      expect(data).toEqual(example('/settings/instance', 'get', 200, 'onboarded', 'application/vnd.api+json'));
      expect(requests.map((r) => `${r.method} ${r.path} ${r.headers.authorization ?? ''}`)).toEqual([
        `GET /settings/instance Bearer ${codeTokens.access_token}`,
        'POST /auth/access_token ',
        `GET /settings/instance Bearer ${refreshed.access_token}`,
      ]);
      expect(new URLSearchParams(requests[1]!.body).get('grant_type')).toBe('refresh_token');
      expect(stored).toEqual([{ ...refreshed, refresh_token: codeTokens.refresh_token }]);
    });

    it('refreshes on a 403 {"message":"Expired token"} (konnector tokens) and retries the POST', async () => {
      scenario.validAccessToken = refreshed.access_token;
      const { c } = refreshingClient(codeTokens);
      const { data, response } = await createKonnectorToken({ client: c, path: { slug: 'banks' } });
      expect(response.status).toBe(201);
      expect(data).toBe(example('/auth/tokens/konnectors/{slug}', 'post', 201, 'konnectorToken'));
      expect(requests.map((r) => r.path)).toEqual(['/auth/tokens/konnectors/banks', '/auth/access_token', '/auth/tokens/konnectors/banks']);
    });

    it('does not refresh on other errors, and retries only once', async () => {
      const { c } = refreshingClient(codeTokens);
      const forbidden = await c.get({ url: '/settings/capabilities', security: [{ scheme: 'bearer', type: 'http' }] });
      expect(forbidden.response.status).toBe(403);
      expect(requests.map((r) => r.path)).toEqual(['/settings/capabilities']);

      // The refreshed token is not accepted either: one refresh, one retry, then the error stands.
      requests.length = 0;
      scenario.validAccessToken = 'something else';
      const { response } = await getInstanceSettings({ client: c });
      expect(response.status).toBe(400);
      expect(requests.map((r) => r.path)).toEqual(['/settings/instance', '/auth/access_token', '/settings/instance']);
    });

    it('returns the original answer when the refresh itself fails', async () => {
      scenario.validAccessToken = refreshed.access_token;
      const errors: unknown[] = [];
      const c = client();
      withTokenRefresh(c, {
        clientId: CLIENT.id,
        clientSecret: CLIENT.secret,
        getTokens: () => ({ ...codeTokens, refresh_token: 'revoked' }),
        setTokens: () => undefined,
        onRefreshError: (e) => errors.push(e),
      });
      const { error, response } = await getInstanceSettings({ client: c });
      expect(response.status).toBe(400);
      expect(error).toEqual({ error: 'Expired token' });
      expect((errors[0] as FlowError).message).toBe('invalid refresh token');
    });

    it('the returned function removes the interceptors', async () => {
      scenario.validAccessToken = refreshed.access_token;
      const { c, eject } = refreshingClient(codeTokens);
      eject();
      const { response } = await getInstanceSettings({ client: c });
      expect(response.status).toBe(400);
      expect(requests.map((r) => r.path)).toEqual(['/settings/instance']);
    });
  });
});
