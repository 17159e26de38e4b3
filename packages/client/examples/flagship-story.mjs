#!/usr/bin/env node
// The flagship app's whole story (seed 000 "Flagship App", reference §5), told with the generated
// client and its helpers only, against a running Hearth server:
//
//   1. (admin API) create a fresh instance, not onboarded (its register token comes back)
//   2. POST /auth/register                           register the app as an OAuth client
//   3. POST /auth/clients/:id/challenge              get a nonce
//   4. POST /auth/clients/:id/attestation            a Play Integrity token → the client is flagship
//   5. POST /settings/passphrase/flagship            onboarding: choose the passphrase → tokens (*)
//   6. (admin API) switch the instance to two_factor_mail
//   7. GET /public/prelogin + POST /auth/login/flagship, 401 two_factor_token, the passcode read
//      from the mails of the admin API, retry → tokens (*)
//   8. POST /auth/session_code                       a session code for a webview
//   9. (admin API) install a konnector; POST /auth/tokens/konnectors/:slug
//  10. (admin API) install a webapp;   GET /apps/:slug/open
//
// Usage (build the client first: cd packages/client && npx tsc -p tsconfig.build.json):
//   node examples/make-attestation-keys.mjs --out /tmp/keys      # then start the server with
//   HEARTH_CONFIG=/tmp/keys/hearth-flagship.yaml ...              # those keys
//   node examples/flagship-story.mjs --public http://127.0.0.1:8080 --admin http://127.0.0.1:6060 \
//     --admin-password … --domain alice.localhost:8080 --play-integrity-keys /tmp/keys/attestation-keys.json
//
// Every step prints `✓ <step> <status>` (or `✗ …` and the exit code is 1).
import { createCipheriv, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { parseArgs } from 'node:util';
import {
  createAttestationChallenge,
  createClient,
  createConfig,
  createKonnectorToken,
  createSessionCode,
  deriveMasterKey,
  flagshipLogin,
  getAppOpenParameters,
  hashPassphrase,
  registerOAuthClient,
  registerPassphraseFlagship,
  submitAttestation,
  toBase64,
  withTokenRefresh,
} from '../dist/index.js';
import * as admin from '../dist/admin.js';

const { values: args } = parseArgs({
  options: {
    public: { type: 'string', default: 'http://127.0.0.1:8080' },
    admin: { type: 'string', default: 'http://127.0.0.1:6060' },
    'admin-password': { type: 'string', default: process.env.HEARTH_ADMIN_PASSPHRASE ?? '' },
    domain: { type: 'string', default: 'alice.localhost:8080' },
    'play-integrity-keys': { type: 'string' },
    password: { type: 'string', default: 'a flagship story passphrase' },
    iterations: { type: 'string', default: '100000' },
    email: { type: 'string' },
  },
});
if (!args['play-integrity-keys']) {
  console.error('--play-integrity-keys <keys.json> is required (see examples/make-attestation-keys.mjs)');
  process.exit(2);
}
const keys = JSON.parse(readFileSync(args['play-integrity-keys'], 'utf8'));
const domain = args.domain;
const iterations = Number(args.iterations);

// --- transport --------------------------------------------------------------------------------
// A fetch that connects to the --public address while sending `Host: <domain>`, so the instance
// is found by name. Only needed when <domain> does not resolve to the server (like the test
// servers' `<name>.test:<port>`); a resolvable domain (alice.localhost) uses the plain fetch.
function hostKeepingFetch(connectTo) {
  const target = new URL(connectTo);
  return async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    const headers = {};
    req.headers.forEach((value, key) => {
      headers[key] = value;
    });
    headers.host = url.host;
    if (body) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const r = httpRequest(
        { host: target.hostname, port: Number(target.port || 80), path: `${url.pathname}${url.search}`, method: req.method, headers },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              if (Array.isArray(v)) for (const x of v) h.append(k, x);
              else if (v !== undefined) h.set(k, String(v));
            }
            const status = res.statusCode ?? 500;
            const nullBody = [101, 204, 205, 304].includes(status) || req.method === 'HEAD';
            resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: h }));
          });
        },
      );
      r.on('error', reject);
      r.end(body);
    });
  };
}

async function resolves(host) {
  try {
    await lookup(host);
    return true;
  } catch {
    return false;
  }
}

const domainHost = domain.replace(/:\d+$/, '');
const publicFetch = (await resolves(domainHost)) ? globalThis.fetch : hostKeepingFetch(args.public);
const instanceUrl = `${new URL(args.public).protocol}//${domain}`;

/** Every call of the public client, `METHOD /path → status`, printed under the step that made it. */
const calls = [];
const api = createClient(createConfig({ baseUrl: instanceUrl, fetch: publicFetch, headers: { Accept: 'application/json' } }));
api.interceptors.response.use((response, request) => {
  calls.push(`${request.method} ${new URL(request.url).pathname} → ${response.status}`);
  return response;
});
const adminApi = admin.createClient(
  admin.createConfig({
    baseUrl: args.admin,
    headers: { Authorization: `Basic ${Buffer.from(`admin:${args['admin-password']}`).toString('base64')}` },
  }),
);

// --- steps ------------------------------------------------------------------------------------
let stepNumber = 0;
async function step(name, fn) {
  stepNumber += 1;
  calls.length = 0;
  let result;
  try {
    result = await fn();
  } catch (e) {
    console.log(`✗ ${stepNumber}. ${name}: ${e instanceof Error ? e.message : String(e)}`);
    for (const c of calls) console.log(`    ${c}`);
    process.exit(1);
  }
  console.log(`✓ ${stepNumber}. ${name} ${result.status}${result.detail ? ` ${result.detail}` : ''}`);
  for (const c of calls) console.log(`    ${c}`);
  return result.value;
}

/** Unwraps an SDK answer: the expected status, or an error carrying the body. */
function expectStatus(res, status) {
  const got = res.response?.status;
  if (got !== status) throw new Error(`expected ${status}, got ${got}: ${JSON.stringify(res.error ?? res.data)}`);
  return res.data;
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A Play Integrity verdict as Google would send it: an ES256 JWS inside an A256KW/A256GCM JWE. */
function playIntegrityToken(nonce) {
  const payload = {
    requestDetails: { requestPackageName: keys.packageName, nonce, timestampMillis: String(Date.now()) },
    appIntegrity: {
      appRecognitionVerdict: 'PLAY_RECOGNIZED',
      packageName: keys.packageName,
      certificateSha256Digest: [Buffer.from(keys.certificateDigest, 'base64').toString('base64url')],
      versionCode: '1',
    },
    deviceIntegrity: { deviceRecognitionVerdict: ['MEETS_DEVICE_INTEGRITY'] },
  };
  const signingInput = `${b64url(JSON.stringify({ alg: 'ES256' }))}.${b64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key: createPrivateKey(keys.signingKey), dsaEncoding: 'ieee-p1363' });
  const jws = `${signingInput}.${b64url(signature)}`;

  const kek = Buffer.from(keys.decryptionKey, 'base64');
  const cek = randomBytes(32);
  const wrap = createCipheriv('id-aes256-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
  const wrapped = Buffer.concat([wrap.update(cek), wrap.final()]);
  const protectedHeader = b64url(JSON.stringify({ alg: 'A256KW', enc: 'A256GCM' }));
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', cek, iv);
  gcm.setAAD(Buffer.from(protectedHeader, 'ascii'));
  const ciphertext = Buffer.concat([gcm.update(jws), gcm.final()]);
  return [protectedHeader, b64url(wrapped), b64url(iv), b64url(ciphertext), b64url(gcm.getAuthTag())].join('.');
}

/** The vault key as the clients store it: 64 random bytes, AES-256-CBC under the master key (type 0). */
async function encryptedVaultKey(password) {
  const masterKey = await deriveMasterKey(password, domain, iterations);
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', Buffer.from(masterKey), iv);
  const ct = Buffer.concat([c.update(randomBytes(64)), c.final()]);
  return `0.${toBase64(iv)}|${toBase64(ct)}`;
}

/** The newest mail of a template, from the admin API's outbox view. */
async function lastMail(template) {
  const mails = expectStatus(await admin.listMails({ client: adminApi, path: { domain } }), 200).mails;
  const found = mails.filter((m) => m.template === template).at(-1);
  if (!found) throw new Error(`no ${template} mail`);
  return found;
}

console.log(`flagship story on ${instanceUrl} (admin ${args.admin})`);

const instance = await step('admin: create the instance', async () => {
  const res = await admin.createInstance({
    client: adminApi,
    body: { domain, email: args.email ?? `owner@${domainHost}`, public_name: 'Story', locale: 'en' },
  });
  const body = expectStatus(res, 201);
  if (!body.register_token) throw new Error('no register token: the instance is already onboarded?');
  return { status: 201, detail: `${body.domain} (onboarded: ${body.onboarding_finished})`, value: body };
});

const oauthClient = await step('register the OAuth client', async () => {
  const res = await registerOAuthClient({
    client: api,
    body: {
      redirect_uris: ['cozy://flagship'],
      client_name: 'Flagship story',
      software_id: 'github.com/cozy/cozy-flagship-app',
      client_kind: 'mobile',
      notification_platform: 'android',
    },
  });
  const body = expectStatus(res, 201);
  return { status: 201, detail: `client_id ${body.client_id}`, value: body };
});

const nonce = await step('attestation challenge', async () => {
  const res = await createAttestationChallenge({
    client: api,
    path: { clientId: oauthClient.client_id },
    auth: () => oauthClient.registration_access_token,
    body: null,
  });
  return { status: 201, value: expectStatus(res, 201).nonce };
});

await step('Play Integrity attestation', async () => {
  const res = await submitAttestation({
    client: api,
    path: { clientId: oauthClient.client_id },
    body: { platform: 'android', issuer: 'playintegrity', challenge: nonce, attestation: playIntegrityToken(nonce) },
  });
  expectStatus(res, 204);
  return { status: 204, detail: '(the client is now flagship)' };
});

await step('onboarding: choose the passphrase', async () => {
  const res = await registerPassphraseFlagship({
    client: api,
    body: {
      register_token: instance.register_token,
      passphrase: await hashPassphrase(args.password, domain, iterations),
      iterations,
      key: await encryptedVaultKey(args.password),
      hint: 'the story',
      client_id: oauthClient.client_id,
      client_secret: oauthClient.client_secret,
    },
  });
  const body = expectStatus(res, 200);
  if (body.scope !== '*') throw new Error(`scope ${body.scope}`);
  return { status: 200, detail: `tokens, scope ${body.scope}`, value: body };
});

await step('admin: turn on two-factor authentication by mail', async () => {
  const body = expectStatus(await admin.updateInstance({ client: adminApi, path: { domain }, body: { auth_mode: 'two_factor_mail' } }), 200);
  return { status: 200, detail: `auth_mode ${body.auth_mode}` };
});

const tokens = await step('login with the passphrase and the mailed 2FA code', async () => {
  const result = await flagshipLogin({
    client: api,
    domain,
    password: args.password,
    clientId: oauthClient.client_id,
    clientSecret: oauthClient.client_secret,
    twoFactor: async () => {
      const mail = await lastMail('two_factor');
      const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
      if (!code) throw new Error('no 6-digit code in the two_factor mail');
      calls.push(`(admin) passcode read from the "${mail.subject}" mail`);
      return code;
    },
  });
  if (result.kind !== 'tokens') throw new Error(`expected tokens, got ${result.kind}`);
  return { status: 200, detail: `tokens, scope ${result.tokens.scope}`, value: result.tokens };
});

// From here on, the client sends the access token and refreshes it when it expires.
let current = tokens;
withTokenRefresh(api, {
  clientId: oauthClient.client_id,
  clientSecret: oauthClient.client_secret,
  getTokens: () => current,
  setTokens: (t) => {
    current = t;
  },
});

await step('session code for a webview', async () => {
  const body = expectStatus(await createSessionCode({ client: api }), 201);
  return { status: 201, detail: `${body.session_code.length} characters` };
});

await step('konnector token', async () => {
  expectStatus(await admin.installApp({ client: adminApi, path: { domain }, body: { slug: 'banks', type: 'konnector', name: 'Banks' } }), 201);
  const res = await createKonnectorToken({ client: api, path: { slug: 'banks' } });
  const token = expectStatus(res, 201);
  const claims = JSON.parse(Buffer.from(String(token).split('.')[1], 'base64url').toString('utf8'));
  return { status: 201, detail: `aud ${claims.aud} sub ${claims.sub}` };
});

await step('open a webapp', async () => {
  expectStatus(await admin.installApp({ client: adminApi, path: { domain }, body: { slug: 'drive', type: 'webapp', name: 'Drive' } }), 201);
  const body = expectStatus(await getAppOpenParameters({ client: api, path: { slug: 'drive' } }), 200);
  const a = body.data.attributes;
  if (!a.Cookie || !a.Token) throw new Error('no cookie or token to open the app');
  return { status: 200, detail: `${a.AppSlug} on ${a.Domain}` };
});

console.log('flagship story: done');
