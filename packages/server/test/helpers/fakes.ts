// Local stand-ins for the push providers and the SMTP server used by the tests:
// - FCM HTTP v1 (node:http), with its OAuth token endpoint (JWT bearer grant verified with the
//   service account's public key);
// - APNs (node:http2, cleartext h2c), verifying the ES256 provider token;
// - an SMTP receiver (smtp-server).
// Each device token's behaviour is chosen by its prefix: `*-ok*` 200, `*-gone*` unregistered,
// `*-bad*` a permanent error, `*-flaky*` a 503 the first time then 200.

import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { jwtVerify, decodeProtectedHeader } from 'jose';
import { SMTPServer } from 'smtp-server';

export interface FcmRecord {
  token: string;
  message: { token: string; data: Record<string, string>; android?: Record<string, unknown>; notification?: unknown };
  authorization: string | undefined;
}

export interface FakeFcm {
  url: string;
  tokenUrl: string;
  projectId: string;
  credentials: Record<string, string>;
  /** Successful deliveries. */
  delivered: FcmRecord[];
  /** Every send request, answered or not. */
  requests: FcmRecord[];
  tokenRequests: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function listen(server: Server | Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

export async function startFakeFcm(): Promise<FakeFcm> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const projectId = 'hearth-test';
  const accessToken = 'fcm-access-token-1';
  const flakySeen = new Set<string>();
  const state = { delivered: [] as FcmRecord[], requests: [] as FcmRecord[], tokenRequests: 0 };
  let tokenUrl = '';
  const clientEmail = 'push@hearth-test.iam.gserviceaccount.com';

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST' && req.url === '/token') {
        state.tokenRequests++;
        const form = new URLSearchParams(body);
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return json(400, { error: 'unsupported_grant_type' });
        try {
          const assertion = form.get('assertion') ?? '';
          if (decodeProtectedHeader(assertion).alg !== 'RS256') throw new Error('alg');
          const { payload } = await jwtVerify(assertion, publicKey, { issuer: clientEmail, audience: tokenUrl });
          if (payload.scope !== 'https://www.googleapis.com/auth/firebase.messaging') throw new Error('scope');
        } catch {
          return json(400, { error: 'invalid_grant' });
        }
        return json(200, { access_token: accessToken, expires_in: 3600, token_type: 'Bearer' });
      }
      if (req.method === 'POST' && req.url === `/v1/projects/${projectId}/messages:send`) {
        const parsed = JSON.parse(body) as { message: FcmRecord['message'] };
        const record: FcmRecord = { token: parsed.message.token, message: parsed.message, authorization: req.headers.authorization };
        state.requests.push(record);
        if (req.headers.authorization !== `Bearer ${accessToken}`) return json(401, { error: { status: 'UNAUTHENTICATED' } });
        const t = record.token;
        if (t.includes('-gone')) return json(404, { error: { status: 'NOT_FOUND', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }] } });
        if (t.includes('-bad')) return json(400, { error: { status: 'INVALID_ARGUMENT', details: [{ errorCode: 'INVALID_ARGUMENT' }] } });
        if (t.includes('-flaky') && !flakySeen.has(t)) {
          flakySeen.add(t);
          return json(503, { error: { status: 'UNAVAILABLE' } });
        }
        state.delivered.push(record);
        return json(200, { name: `projects/${projectId}/messages/${state.delivered.length}` });
      }
      json(404, { error: 'not found' });
    })();
  });
  const port = await listen(server);
  tokenUrl = `http://127.0.0.1:${port}/token`;
  return {
    url: `http://127.0.0.1:${port}`,
    tokenUrl,
    projectId,
    credentials: {
      type: 'service_account',
      project_id: projectId,
      private_key_id: 'key-1',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: clientEmail,
      token_uri: tokenUrl,
    },
    get delivered() {
      return state.delivered;
    },
    get requests() {
      return state.requests;
    },
    get tokenRequests() {
      return state.tokenRequests;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface ApnsRecord {
  token: string;
  headers: Record<string, string | string[] | undefined>;
  payload: { aps: { alert: { title: string; body: string }; sound?: string }; [k: string]: unknown };
}

export interface FakeApns {
  url: string;
  keyId: string;
  teamId: string;
  privateKey: string;
  delivered: ApnsRecord[];
  requests: ApnsRecord[];
  close(): Promise<void>;
}

export async function startFakeApns(): Promise<FakeApns> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKey = createPublicKey(privateKey);
  const keyId = 'ABC123DEFG';
  const teamId = 'TEAM456789';
  const state = { delivered: [] as ApnsRecord[], requests: [] as ApnsRecord[] };
  const server = createH2Server();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      void (async () => {
        const reply = (status: number, value?: unknown) => {
          stream.respond({ ':status': status, 'content-type': 'application/json' });
          stream.end(value === undefined ? '' : JSON.stringify(value));
        };
        const path = String(headers[':path'] ?? '');
        const m = /^\/3\/device\/(.+)$/.exec(path);
        if (headers[':method'] !== 'POST' || !m) return reply(404, { reason: 'BadPath' });
        const token = decodeURIComponent(m[1]!);
        const record: ApnsRecord = { token, headers: { ...headers }, payload: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ApnsRecord['payload'] };
        state.requests.push(record);
        try {
          const auth = String(headers.authorization ?? '');
          if (!auth.startsWith('bearer ')) throw new Error('no token');
          const jwt = auth.slice('bearer '.length);
          const h = decodeProtectedHeader(jwt);
          if (h.alg !== 'ES256' || h.kid !== keyId) throw new Error('header');
          const { payload } = await jwtVerify(jwt, publicKey, { issuer: teamId });
          if (typeof payload.iat !== 'number') throw new Error('iat');
        } catch {
          return reply(403, { reason: 'InvalidProviderToken' });
        }
        if (headers['apns-topic'] !== 'io.cozy.flagship.mobile') return reply(400, { reason: 'TopicDisallowed' });
        if (headers['apns-push-type'] !== 'alert') return reply(400, { reason: 'InvalidPushType' });
        if (token.includes('-gone')) return reply(410, { reason: 'Unregistered', timestamp: Date.now() });
        if (token.includes('-bad')) return reply(400, { reason: 'BadDeviceToken' });
        state.delivered.push(record);
        reply(200);
      })();
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    keyId,
    teamId,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    get delivered() {
      return state.delivered;
    },
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface ReceivedMail {
  from: string | undefined;
  to: string[];
  raw: string;
}

export interface SmtpReceiver {
  port: number;
  url: string;
  received: ReceivedMail[];
  close(): Promise<void>;
}

/** A local SMTP receiver on a loopback port (0 = ephemeral) that keeps every message it gets. */
export async function startSmtpReceiver(port = 0): Promise<SmtpReceiver> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.server.address() as AddressInfo).port;
  return { port: actual, url: `smtp://127.0.0.1:${actual}`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Polls `check` until it answers true (or throws after `timeoutMs`). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
