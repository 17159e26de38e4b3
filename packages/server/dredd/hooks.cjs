// dredd hooks for Hearth (CommonJS: dredd loads hooks with require()).
//
// - Seeds everything through the ADMIN API (instances with a known passphrase, OAuth clients, apps,
//   tokens, codes) and the public API (sessions opened with an admin session code).
// - Adds the authentication each transaction needs, builds form bodies, and PROVOKES every documented
//   status (no token, bad token, token without permission, unknown host, blocked instance, stale rev…).
// - Replaces gavel's example-key check by the real response schema of the bundle (`nullable` → type
//   arrays, `$ref`s inlined), and keeps only the response headers the contract marks as required.
// - Mutating transactions get their own fresh instance, so the order of transactions does not matter.
// - Writes a JSON report of every transaction (HEARTH_DREDD_REPORT) for run.mjs.
const hooks = require('hooks');
const fs = require('node:fs');
const crypto = require('node:crypto');

const DOC = process.env.HEARTH_DREDD_DOC; // 'public' | 'admin'
const BUNDLE = JSON.parse(fs.readFileSync(process.env.HEARTH_DREDD_BUNDLE, 'utf8'));
const PORT = process.env.HEARTH_DREDD_PUBLIC_PORT;
const ADMIN_URL = process.env.HEARTH_DREDD_ADMIN_URL;
const ADMIN_AUTH = 'Basic ' + Buffer.from('admin:' + process.env.HEARTH_DREDD_ADMIN_PASSPHRASE).toString('base64');
const PUBLIC_URL = `http://127.0.0.1:${PORT}`;
const PASSWORD = 'correct horse battery staple';
const KDF = 50000;
const PREFIX = DOC === 'admin' ? 'adm' : 'pub';

// ---------------------------------------------------------------------------------------------
// Schemas: the real response schema of the bundle, in the dialect gavel (ajv 6) understands.

function deref(node) {
  while (node && node.$ref) node = node.$ref.split('/').slice(1).reduce((o, k) => o[decodeURIComponent(k.replace(/~1/g, '/'))], BUNDLE);
  return node;
}
const GAVEL_FORMATS = new Set(['date', 'time', 'date-time', 'uri', 'uri-reference', 'uri-template', 'url', 'email', 'hostname', 'ipv4', 'ipv6', 'regex', 'uuid', 'json-pointer', 'relative-json-pointer']);
function toGavel(schema, depth = 0) {
  if (depth > 40) return {};
  schema = deref(schema);
  if (Array.isArray(schema)) return schema.map((s) => toGavel(s, depth + 1));
  if (!schema || typeof schema !== 'object') return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (['$schema', 'example', 'examples', 'description', 'nullable', 'discriminator', 'xml', 'externalDocs', 'deprecated', 'readOnly', 'writeOnly'].includes(k)) continue;
    if (k.startsWith('x-')) continue;
    if (k === 'properties' || k === 'patternProperties') {
      out[k] = {};
      for (const [p, s] of Object.entries(v)) out[k][p] = toGavel(s, depth + 1);
    } else if (['items', 'additionalProperties', 'not'].includes(k) && typeof v === 'object') out[k] = toGavel(v, depth + 1);
    else if (['allOf', 'anyOf', 'oneOf'].includes(k)) out[k] = v.map((s) => toGavel(s, depth + 1));
    else if (k === 'format' && !GAVEL_FORMATS.has(v)) continue; // ajv 6 throws on unknown formats (int32…)
    else out[k] = v;
  }
  if (schema.nullable) {
    if (out.type) out.type = [].concat(out.type, 'null');
    if (out.enum && !out.enum.includes(null)) out.enum = [...out.enum, null];
    if (!out.type && (out.anyOf || out.oneOf || out.allOf)) return { anyOf: [{ type: 'null' }, out] };
  }
  return out;
}

function operationOf(t) {
  const item = BUNDLE.paths[t.origin.resourceName];
  return item && item[t.request.method.toLowerCase()];
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

/** node:http (fetch cannot set the Host header, which selects the instance). */
function http(method, url, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = require('node:http').request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const setCookie = [].concat(res.headers['set-cookie'] || []);
        resolve({ status: res.statusCode, headers: res.headers, setCookie, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function admin(method, path, body) {
  const res = await http(method, ADMIN_URL + path, {
    headers: { Authorization: ADMIN_AUTH, Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 300) throw new Error(`admin ${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

async function pub(method, domain, path, { headers = {}, body } = {}) {
  return http(method, PUBLIC_URL + path, { headers: { Host: domain, ...headers }, body });
}

function hashPassphrase(password, domain, iterations = KDF) {
  const salt = 'me@' + domain.replace(/:\d+$/, '');
  const master = crypto.pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return crypto.pbkdf2Sync(master, password, 1, 32, 'sha256').toString('base64');
}

function cookiesOf(res) {
  return res.setCookie
    .map((c) => c.split(';')[0])
    .filter((c) => !/=$/.test(c))
    .join('; ');
}

let counter = 0;
const uniq = (p) => `${PREFIX}${p}${++counter}`;
const domainOf = (name) => `${name}.test:${PORT}`;

// ---------------------------------------------------------------------------------------------
// Fixtures (created through the admin API)

/** Creates an instance through the admin API (onboarded: the server derives and hashes the passphrase). */
async function createInstance(name, onboarded, rest = {}) {
  const domain = domainOf(name);
  const body = { domain, email: `${name}@example.net`, public_name: name, locale: 'en', ...rest };
  if (onboarded) Object.assign(body, { passphrase: PASSWORD, kdf_iterations: KDF });
  return { name, domain, created: await admin('POST', '/instances', body) };
}

// Onboarded instances are created ahead, a few at a time, while dredd runs other transactions
// (the server hashes each passphrase with scrypt: the slowest part of a fixture).
const POOL_SIZE = 8;
const pool = [];
function refill() {
  while (DOC === 'public' && pool.length < POOL_SIZE) {
    const p = createInstance(uniq('i'), true);
    p.catch(() => {});
    pool.push(p);
  }
}

/** A fresh instance, onboarded with PASSWORD unless `onboarded: false`; other options are patched in. */
async function instance(opts = {}) {
  const { onboarded = true, name, ...rest } = opts;
  let base;
  if (onboarded && !name && pool.length) {
    base = await pool.shift();
    refill();
    if (Object.keys(rest).length) base.created = await admin('PATCH', `/instances/${encodeURIComponent(base.domain)}`, rest);
  } else base = await createInstance(name || uniq('i'), onboarded, rest);
  const { domain, created } = base;
  const inst = { name: base.name, domain, created, pass: onboarded ? hashPassphrase(PASSWORD, domain) : undefined };
  inst.token = async (audience = 'cli', subject = 'dredd', scope, extra = {}) =>
    (await admin('POST', `/instances/${encodeURIComponent(domain)}/tokens`, { audience, subject, ...(scope !== undefined ? { scope } : {}), ...extra })).token;
  inst.app = (slug, type = 'webapp', permissions) =>
    admin('POST', `/instances/${encodeURIComponent(domain)}/apps`, { slug, type, ...(permissions ? { permissions } : {}) });
  inst.client = (extra = {}) =>
    admin('POST', `/instances/${encodeURIComponent(domain)}/clients`, {
      redirect_uris: ['cozy://flagship'],
      client_name: uniq('client'),
      software_id: 'github.com/cozy/cozy-flagship-app',
      ...extra,
    });
  inst.patch = (body) => admin('PATCH', `/instances/${encodeURIComponent(domain)}`, body);
  inst.code = async (kind) => {
    const r = await admin('POST', `/instances/${encodeURIComponent(domain)}/${kind}`);
    return r.code || r.session_code || r.email_verified_code;
  };
  /** A browser session: an admin session code consumed by GET /auth/authorize. */
  inst.session = async () => {
    const code = await inst.code('session_code');
    const res = await pub('GET', domain, `/auth/authorize?session_code=${code}`, { headers: { Accept: 'text/html' } });
    const cookie = cookiesOf(res);
    if (!/cozysessid=/.test(cookie)) throw new Error(`no session cookie for ${domain}: ${res.status} ${res.text.slice(0, 200)}`);
    return cookie;
  };
  inst.mails = async () => (await admin('GET', `/instances/${encodeURIComponent(domain)}/mails`)).mails;
  inst.max = await inst.token('cli', 'dredd', '*');
  return inst;
}

let MAIN; // onboarded, read-only use
let FIX = {}; // shared fixtures

// ---------------------------------------------------------------------------------------------
// Transaction helpers

function setHost(t, domain) {
  t.request.headers.Host = domain;
}
function bearer(t, token) {
  if (token === undefined) delete t.request.headers.Authorization;
  else t.request.headers.Authorization = `Bearer ${token}`;
}
function cookie(t, value) {
  if (!value) delete t.request.headers.Cookie;
  else t.request.headers.Cookie = value;
}
function jsonBody(t, value) {
  t.request.body = typeof value === 'string' ? value : JSON.stringify(value);
}
function formBody(t, fields) {
  t.request.body = new URLSearchParams(fields).toString();
}
function query(t, params) {
  const [path, q] = t.fullPath.split('?');
  const sp = new URLSearchParams(q || '');
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) sp.delete(k);
    else sp.set(k, v);
  }
  const s = sp.toString();
  t.fullPath = s ? `${path}?${s}` : path;
  t.request.uri = t.fullPath;
}
function setPath(t, path) {
  const q = t.fullPath.split('?')[1];
  t.fullPath = q ? `${path}?${q}` : path;
  t.request.uri = t.fullPath;
}
function skip(t, reason) {
  t.skip = true;
  t.skipReason = reason;
}

// ---------------------------------------------------------------------------------------------
// Generic strategies, chosen from the description of the documented response.

const UNKNOWN_HOST = () => domainOf('nowhere-dredd');

function describeResponse(t) {
  const op = operationOf(t);
  const res = op && deref(op.responses[t.expected.statusCode]);
  return (res && res.description) || '';
}

async function generic(t, c) {
  const d = c.desc;
  if (DOC === 'admin') {
    if (c.status === '401') delete t.request.headers.Authorization;
    return undefined;
  }
  if (/^No instance is served at the `Host`/.test(d)) return (c.forcedHost = UNKNOWN_HOST());
  if (/^No token in the request/.test(d)) return bearer(t, undefined);
  if (/^A token that is malformed/.test(d)) return bearer(t, 'not-a-jwt');
  if (/^The token is valid but does not grant the permission/.test(d)) return bearer(t, FIX.noperm);
  if (/^The request does not carry the authentication the route requires/.test(d)) {
    bearer(t, undefined);
    return cookie(t, undefined);
  }
  if (/^Either the request itself is invalid, or the token is/.test(d)) {
    if (c.accept === 'application/vnd.api+json') return jsonBody(t, '{"not json');
    return bearer(t, 'not-a-jwt');
  }
  if (/^Either the action is refused for a reason about the request itself, or the token lacks/.test(d)) {
    if (c.accept !== 'application/vnd.api+json') return bearer(t, FIX.noperm);
  }
  if (/^The instance is blocked with the reason `PAYMENT_FAILED`/.test(d)) {
    return (c.forcedHost = FIX.payment.domain);
  }
  if (/^The instance is blocked \(`blocked: true`\)/.test(d)) {
    return (c.forcedHost = FIX.blocked.domain);
  }
  if (/^The form field `csrf_token` is not equal to the `_csrf` cookie/.test(d)) {
    cookie(t, '_csrf=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    return formBody(t, { ...c.form, csrf_token: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' });
  }
  return undefined;
}

// Operation-specific cases: `cases['METHOD /path'](t, c)`; c = { status, accept, ctype, desc, op }.
// They run after the defaults (main instance, maximal token) and the generic strategy.
const cases = {};
const on = (key, fn) => (cases[key] = fn);

// ---------------------------------------------------------------------------------------------
// Public document

const CSRF = 'dreddCsrfToken0123456789abcdefAB'; // a well-formed `_csrf` value: cookie and field equal
const csrfForm = (t, fields, extraCookie) => {
  cookie(t, [`_csrf=${CSRF}`, extraCookie].filter(Boolean).join('; '));
  formBody(t, { csrf_token: CSRF, ...fields });
};
const json = (auth, h = {}) => ({ ...(auth ? { Authorization: auth } : {}), 'Content-Type': 'application/json', Accept: 'application/json', ...h });

on('GET /status', async (t, c) => {
  // 503 needs the database to be down, which would break every other transaction of the run.
  if (c.status === '503') return skip(t, 'needs the database down');
});

on('GET /settings/disk-usage', async (t, c) => {
  // a konnector token without any permission: the reference lets any token read the disk usage
  if (c.status === '403') bearer(t, FIX.bareKonn);
});

on('POST /settings/email', async (t, c) => {
  if (!['204', '422'].includes(c.status) && !(c.status === '403' && c.accept === 'application/vnd.api+json')) return;
  // 403 JSON:API: the context has a signup_url (the address is managed outside), see run.mjs
  const i = await instance(c.status === '403' ? { context: 'dredd-signup' } : {});
  setHost(t, i.domain);
  bearer(t, i.max);
  if (c.status === '204' || c.status === '403') return jsonBody(t, { passphrase: i.pass, email: 'new@example.org' });
  if (c.status === '422') return jsonBody(t, { passphrase: i.pass, email: 'not an email' });
});

on('POST /settings/email/resend', async (t, c) => {
  if (c.status !== '204' && !(c.status === '400' && c.accept === 'application/vnd.api+json')) return;
  const i = await instance();
  setHost(t, i.domain);
  bearer(t, i.max);
  t.request.body = '';
  // 400 JSON:API: no change of address is pending on the fresh instance.
  if (c.status === '204')
    await pub('POST', i.domain, '/settings/email', { headers: json(`Bearer ${i.max}`), body: JSON.stringify({ passphrase: i.pass, email: 'new@example.org' }) });
});

on('GET /settings/email/confirm', async (t, c) => {
  if (c.status === '303') return cookie(t, undefined);
  if (c.status === '307' || c.status === '400') {
    const i = await instance();
    setHost(t, i.domain);
    cookie(t, await i.session());
    if (c.status === '400') return query(t, { token: 'ffffffffffffffffffffffffffffffff' });
    await pub('POST', i.domain, '/settings/email', { headers: json(`Bearer ${i.max}`), body: JSON.stringify({ passphrase: i.pass, email: 'new@example.org' }) });
    const mails = await i.mails();
    const text = JSON.stringify(mails);
    const m = /token=([A-Za-z0-9_-]+)/.exec(text);
    if (!m) throw new Error('no confirmation token in the mails: ' + text.slice(0, 300));
    query(t, { token: m[1] });
  }
});

// registerPassphrase: onboarding of a fresh, not onboarded instance with its register token.
on('POST /settings/passphrase', async (t, c) => {
  const i = await instance({ onboarded: false });
  setHost(t, i.domain);
  const fields = { register_token: i.created.register_token, passphrase: hashPassphrase(PASSWORD, i.domain), iterations: KDF };
  if (c.status === '400') fields.register_token = 'ffffffffffffffffffffffffffffffff';
  if (c.status === '422') fields.iterations = 1;
  if (c.ctype === 'application/x-www-form-urlencoded') formBody(t, { ...fields, iterations: String(fields.iterations) });
  else jsonBody(t, fields);
  if (c.status === '303') t.request.headers.Accept = 'text/html';
});

on('PUT /settings/passphrase', async (t, c) => {
  if (!['200', '204', '422'].includes(c.status) && !(c.status === '400' && c.accept === 'application/vnd.api+json')) return;
  const i = await instance(c.status === '200' ? { auth_mode: 'two_factor_mail' } : {});
  setHost(t, i.domain);
  bearer(t, i.max);
  const body = { current_passphrase: i.pass, new_passphrase: hashPassphrase('new ' + PASSWORD, i.domain), iterations: KDF };
  if (c.status === '422') body.iterations = 1;
  if (c.status === '400') return jsonBody(t, '{"not json');
  jsonBody(t, body);
});

on('POST /settings/passphrase/flagship', async (t, c) => {
  const i = await instance({ onboarded: false });
  setHost(t, i.domain);
  const client = await i.client();
  if (c.status === '200') await admin('PATCH', `/instances/${encodeURIComponent(i.domain)}/clients/${client.client_id}`, { flagship: true });
  const body = { register_token: i.created.register_token, passphrase: hashPassphrase(PASSWORD, i.domain), iterations: KDF, client_id: client.client_id, client_secret: client.client_secret };
  if (c.status === '400' && c.accept === 'application/json') body.client_secret = 'wrong';
  if (c.status === '400' && c.accept !== 'application/json') body.register_token = 'ffffffffffffffffffffffffffffffff';
  if (c.status === '422') body.iterations = 1;
  jsonBody(t, body);
});

on('POST /settings/passphrase/check', async (t, c) => {
  if (c.status === '204') return jsonBody(t, { passphrase: MAIN.pass });
  if (c.status === '403' && c.accept === 'application/vnd.api+json') return jsonBody(t, { passphrase: hashPassphrase('wrong', MAIN.domain) });
});

on('GET /settings/hint', async (t, c) => {
  if (c.status === '204') return setHost(t, FIX.hinted.domain), bearer(t, FIX.hinted.max);
});

on('PUT /settings/hint', async (t, c) => {
  if (c.status === '204' || c.status === '422') {
    const i = await instance();
    setHost(t, i.domain);
    bearer(t, i.max);
    jsonBody(t, { hint: c.status === '204' ? 'a horse' : PASSWORD });
  }
});

on('POST /settings/vault', async (t, c) => {
  if (c.status === '500') return skip(t, '500: the job queue must fail to accept the migration job');
});

on('GET /settings/external-ties', async (t, c) => {
  if (c.status === '200') bearer(t, FIX.settingsApp);
  if (c.status === '502') {
    // the context dredd-down has a manager_url nobody listens on (run.mjs)
    const i = await instance({ context: 'dredd-down', uuid: 'dredd-uuid' });
    await i.app('settings', 'webapp', { settings: { type: 'io.cozy.settings' } });
    setHost(t, i.domain);
    bearer(t, await i.token('app', 'settings'));
  }
});

on('GET /settings/premium', async (t, c) => {
  if (c.status === '301') {
    const i = await instance({ context: 'dredd-down', uuid: 'dredd-uuid' });
    setHost(t, i.domain);
    cookie(t, await i.session());
  }
  // 400: the configuration loader refuses an invalid manager_url, so the server cannot be started with one.
  if (c.status === '400') return skip(t, '400: needs an invalid manager_url, which the configuration loader refuses');
  if (c.status === '404' && c.accept === 'application/vnd.api+json') cookie(t, await MAIN.session());
});

on('GET /settings/instance', async (t, c) => {
  if (c.status === '404' && c.accept === 'application/vnd.api+json') return setHost(t, UNKNOWN_HOST());
});

on('PUT /settings/instance', async (t, c) => {
  if (!['200', '409'].includes(c.status)) return;
  const i = await instance();
  setHost(t, i.domain);
  bearer(t, i.max);
  const got = await pub('GET', i.domain, '/settings/instance', { headers: { Authorization: `Bearer ${i.max}`, Accept: 'application/vnd.api+json' } });
  const doc = got.json.data;
  const body = { data: { type: doc.type, id: doc.id, meta: { rev: c.status === '409' ? '1-stale' : doc.meta.rev }, attributes: { ...doc.attributes, public_name: 'Renamed' } } };
  jsonBody(t, body);
});

on('POST /settings/instance/deletion', async (t, c) => {
  if (c.status !== '204' && c.status !== '502') return;
  // 204: the context's cloudery (run.mjs) accepts the request; 502: no cloudery for the context.
  const i = await instance({ context: c.status === '204' ? 'dredd-cloudery' : 'dredd-down', uuid: uniq('uuid') });
  await i.app('settings', 'webapp', { settings: { type: 'io.cozy.settings' } });
  setHost(t, i.domain);
  bearer(t, await i.token('app', 'settings'));
});

on('POST /settings/instance/deletion/force', async (t, c) => {
  // 204 needs a broker, and the 503 below needs none: one server cannot answer both, and the 503
  // (no broker) is the one provoked here; the 204 against RabbitMQ is tested in force-deletion.test.ts.
  if (c.status === '204') return skip(t, '204: needs a message broker, which this server has not (its 503 is provoked instead; force-deletion.test.ts covers the 204)');
  // 503: no message broker is configured in the test server
  if (c.status === '503') bearer(t, FIX.settingsApp);
});

on('DELETE /settings/instance/moved_from', async (t, c) => {
  if (c.status === '204') {
    const i = await instance();
    setHost(t, i.domain);
    cookie(t, await i.session());
  }
});

on('PUT /settings/instance/auth_mode', async (t, c) => {
  if (c.status === '204' || c.status === '422') {
    const i = await instance();
    setHost(t, i.domain);
    bearer(t, i.max);
    jsonBody(t, c.status === '204' ? { auth_mode: 'basic' } : { auth_mode: 'two_factor_mail', two_factor_activation_code: '000000' });
  }
});

on('PUT /settings/instance/sign_tos', async (t, c) => {
  // only OAuth and CLI tokens may sign: a webapp token is refused
  if (c.status === '403' && c.accept !== 'application/vnd.api+json') bearer(t, FIX.settingsApp);
  if (c.status === '502') {
    const i = await instance({ context: 'dredd-down', uuid: 'dredd-uuid', tos_latest: '1.0.0-20200101' });
    setHost(t, i.domain);
    bearer(t, i.max);
  }
});

on('PUT /settings/avatar', async (t, c) => {
  t.request.headers['Content-Type'] = 'image/png';
  t.request.body = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex').toString('binary');
  if (c.status === '413') {
    // one byte over the 20 000 000 the route accepts
    const i = await instance();
    setHost(t, i.domain);
    bearer(t, i.max);
    t.request.body = 'x'.repeat(20_000_001);
    return;
  }
  if (c.status === '204') {
    const i = await instance();
    setHost(t, i.domain);
    bearer(t, i.max);
  }
});

on('DELETE /settings/avatar', async (t, c) => {
  if (c.status === '204') {
    const i = await instance();
    setHost(t, i.domain);
    bearer(t, i.max);
  }
});

on('GET /settings/sessions/current', async (t, c) => {
  if (c.status === '200') cookie(t, await MAIN.session());
  if (c.status === '404' && c.accept === 'application/vnd.api+json') cookie(t, undefined);
});

on('GET /settings/clients/limit-exceeded', async (t, c) => {
  if (c.status === '200') {
    const i = await instance();
    await i.patch({ feature_flags: { 'cozy.oauthclients.max': 1 } });
    await i.client({ client_kind: 'mobile' });
    await i.client({ client_kind: 'mobile' });
    setHost(t, i.domain);
    cookie(t, await i.session());
  }
  if (c.status === '302') query(t, { redirect: `http://home.${MAIN.domain}/` });
  if (c.status === '401') cookie(t, undefined);
});

on('DELETE /settings/clients/{clientId}', async (t, c) => {
  if (c.status === '204') {
    const i = await instance();
    const client = await i.client();
    setHost(t, i.domain);
    bearer(t, i.max);
    setPath(t, `/settings/clients/${client.client_id}`);
  }
});

on('POST /settings/synchronized', async (t, c) => {
  if (c.status === '204') bearer(t, await MAIN.token('access', FIX.client.client_id, 'io.cozy.files'));
});

on('GET /settings/warnings', async (t, c) => {
  if (c.status === '402') {
    const i = await instance({ tos_latest: '1.0.0-20200101' });
    setHost(t, i.domain);
    bearer(t, i.max);
  }
  if (c.status === '410') {
    const i = await instance();
    setHost(t, i.domain);
    bearer(t, i.max);
    const got = await pub('GET', i.domain, '/settings/instance', { headers: { Authorization: `Bearer ${i.max}`, Accept: 'application/vnd.api+json' } });
    const doc = got.json.data;
    const put = await pub('PUT', i.domain, '/settings/instance', {
      headers: { Authorization: `Bearer ${i.max}`, Accept: 'application/vnd.api+json', 'Content-Type': 'application/vnd.api+json' },
      body: JSON.stringify({ data: { type: doc.type, id: doc.id, meta: { rev: doc.meta.rev }, attributes: { ...doc.attributes, moved_to: 'https://elsewhere.example.net' } } }),
    });
    if (put.status !== 200) throw new Error(`moved_to: ${put.status} ${put.text}`);
  }
});

// ----- OAuth client registration
const registerBody = () => ({ redirect_uris: ['cozy://flagship'], client_name: uniq('app'), software_id: 'github.com/cozy/cozy-drive' });
async function registeredClient(i) {
  const r = await pub('POST', i.domain, '/auth/register', { headers: json(undefined), body: JSON.stringify(registerBody()) });
  if (r.status !== 201) throw new Error(`register: ${r.status} ${r.text}`);
  return r.json;
}

// `Accept` for a documented media type of a negotiated error (AcceptJSON wants any type or JSON).
function negotiatedAccept(t, accept) {
  if (accept === 'text/plain') t.request.headers.Accept = '*/*';
  else if (accept === 'text/html') t.request.headers.Accept = 'text/html, */*;q=0.8';
  else t.request.headers.Accept = 'application/json';
}

/**
 * An instance whose `oauth-client` limit (50 an hour: registrations, updates, challenges) is used
 * up, with one client registered before: every further call of these routes is over the limit.
 */
let exhaustedOAuth;
function oauthExhausted() {
  exhaustedOAuth ??= (async () => {
    const i = await instance();
    const client = await registeredClient(i);
    for (let n = 1; n < 50; n++) await registeredClient(i);
    return { i, client };
  })();
  return exhaustedOAuth;
}

on('POST /auth/register', async (t, c) => {
  jsonBody(t, registerBody());
  if (c.status === '400') jsonBody(t, { client_name: 'x', software_id: 'y' });
  if (c.status === '401') {
    bearer(t, undefined);
    jsonBody(t, { ...registerBody(), allow_login_scope: true });
    negotiatedAccept(t, c.accept);
  }
  if (c.status === '404') {
    setHost(t, (await oauthExhausted()).i.domain);
    negotiatedAccept(t, c.accept);
  }
  if (c.status === '500') return skip(t, '500: needs the database to fail during the insert');
});

async function clientPathCase(t, c, suffix, { withToken = true } = {}) {
  const i = await instance();
  const client = await registeredClient(i);
  setHost(t, i.domain);
  setPath(t, `/auth/${suffix ? 'clients' : 'register'}/${client.client_id}${suffix || ''}`);
  if (withToken) bearer(t, client.registration_access_token);
  return { i, client };
}

on('GET /auth/register/{clientId}', async (t, c) => {
  if (['402', '503'].includes(c.status)) return setPath(t, '/auth/register/unknown');
  const { i } = await clientPathCase(t, c, '');
  if (c.status === '400') t.request.headers.Accept = 'text/html';
  if (c.status === '401') bearer(t, undefined);
  if (c.status === '404') {
    setPath(t, '/auth/register/ffffffffffffffffffffffffffffffff');
    if (c.desc && /No instance/.test(c.desc)) setHost(t, UNKNOWN_HOST());
  }
});

on('PUT /auth/register/{clientId}', async (t, c) => {
  if (['402', '503'].includes(c.status)) return setPath(t, '/auth/register/unknown');
  if (c.status === '500') return skip(t, '500: needs the database to fail during the update');
  if (c.status === '409') return skip(t, '409: needs a concurrent modification between the read and the write of the same request');
  const { client } = await clientPathCase(t, c, '');
  jsonBody(t, { client_id: client.client_id, ...registerBody() });
  if (c.status === '400') jsonBody(t, { client_id: client.client_id, client_name: 'x', software_id: 'y' });
  if (c.status === '401') bearer(t, undefined);
  if (c.status === '404' && c.accept === 'application/json') setPath(t, '/auth/register/ffffffffffffffffffffffffffffffff');
  if (c.status === '404' && c.accept !== 'application/json') {
    // over the oauth-client limit: the client of the exhausted instance, negotiated answer
    const { i, client: limited } = await oauthExhausted();
    setHost(t, i.domain);
    setPath(t, `/auth/register/${limited.client_id}`);
    bearer(t, limited.registration_access_token);
    jsonBody(t, { client_id: limited.client_id, ...registerBody() });
    negotiatedAccept(t, c.accept);
  }
});

on('DELETE /auth/register/{clientId}', async (t, c) => {
  if (['402', '503'].includes(c.status)) return setPath(t, '/auth/register/unknown');
  if (c.status === '500') return skip(t, '500: needs the database to fail during the deletion');
  await clientPathCase(t, c, '');
  t.request.body = '';
  delete t.request.headers['Content-Type'];
  if (c.status === '401') bearer(t, undefined);
});

on('POST /auth/clients/{clientId}/challenge', async (t, c) => {
  if (['402', '503'].includes(c.status)) return setPath(t, '/auth/clients/unknown/challenge');
  await clientPathCase(t, c, '/challenge');
  t.request.body = '';
  if (c.status === '401') bearer(t, undefined);
  if (c.status === '404') {
    if (/No instance/.test(c.desc)) setHost(t, UNKNOWN_HOST());
    else if (c.accept === 'application/json') setPath(t, '/auth/clients/ffffffffffffffffffffffffffffffff/challenge');
    else {
      const { i, client: limited } = await oauthExhausted();
      setHost(t, i.domain);
      setPath(t, `/auth/clients/${limited.client_id}/challenge`);
      bearer(t, limited.registration_access_token);
      negotiatedAccept(t, c.accept);
    }
  }
});

on('POST /auth/clients/{clientId}/attestation', async (t, c) => {
  if (['402', '503'].includes(c.status)) return setPath(t, '/auth/clients/unknown/attestation');
  if (c.status === '204') return skip(t, '204: needs a genuine Play Integrity / App Attest attestation signed by Google or Apple');
  await clientPathCase(t, c, '/attestation', { withToken: false });
  jsonBody(t, { platform: 'android', challenge: 'A'.repeat(24), attestation: 'bm9wZQ' });
  if (c.status === '404') setPath(t, '/auth/clients/ffffffffffffffffffffffffffffffff/attestation');
});

on('POST /auth/clients/{clientId}/flagship', async (t, c) => {
  if (['402', '503'].includes(c.status)) return setPath(t, '/auth/clients/unknown/flagship');
  const { i, client } = await clientPathCase(t, c, '/flagship', { withToken: false });
  formBody(t, { code: '000000', token: 'x' });
  if (c.status === '400') t.request.body = 'code=1&code=2';
  if (c.status === '404') setPath(t, '/auth/clients/ffffffffffffffffffffffffffffffff/flagship');
  if (c.status === '204') {
    // The confirm-flagship page of GET /auth/authorize?scope=* mails the code; its form carries the token.
    const page = await pub('GET', i.domain, `/auth/authorize?${new URLSearchParams(authorizeQuery(client.client_id, 'cozy://flagship', '*'))}`, {
      headers: { Accept: 'text/html', Cookie: await i.session() },
    });
    const token = /name="token" value="([^"]+)"/.exec(page.text)?.[1];
    const mail = (await i.mails()).filter((m) => m.template === 'confirm_flagship').pop();
    const code = mail && /^\s*(\d{6})\s*$/m.exec(mail.text)?.[1];
    if (!token || !code) throw new Error(`confirm-flagship page ${page.status}: token ${token ? 'found' : 'missing'}, code ${code ? 'found' : 'missing'}`);
    formBody(t, { code, token });
  }
});

on('GET /public/prelogin', async (t, c) => {
  if (c.status === '412') setHost(t, FIX.fresh.domain);
});

// ----- flagship logins
async function flagshipClient(i, certified) {
  const client = await i.client();
  if (certified) await admin('PATCH', `/instances/${encodeURIComponent(i.domain)}/clients/${client.client_id}`, { flagship: true });
  return client;
}

on('POST /auth/login/flagship', async (t, c) => {
  const i = await instance(c.status === '401' || c.status === '403' ? { auth_mode: 'two_factor_mail' } : {});
  setHost(t, i.domain);
  const client = await flagshipClient(i, c.status === '200');
  const body = { passphrase: i.pass, client_id: client.client_id, client_secret: client.client_secret };
  if (c.status === '200' && c.accept === 'text/html') {
    const f = await instance({ onboarded: false });
    setHost(t, f.domain);
    body.passphrase = 'x';
  }
  if (c.status === '400' && c.accept === 'application/json') body.client_secret = 'wrong';
  if (c.status === '400' && c.accept !== 'application/json') return jsonBody(t, '{"not json');
  if (c.status === '401') body.passphrase = hashPassphrase('wrong', i.domain);
  if (c.status === '403') Object.assign(body, { two_factor_token: 'bad', two_factor_passcode: '000000' });
  jsonBody(t, body);
});

on('GET /auth/login', async (t, c) => {
  query(t, { jwt: undefined, email_verified_code: undefined });
  if (c.status === '200') query(t, { redirect: undefined });
  if (c.status === '303') {
    query(t, { redirect: undefined });
    cookie(t, await MAIN.session());
  }
  if (c.status === '400') query(t, { redirect: 'ftp://bad' });
});

on('POST /auth/login', async (t, c) => {
  const i = c.status === '401' || c.status === '400' || c.status === '403' ? MAIN : await instance();
  setHost(t, i.domain);
  if (c.status === '400') return formBody(t, { passphrase: i.pass });
  if (c.status === '403') return;
  csrfForm(t, { passphrase: c.status === '401' ? hashPassphrase('wrong', i.domain) : i.pass });
  if (c.status === '200' && c.accept === 'text/html') {
    const f = await instance({ onboarded: false });
    setHost(t, f.domain);
  }
});

async function appSession(i) {
  await i.app('settings', 'webapp', { settings: { type: 'io.cozy.settings' } });
  const cookieValue = await i.session();
  const sid = await pub('GET', i.domain, '/settings/sessions/current', { headers: { Cookie: cookieValue, Accept: 'application/vnd.api+json' } });
  const token = await i.token('app', 'settings', undefined, { session_id: sid.json.data.id });
  return { cookie: cookieValue, token };
}

// Both logout routes: 204 with a webapp token bound to the session cookie, 401 with another token.
async function logoutCase(t, c) {
  if (c.status === '204') {
    const i = await instance();
    const s = await appSession(i);
    setHost(t, i.domain);
    bearer(t, s.token);
    cookie(t, s.cookie);
  }
  if (c.status === '401') bearer(t, MAIN.max);
}
on('DELETE /auth/login', logoutCase);
on('DELETE /auth/login/others', logoutCase);

/** A two-factor token: a login with the right passphrase on a two_factor_mail instance. */
async function twoFactor() {
  const i = await instance({ auth_mode: 'two_factor_mail' });
  const r = await pub('POST', i.domain, '/auth/login', {
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', Cookie: `_csrf=${CSRF}` },
    body: new URLSearchParams({ csrf_token: CSRF, passphrase: i.pass }).toString(),
  });
  const next = (r.json && (r.json.redirect || r.json.two_factor_token)) || r.headers.location || '';
  const token = /^[a-z]+:\/\//.test(next) ? new URL(next).searchParams.get('two_factor_token') : next;
  const mails = JSON.stringify(await i.mails());
  const m = /\b(\d{6})\b/.exec(mails);
  return { i, token, passcode: m && m[1] };
}

on('GET /auth/twofactor', async (t, c) => {
  if (c.status === '200') {
    const tf = await twoFactor();
    setHost(t, tf.i.domain);
    query(t, { two_factor_token: tf.token, redirect: undefined });
  }
  if (c.status === '400') query(t, { redirect: 'ftp://bad' });
});

on('POST /auth/twofactor', async (t, c) => {
  const tf = await twoFactor();
  setHost(t, tf.i.domain);
  const fields = { 'two-factor-token': tf.token, 'two-factor-passcode': tf.passcode || '000000' };
  if (c.status === '400') fields.redirect = 'ftp://bad';
  if (c.status === '401') fields['two-factor-passcode'] = '999999x';
  formBody(t, fields);
});

on('POST /auth/magic_link', async (t, c) => {
  if (c.status === '200' || c.status === '429' || (c.status === '403' && c.accept === 'application/vnd.api+json')) {
    const i = c.status === '403' ? MAIN : await instance({ magic_link: true });
    setHost(t, i.domain);
    if (c.status === '429') for (let n = 0; n < 31; n++) await pub('POST', i.domain, '/auth/magic_link', { headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `_csrf=${CSRF}` }, body: `csrf_token=${CSRF}` });
    return csrfForm(t, {});
  }
  if (c.status === '403') return cookie(t, `_csrf=${'a'.repeat(32)}`), formBody(t, { csrf_token: 'b'.repeat(32) });
  if (c.status === '400') return formBody(t, {});
});

on('GET /auth/magic_link', async (t, c) => {
  query(t, { magic_code: undefined, redirect: undefined });
  const i = await instance({ magic_link: true, ...(c.status === '200' ? { auth_mode: 'two_factor_mail' } : {}) });
  setHost(t, i.domain);
  if (['200', '303'].includes(c.status)) query(t, { code: await i.code('magic_link') });
  if (c.status === '400') query(t, c.accept === 'text/html' ? { code: 'bad' } : { code: await i.code('magic_link'), redirect: 'ftp://bad' });
  if (c.status === '429') {
    for (let n = 0; n < 31; n++) await pub('GET', i.domain, '/auth/magic_link?code=bad', { headers: { Accept: 'text/html' } });
    query(t, { code: 'bad' });
  }
  if (['402', '503', '404'].includes(c.status)) query(t, { code: 'bad' });
});

on('POST /auth/magic_link/twofactor', async (t, c) => {
  const i = await instance({ magic_link: true, auth_mode: 'two_factor_mail' });
  setHost(t, i.domain);
  const code = await i.code('magic_link');
  if (c.status === '400') return formBody(t, { magic_code: code, passphrase: i.pass });
  if (c.status === '403') return;
  if (c.status === '429') for (let n = 0; n < 31; n++) await pub('POST', i.domain, '/auth/magic_link', { headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `_csrf=${CSRF}` }, body: `csrf_token=${CSRF}` });
  csrfForm(t, { magic_code: c.status === '401' || c.status === '429' ? 'bad' : code, passphrase: i.pass });
});

on('POST /auth/magic_link/flagship', async (t, c) => {
  const i = await instance({ magic_link: true });
  setHost(t, i.domain);
  const client = await flagshipClient(i, c.status === '200');
  const body = { magic_code: await i.code('magic_link'), client_id: client.client_id, client_secret: client.client_secret };
  if (c.status === '400' && c.accept === 'application/json') body.client_secret = 'wrong';
  if (c.status === '400' && c.accept !== 'application/json') return jsonBody(t, '{"not json');
  if (c.status === '401') body.magic_code = 'bad';
  if (c.status === '429') {
    for (let n = 0; n < 31; n++) await pub('GET', i.domain, '/auth/magic_link?code=bad', { headers: { Accept: 'text/html' } });
    body.magic_code = 'bad';
  }
  jsonBody(t, body);
});

on('POST /oidc/access_token', async (t, c) => {
  if (!['200', '202', '401', '403'].includes(c.status)) return;
  // A delegated code of the cloudery (admin API) whose `sub` is the instance domain: no OpenID
  // Connect provider is needed for this proof (reference §3.11).
  const i = await instance(c.status === '401' || c.status === '403' ? { auth_mode: 'two_factor_mail' } : {});
  setHost(t, i.domain);
  const client = await i.client(c.status === '202' ? {} : { flagship: true });
  const { delegated_code: code } = await admin('POST', '/oidc/default/code', { sub: i.domain });
  const body = { client_id: client.client_id, client_secret: client.client_secret, scope: '*', code };
  if (c.status === '403') Object.assign(body, { two_factor_token: 'A'.repeat(96), two_factor_passcode: '000000' });
  jsonBody(t, body);
});

// ----- authorize
const PKCE_VERIFIER = 'dredd-verifier-0123456789-0123456789-0123456789';
const PKCE_CHALLENGE = crypto.createHash('sha256').update(PKCE_VERIFIER).digest('base64url');

const authorizeQuery = (clientId, redirectUri, scope) => ({
  client_id: clientId,
  redirect_uri: redirectUri,
  scope,
  state: 'st',
  response_type: 'code',
  code_challenge: PKCE_CHALLENGE,
  code_challenge_method: 'S256',
});

/** Marks an admin-created client as created at onboarding (PUT /auth/register with its token). */
async function onboardingClient(i, client) {
  const r = await pub('PUT', i.domain, `/auth/register/${client.client_id}`, {
    headers: json(`Bearer ${client.registration_access_token}`),
    body: JSON.stringify({ client_id: client.client_id, redirect_uris: client.redirect_uris, client_name: client.client_name, software_id: client.software_id, created_at_onboarding: true }),
  });
  if (r.status !== 200) throw new Error(`created_at_onboarding: ${r.status} ${r.text}`);
}

/** Renders the confirm-flagship page 30 times (the `confirm-flagship` limit of the hour). */
async function confirmPagesUsedUp(i, client, session) {
  const url = `/auth/authorize?${new URLSearchParams(authorizeQuery(client.client_id, 'cozy://dredd', '*'))}`;
  for (let n = 0; n < 30; n++) {
    const r = await pub('GET', i.domain, url, { headers: { Accept: 'text/html', Cookie: session } });
    if (r.status !== 200) throw new Error(`confirm-flagship page ${n + 1}: ${r.status}`);
  }
}

on('GET /auth/authorize', async (t, c) => {
  const i = await instance();
  setHost(t, i.domain);
  const client = await i.client({ redirect_uris: ['cozy://dredd'] });
  query(t, { client_id: client.client_id, redirect_uri: 'cozy://dredd', scope: 'io.cozy.files', state: 'st', response_type: 'code', code_challenge: PKCE_CHALLENGE, code_challenge_method: 'S256', session_code: undefined });
  if (c.status === '303' && /session_code/.test(c.desc)) query(t, { session_code: await i.code('session_code') });
  if (c.status === '200' || c.status === '302') cookie(t, await i.session());
  if (c.status === '302') query(t, { scope: 'login' }), await admin('PATCH', `/instances/${encodeURIComponent(i.domain)}/clients/${client.client_id}`, { allow_login_scope: true });
  if (c.status === '200' && c.accept === 'application/json') {
    // No consent for a client created at onboarding: the code comes at once, as {"deeplink"}.
    await onboardingClient(i, client);
    t.request.headers.Accept = 'application/json';
  }
  if (c.status === '400') cookie(t, await i.session()), query(t, { client_id: 'unknown' });
  if (c.status === '429') {
    const session = await i.session();
    await confirmPagesUsedUp(i, client, session);
    cookie(t, session);
    query(t, { scope: '*' });
  }
});

on('POST /auth/authorize', async (t, c) => {
  const i = await instance();
  setHost(t, i.domain);
  const client = await i.client({ redirect_uris: ['cozy://dredd'] });
  const fields = { client_id: client.client_id, redirect_uri: 'cozy://dredd', scope: 'io.cozy.files', state: 'st', response_type: 'code', code_challenge: PKCE_CHALLENGE, code_challenge_method: 'S256' };
  const session = await i.session();
  if (c.status === '403') return cookie(t, session), formBody(t, { ...fields, csrf_token: 'x'.repeat(32) });
  if (c.status === '400' && c.accept !== 'text/html') return cookie(t, session), formBody(t, fields);
  if (c.status === '400') fields.client_id = 'unknown';
  csrfForm(t, fields, c.status === '401' ? undefined : session);
  if (c.status === '200' && c.accept === 'application/json') t.request.headers.Accept = 'application/json'; // the consent: {"deeplink"}
  if (c.status === '200' && c.accept !== 'application/json') csrfForm(t, { ...fields, scope: '*' }, session); // not yet flagship: the confirm page
  if (c.status === '429') {
    await confirmPagesUsedUp(i, client, session);
    csrfForm(t, { ...fields, scope: '*' }, session);
  }
});

on('POST /auth/access_token', async (t, c) => {
  if (c.status === '500') return skip(t, '500: needs a client linked to a webapp whose installation from the registry fails for 30 s');
  const i = await instance();
  setHost(t, i.domain);
  const client = await i.client();
  const refresh = await i.token('refresh', client.client_id, 'io.cozy.files');
  const fields = { grant_type: 'refresh_token', client_id: client.client_id, client_secret: client.client_secret, refresh_token: refresh };
  if (c.status === '400') fields.client_secret = 'wrong';
  if (c.ctype === 'multipart/form-data') {
    const boundary = 'dreddboundary';
    t.request.headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
    t.request.body = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') + `--${boundary}--\r\n`;
  } else formBody(t, fields);
});

on('POST /auth/session_code', async (t, c) => {
  if (c.status === '201') return jsonBody(t, {});
  bearer(t, undefined);
  if (c.status === '400') return jsonBody(t, '{"not json');
  if (c.status === '401') return jsonBody(t, { passphrase: hashPassphrase('wrong', MAIN.domain) });
  if (c.status === '403') {
    const i = await instance({ auth_mode: 'two_factor_mail' });
    setHost(t, i.domain);
    return jsonBody(t, { passphrase: i.pass });
  }
});

on('POST /auth/tokens/konnectors/{slug}', async (t, c) => {
  setPath(t, '/auth/tokens/konnectors/dredd-konnector');
  if (c.status === '403' && !/No instance/.test(c.desc)) bearer(t, FIX.noperm);
  if (c.status === '404') setPath(t, '/auth/tokens/konnectors/not-installed');
});

on('GET /apps/{slug}/open', async (t, c) => {
  setPath(t, '/apps/dredd-app/open');
  if (c.status === '404' && c.accept === 'application/vnd.api+json') setPath(t, '/apps/not-installed/open');
});

on('GET /auth/passphrase', async (t, c) => {
  if (c.status === '200') {
    setHost(t, FIX.fresh.domain);
    query(t, { registerToken: FIX.fresh.created.register_token });
  }
});

on('GET /auth/passphrase_reset', async (t, c) => {
  query(t, { redirect: undefined });
});

on('POST /auth/passphrase_reset', async (t, c) => {
  if (c.status === '200') {
    const i = await instance();
    setHost(t, i.domain);
    return csrfForm(t, {});
  }
  if (c.status === '400') return formBody(t, {});
});

async function resetToken() {
  const i = await instance();
  await pub('POST', i.domain, '/auth/passphrase_reset', { headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `_csrf=${CSRF}`, Accept: 'text/html' }, body: `csrf_token=${CSRF}` });
  const mails = JSON.stringify(await i.mails());
  const m = /token=([0-9a-f]+)/.exec(mails);
  if (!m) throw new Error('no reset token in the mails: ' + mails.slice(0, 300));
  return { i, token: m[1] };
}

on('GET /auth/passphrase_renew', async (t, c) => {
  if (c.status === '200') {
    const r = await resetToken();
    setHost(t, r.i.domain);
    query(t, { token: r.token });
  }
  if (c.status === '303') cookie(t, await MAIN.session());
  if (c.status === '400' && c.accept === 'application/json') {
    const r = await resetToken();
    setHost(t, r.i.domain);
    query(t, { token: 'f'.repeat(r.token.length) });
  } else if (c.status === '400') query(t, { token: 'zz' });
});

on('POST /auth/passphrase_renew', async (t, c) => {
  const r = await resetToken();
  setHost(t, r.i.domain);
  const fields = { passphrase_reset_token: r.token, passphrase: hashPassphrase('new ' + PASSWORD, r.i.domain), iterations: String(KDF) };
  if (c.status === '400' && c.accept === 'application/vnd.api+json') return csrfForm(t, { ...fields, passphrase: '' });
  if (c.status === '400' && c.accept === 'text/plain') return formBody(t, fields);
  if (c.status === '400' && c.accept === 'application/json') fields.passphrase_reset_token = 'f'.repeat(r.token.length);
  else if (c.status === '400' || c.status === '401') fields.passphrase_reset_token = 'zz';
  if (c.status === '422') fields.iterations = '1';
  if (c.status === '403') return;
  csrfForm(t, fields);
});

on('POST /auth/hint', async (t, c) => {
  if (c.status === '200') formBody(t, {});
});

on('POST /notifications', async (t, c) => {
  const body = { data: { type: 'io.cozy.notifications', attributes: { category: 'dredd', title: 'Hello', message: 'World' } } };
  if (['201', '302', '403', '404'].includes(c.status)) bearer(t, FIX.notifier);
  if (c.status === '400' && c.accept !== 'application/vnd.api+json') return bearer(t, 'not-a-jwt');
  if (c.status === '402') return void (c.forcedHost = FIX.payment.domain); // TOS deadline or PAYMENT_FAILED: same 402
  if (c.status === '201') return jsonBody(t, body);
  if (c.status === '302') {
    // Terms of 2020 not signed, in a context with a manager: an HTML client goes to its terms page.
    const i = await instance({ context: 'dredd-down', tos_latest: '1.0.0-20200101' });
    c.forcedHost = i.domain;
    bearer(t, i.max);
    t.request.headers.Accept = 'text/html';
    return jsonBody(t, body);
  }
  if (c.status === '400' && c.accept === 'application/vnd.api+json') return jsonBody(t, { data: { type: 'io.cozy.notifications', attributes: { category: 'dredd' } } });
  if (c.status === '403') return jsonBody(t, { data: { type: 'io.cozy.notifications', attributes: { category: 'unknown-category', title: 'x' } } });
  if (c.status === '404') {
    // an OAuth client linked to a webapp (registry://<slug>) that is not installed
    const client = await MAIN.client({ software_id: 'registry://dredd-not-installed' });
    bearer(t, await MAIN.token('access', client.client_id, 'io.cozy.notifications'));
    return jsonBody(t, body);
  }
});

// ---------------------------------------------------------------------------------------------
// Admin document

const adminInstance = async () => (await instance()).domain;

on('GET /status', async (t, c) => {
  if (c.status === '503') return skip(t, 'needs the database down');
});
const enc = encodeURIComponent;
async function adminDomainCase(t, c, suffix = '') {
  if (c.status === '401' || c.status === '404') return null; // no credentials (generic) / the example domain does not exist
  const i = await instance();
  setPath(t, `/instances/${enc(i.domain)}${suffix}`);
  return i;
}

on('POST /instances', async (t, c) => {
  const name = uniq('new');
  jsonBody(t, { domain: domainOf(name), email: `${name}@example.net`, passphrase: PASSWORD, kdf_iterations: KDF });
  if (c.status === '400') jsonBody(t, { domain: domainOf(name), unknown_key: true });
  if (c.status === '409') {
    const i = await instance();
    jsonBody(t, { domain: i.domain });
  }
});
on('GET /instances/{domain}', async (t, c) => void (await adminDomainCase(t, c)));
on('PATCH /instances/{domain}', async (t, c) => {
  jsonBody(t, { public_name: 'Renamed' });
  await adminDomainCase(t, c);
  if (c.status === '400') jsonBody(t, { unknown_key: true });
});
on('DELETE /instances/{domain}', async (t, c) => void (await adminDomainCase(t, c)));
on('POST /instances/{domain}/tokens', async (t, c) => {
  jsonBody(t, { audience: 'cli', subject: 'dredd', scope: 'io.cozy.files' });
  await adminDomainCase(t, c, '/tokens');
  if (c.status === '400') jsonBody(t, { audience: 'access', subject: 'no-such-client' });
});
on('POST /instances/{domain}/clients', async (t, c) => {
  jsonBody(t, { redirect_uris: ['cozy://flagship'], client_name: 'Dredd', software_id: 'github.com/cozy/cozy-flagship-app', flagship: true });
  await adminDomainCase(t, c, '/clients');
  if (c.status === '400') jsonBody(t, { client_name: 'Dredd' });
});
on('PATCH /instances/{domain}/clients/{clientId}', async (t, c) => {
  jsonBody(t, { flagship: true });
  if (c.status === '401') return;
  const i = await instance();
  const client = await i.client();
  setPath(t, `/instances/${enc(i.domain)}/clients/${c.status === '404' ? 'ffffffffffffffffffffffffffffffff' : client.client_id}`);
  if (c.status === '400') jsonBody(t, { unknown_key: true });
});
on('POST /instances/{domain}/apps', async (t, c) => {
  jsonBody(t, { slug: 'drive', type: 'webapp', name: 'Drive', permissions: { files: { type: 'io.cozy.files' } } });
  const i = await adminDomainCase(t, c, '/apps');
  if (c.status === '400') jsonBody(t, { slug: 'drive', type: 'webapp', unknown_key: true });
  if (c.status === '409') await i.app('drive');
});
on('POST /instances/{domain}/magic_link', async (t, c) => void (await adminDomainCase(t, c, '/magic_link')));
on('POST /instances/{domain}/session_code', async (t, c) => void (await adminDomainCase(t, c, '/session_code')));
on('POST /instances/{domain}/session_code/check', async (t, c) => {
  jsonBody(t, { session_code: 'unknown' });
  const i = await adminDomainCase(t, c, '/session_code/check');
  if (c.status === '200') jsonBody(t, { session_code: await i.code('session_code') });
  if (c.status === '400') jsonBody(t, '{"not json');
});
on('POST /instances/{domain}/email_verified_code', async (t, c) => {
  if (c.status === '201') {
    const i = await instance({ auth_mode: 'two_factor_mail' });
    return setPath(t, `/instances/${enc(i.domain)}/email_verified_code`);
  }
  await adminDomainCase(t, c, '/email_verified_code');
});
on('GET /instances/{domain}/mails', async (t, c) => void (await adminDomainCase(t, c, '/mails')));
on('POST /oidc/{context}/code', async (t, c) => {
  setPath(t, '/oidc/default/code');
  jsonBody(t, { sub: 'dredd-sub', sid: 'dredd-sid' });
  if (c.status === '400') jsonBody(t, { sid: 'x' });
});

// ---------------------------------------------------------------------------------------------

const REPORT = [];

hooks.beforeAll(async (transactions, done) => {
  try {
    if (DOC === 'public') {
      refill();
      MAIN = await instance({ name: uniq('main') });
      const [noperm, payment, blocked] = await Promise.all([
        MAIN.token('cli', 'noperm', 'io.cozy.files'),
        instance({ name: uniq('payment') }),
        instance({ name: uniq('blocked') }),
      ]);
      FIX.noperm = noperm;
      FIX.payment = payment;
      FIX.blocked = blocked;
      await payment.patch({ blocked: true, blocking_reason: 'PAYMENT_FAILED' });
      await MAIN.app('dredd-app', 'webapp', { files: { type: 'io.cozy.files' } });
      await MAIN.app('dredd-konnector', 'konnector', { files: { type: 'io.cozy.files' } });
      await MAIN.app('settings', 'webapp', { settings: { type: 'io.cozy.settings' } });
      await admin('POST', `/instances/${encodeURIComponent(MAIN.domain)}/apps`, {
        slug: 'notifier',
        type: 'webapp',
        permissions: { notifications: { type: 'io.cozy.notifications' } },
        notifications: { dredd: { description: 'dredd notifications' } },
      });
      await MAIN.app('dredd-bare', 'konnector');
      FIX.bareKonn = await MAIN.token('konnector', 'dredd-bare');
      FIX.settingsApp = await MAIN.token('app', 'settings');
      FIX.notifier = await MAIN.token('app', 'notifier');
      FIX.client = await MAIN.client();
      FIX.fresh = await instance({ onboarded: false });
      FIX.hinted = await instance();
      await pub('PUT', FIX.hinted.domain, '/settings/hint', { headers: json(`Bearer ${FIX.hinted.max}`), body: JSON.stringify({ hint: 'a horse' }) });
      await blocked.patch({ blocked: true, blocking_reason: 'UNKNOWN' });
    }
  } catch (err) {
    hooks.log(`seeding failed: ${err.stack}`);
    for (const t of transactions) t.skip = true;
  }
  done();
});

hooks.beforeEach(async (t, done) => {
  try {
    await prepare(t);
  } catch (err) {
    t.fail = `hook error: ${err.message}`;
    hooks.log(`hook error in ${t.name}: ${err.stack}`);
  }
  done();
});

async function prepare(t) {
  const op = operationOf(t);
  const status = t.expected.statusCode;
  const accept = t.request.headers.Accept;
  const ctype = t.request.headers['Content-Type'];
  const res = deref(op.responses[status]);
  const c = { op, status, accept, ctype, desc: (res && res.description) || '', form: {} };

  // Expected body: the real schema (JSON media types), nothing for the others.
  const media = res && res.content && res.content[accept];
  delete t.expected.body;
  delete t.expected.bodySchema;
  if (media && media.schema && /json/.test(accept)) t.expected.bodySchema = toGavel(media.schema);
  // Text bodies are sent with their charset (`text/html; charset=utf-8`); dredd matches Content-Type exactly.
  if (/^text\//.test(accept) && t.expected.headers['Content-Type'] === accept) t.expected.headers['Content-Type'] = `${accept}; charset=utf-8`;
  // Expected headers: Content-Type, Location, and those the contract marks as required.
  const declared = (res && res.headers) || {};
  for (const h of Object.keys(t.expected.headers || {})) {
    if (/^content-type$/i.test(h) || /^location$/i.test(h)) continue;
    const decl = deref(declared[h]);
    if (!decl || !decl.required) delete t.expected.headers[h];
  }

  // Defaults: the main instance, the authentication of the security requirements.
  if (DOC === 'public') {
    setHost(t, MAIN.domain);
    const security = op.security || BUNDLE.security || [];
    const schemes = new Set(security.flatMap((s) => Object.keys(s)));
    if (schemes.has('bearerToken')) bearer(t, MAIN.max);
    if (!security.some((s) => Object.keys(s).length === 0) && schemes.has('sessionCookie') && !schemes.has('bearerToken')) cookie(t, await MAIN.session());
    if (ctype === 'application/x-www-form-urlencoded') t.request.body = '';
  } else {
    t.request.headers.Authorization = ADMIN_AUTH;
  }
  await generic(t, c);
  const key = `${t.request.method} ${t.origin.resourceName}`;
  // An unknown or blocked Host answers before any handler: no fixture is needed for those.
  if (cases[key] && !c.forcedHost) await cases[key](t, c);
  // Statuses of the Host (unknown, blocked instance) win over whatever the case prepared.
  if (c.forcedHost) {
    setHost(t, c.forcedHost);
    if (c.forcedHost !== UNKNOWN_HOST()) bearer(t, undefined); // a blocked instance answers before any token check
  }
}

hooks.afterAll((transactions, done) => {
  for (const t of transactions) {
    const status = t.skip ? 'skip' : t.test ? t.test.status : t.fail ? 'fail' : 'unknown';
    const errors = (t.errors || []).concat((t.test && t.test.errors) || []).map((e) => e.message);
    let message = [...new Set([t.test && t.test.message, ...errors].filter(Boolean))].join('\n').slice(0, 1500);
    if (status === 'fail' && t.real) message += `\n[actual ${t.real.statusCode} ${t.real.headers && t.real.headers['content-type']}] ${String(t.real.body || '').slice(0, 300)}`;
    if (!message.trim() && status === 'fail') message = JSON.stringify(t.results || (t.test && t.test.results) || t.test || {}).slice(0, 1500);
    REPORT.push({ name: t.name, method: t.request.method, path: t.origin.resourceName, status, reason: t.skipReason, message });
  }
  fs.writeFileSync(process.env.HEARTH_DREDD_REPORT, JSON.stringify(REPORT, null, 1));
  done();
});
