// The authorization code flow with PKCE, end to end through HTTP: registration, login cookie,
// consent page, consent form, code exchange, access token use, refresh.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, createAccessToken, createPkce, deleteOAuthClientRegistration, getCapabilities, getOAuthClientRegistration } from '@hearth/client';
import { jwtVerify } from 'jose';
import { loopbackFetch } from '../../helpers/http.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { authorizePage, hiddenField, register, setCookies, type RegisteredClient } from './helpers.js';

describe.each(testEngines)('OAuth authorization code flow (%s)', (engine) => {
  let server: TestServer;
  let domain: string;
  let cookie: string;
  beforeAll(async () => {
    server = await startTestServer({ engine });
    const alice = await server.createInstance('alice');
    domain = alice.domain;
    cookie = (await server.login(alice)).cookie;
  });
  afterAll(() => server.stop());

  /** Consent page then consent form: answers the access code of the redirect. */
  async function consent(client: RegisteredClient, opts: { scope: string; challenge?: string; ua?: string }) {
    const query = {
      client_id: client.client_id,
      redirect_uri: 'http://localhost:4000/cb',
      state: 'st-123',
      response_type: 'code',
      scope: opts.scope,
      ...(opts.challenge ? { code_challenge: opts.challenge, code_challenge_method: 'S256' } : {}),
    };
    const page = await authorizePage(server, domain, query, cookie);
    expect(page.res.response.status, page.text).toBe(200);
    expect(page.res.response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const setCookie = page.res.response.headers.getSetCookie().find((c) => c.startsWith('_csrf='))!;
    expect(setCookie).toMatch(/^_csrf=[A-Za-z0-9]{32}; Path=\/auth; Max-Age=3600; HttpOnly(; Secure)?; SameSite=Strict$/);
    const csrf = setCookies(page.res.response)._csrf!;
    expect(hiddenField(page.text, 'csrf_token')).toBe(csrf);
    expect(hiddenField(page.text, 'client_id')).toBe(client.client_id);
    expect(hiddenField(page.text, 'scope')).toBe(opts.scope);
    expect(hiddenField(page.text, 'code_challenge')).toBe(opts.challenge);
    const form = {
      csrf_token: hiddenField(page.text, 'csrf_token')!,
      client_id: hiddenField(page.text, 'client_id')!,
      state: hiddenField(page.text, 'state')!,
      redirect_uri: hiddenField(page.text, 'redirect_uri')!,
      scope: hiddenField(page.text, 'scope')!,
      response_type: hiddenField(page.text, 'response_type')!,
      ...(opts.challenge ? { code_challenge: hiddenField(page.text, 'code_challenge')!, code_challenge_method: hiddenField(page.text, 'code_challenge_method')! } : {}),
    };
    const headers: Record<string, string> = { Accept: 'text/html' };
    if (opts.ua) headers['User-Agent'] = opts.ua;
    const posted = await authorize({ client: server.client(domain, { cookie: `${cookie}; _csrf=${csrf}`, headers }), body: form as never });
    expect(posted.response.status).toBe(302);
    const location = posted.response.headers.get('location')!;
    expect(location.endsWith('#')).toBe(true);
    const url = new URL(location);
    expect(url.origin + url.pathname).toBe('http://localhost:4000/cb');
    expect(url.searchParams.get('state')).toBe('st-123');
    const code = url.searchParams.get('access_code')!;
    expect(code).toMatch(/^[0-9a-f]{32}$/);
    expect(url.searchParams.get('code')).toBe(code);
    return code;
  }

  it('registers, authorizes with PKCE, exchanges the code, uses and refreshes the token', async () => {
    const client = await register(server, domain, { client_name: 'Flow client' });
    expect(client.pending).toBe(true);
    const pkce = await createPkce();
    const code = await consent(client, {
      scope: 'io.cozy.files io.cozy.settings:GET',
      challenge: pkce.codeChallenge,
      ua: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36',
    });

    // The consent cleared `pending` and recorded the OS.
    const reg = await getOAuthClientRegistration({ client: server.client(domain, { token: client.registration_access_token }), path: { clientId: client.client_id } });
    expect(reg.response.status).toBe(200);
    expect(reg.data).not.toHaveProperty('pending');
    expect(reg.data?.client_os).toBe('Android');

    const tokenRes = await createAccessToken({
      client: server.client(domain, { headers: { Authorization: 'null' } }),
      body: { grant_type: 'authorization_code', client_id: client.client_id, client_secret: client.client_secret, code, code_verifier: pkce.codeVerifier },
    });
    expect(tokenRes.response.status, JSON.stringify(tokenRes.error)).toBe(200);
    const tokens = tokenRes.data!;
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('io.cozy.files io.cozy.settings:GET');
    expect(tokens.refresh_token).toBeTruthy();

    const instance = await server.instance(domain);
    const key = Buffer.from(instance.oauthSecret, 'base64');
    const access = await jwtVerify(tokens.access_token, key);
    expect(access.payload).toMatchObject({ aud: ['access'], iss: domain, sub: client.client_id, scope: 'io.cozy.files io.cozy.settings:GET' });
    expect(access.payload.exp).toBeUndefined();
    const refresh = await jwtVerify(tokens.refresh_token!, key);
    expect(refresh.payload).toMatchObject({ aud: ['refresh'], sub: client.client_id });

    const caps = await getCapabilities({ client: server.client(domain, { token: tokens.access_token }) });
    expect(caps.response.status).toBe(200);

    const after = await getOAuthClientRegistration({ client: server.client(domain, { token: client.registration_access_token }), path: { clientId: client.client_id } });
    expect(typeof after.data?.last_refreshed_at).toBe('string');

    // Refresh: a new access token, and no refresh_token in the answer.
    const refreshed = await createAccessToken({
      client: server.client(domain),
      body: { grant_type: 'refresh_token', client_id: client.client_id, client_secret: client.client_secret, refresh_token: tokens.refresh_token! },
    });
    expect(refreshed.response.status).toBe(200);
    expect(refreshed.data).not.toHaveProperty('refresh_token');
    expect(refreshed.data?.scope).toBe('io.cozy.files io.cozy.settings:GET');
    const caps2 = await getCapabilities({ client: server.client(domain, { token: refreshed.data!.access_token }) });
    expect(caps2.response.status).toBe(200);

    // The code is single use.
    const again = await createAccessToken({
      client: server.client(domain),
      body: { grant_type: 'authorization_code', client_id: client.client_id, client_secret: client.client_secret, code, code_verifier: pkce.codeVerifier },
    });
    expect(again.response.status).toBe(400);
    expect(again.error).toEqual({ error: 'invalid code' });

    // Once the client is deleted, its tokens are dead and the refresh is refused.
    const del = await deleteOAuthClientRegistration({ client: server.client(domain, { token: client.registration_access_token }), path: { clientId: client.client_id } });
    expect(del.response.status).toBe(204);
    const refusedRefresh = await createAccessToken({
      client: server.client(domain),
      body: { grant_type: 'refresh_token', client_id: client.client_id, client_secret: client.client_secret, refresh_token: tokens.refresh_token! },
    });
    expect(refusedRefresh.response.status).toBe(400);
    expect(refusedRefresh.error).toEqual({ error: 'the client must be registered' });
    const deadToken = await getCapabilities({ client: server.client(domain, { token: tokens.access_token }) });
    expect(deadToken.response.status).toBe(400);
  });

  it('refuses a wrong or missing PKCE verifier without consuming the code', async () => {
    const client = await register(server, domain, { client_name: 'Pkce client' });
    const pkce = await createPkce();
    const other = await createPkce();
    const code = await consent(client, { scope: 'io.cozy.files', challenge: pkce.codeChallenge });
    const base = { grant_type: 'authorization_code', client_id: client.client_id, client_secret: client.client_secret, code };
    const wrong = await createAccessToken({ client: server.client(domain), body: { ...base, code_verifier: other.codeVerifier } });
    expect(wrong.response.status).toBe(400);
    expect(wrong.error).toEqual({ error: 'invalid code_verifier' });
    const missing = await createAccessToken({ client: server.client(domain), body: base });
    expect(missing.error).toEqual({ error: 'invalid code_verifier' });
    const right = await createAccessToken({ client: server.client(domain), body: { ...base, code_verifier: pkce.codeVerifier } });
    expect(right.response.status).toBe(200);
  });

  it('exchanges a code without PKCE, sent as multipart, and refuses it to another client', async () => {
    const client = await register(server, domain, { client_name: 'Plain client' });
    const thief = await register(server, domain, { client_name: 'Thief' });
    const code = await consent(client, { scope: 'io.cozy.files:GET' });
    const stolen = await createAccessToken({
      client: server.client(domain),
      body: { grant_type: 'authorization_code', client_id: thief.client_id, client_secret: thief.client_secret, code },
    });
    expect(stolen.error).toEqual({ error: 'invalid code' });
    const form = new FormData();
    form.set('grant_type', 'authorization_code');
    form.set('client_id', client.client_id);
    form.set('client_secret', client.client_secret);
    form.set('code', code);
    const res = await fetchMultipart(form);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { scope: string }).scope).toBe('io.cozy.files:GET');
  });

  function fetchMultipart(form: FormData): Promise<Response> {
    return loopbackFetch(`http://${domain}/auth/access_token`, { method: 'POST', body: form, headers: { Accept: 'application/json' } });
  }
});
