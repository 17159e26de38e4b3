// /assets/hearth.js: shared browser code for the pages with a form.
//
// - Password hashing exactly as the cozy clients do it (wire-compat.md, reference §0.6):
//   masterKey = PBKDF2-SHA256(password, salt = "me@<domain>", iterations, 32 bytes),
//   passphrase = base64(PBKDF2-SHA256(masterKey, salt = password, 1, 32 bytes)).
//   WebCrypto does it when available; otherwise (a page served over plain HTTP on a LAN name has no
//   crypto.subtle) a pure-JS PBKDF2-SHA256 computes the same bytes, in slices so the page stays
//   responsive.
// - Vault keys for a new password, as Bitwarden clients make them: `key` = the 64-byte symmetric
//   key encrypted with the master key, AES-256-CBC, EncString type 0 `0.<iv b64>|<ct b64>`;
//   `public_key` = base64 SPKI of a fresh RSA-2048 key; `private_key` = its PKCS#8 encrypted with
//   the symmetric key, type 2 `2.<iv>|<ct>|<hmac>` (AES-256-CBC + HMAC-SHA256).
// - Form submission with fetch and `Accept: application/json`, so the server answers
//   `{"redirect"}` / `{"deeplink"}` and the page navigates itself (a form POST that the server
//   redirects to another origin would be stopped by CSP form-action in some browsers).
//
// Written as a plain string (no build step); it must stay ES2017 and free of backticks.

export const HEARTH_JS = String.raw`/* Hearth pages: password hashing and form helpers. */
(function (root) {
  'use strict';

  var te = new TextEncoder();
  function utf8(s) { return te.encode(s); }

  function toB64(bytes) {
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s);
  }

  function concat(a, b) {
    var out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }

  function subtle() {
    var c = root.crypto;
    return c && c.subtle && typeof c.subtle.importKey === 'function' ? c.subtle : null;
  }

  function randomBytes(n) {
    var b = new Uint8Array(n);
    root.crypto.getRandomValues(b);
    return b;
  }

  /* ---- SHA-256 / HMAC / PBKDF2 in plain JS (fallback without WebCrypto) ---- */

  var K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ]);
  var IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  var W = new Int32Array(64);

  function compress(H, M) {
    var i, x, y;
    for (i = 0; i < 16; i++) W[i] = M[i];
    for (i = 16; i < 64; i++) {
      x = W[i - 15];
      y = W[i - 2];
      W[i] = (W[i - 16] + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
        W[i - 7] + (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    }
    var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
    for (i = 0; i < 64; i++) {
      var t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
        ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
      var t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
        ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    H[0] = (H[0] + a) | 0; H[1] = (H[1] + b) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
    H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
  }

  function loadBlock(M, bytes, off) {
    for (var j = 0; j < 16; j++) {
      var p = off + j * 4;
      M[j] = (bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3];
    }
  }

  /* Absorbs msg and the final padding into H; prefixLen bytes were already absorbed. */
  function absorb(H, msg, prefixLen) {
    var len = msg.length;
    var buf = new Uint8Array((len + 72) >> 6 << 6);
    buf.set(msg);
    buf[len] = 0x80;
    var bits = (prefixLen + len) * 8;
    var hi = Math.floor(bits / 4294967296), lo = bits >>> 0, e = buf.length;
    buf[e - 8] = hi >>> 24; buf[e - 7] = (hi >>> 16) & 255; buf[e - 6] = (hi >>> 8) & 255; buf[e - 5] = hi & 255;
    buf[e - 4] = lo >>> 24; buf[e - 3] = (lo >>> 16) & 255; buf[e - 2] = (lo >>> 8) & 255; buf[e - 1] = lo & 255;
    var M = new Int32Array(16);
    for (var off = 0; off < buf.length; off += 64) {
      loadBlock(M, buf, off);
      compress(H, M);
    }
    return H;
  }

  function wordsToBytes(H) {
    var out = new Uint8Array(32);
    for (var i = 0; i < 8; i++) {
      out[i * 4] = H[i] >>> 24; out[i * 4 + 1] = (H[i] >>> 16) & 255;
      out[i * 4 + 2] = (H[i] >>> 8) & 255; out[i * 4 + 3] = H[i] & 255;
    }
    return out;
  }

  function sha256(bytes) { return wordsToBytes(absorb(new Int32Array(IV), bytes, 0)); }

  function hmacStates(key) {
    if (key.length > 64) key = sha256(key);
    var ipad = new Uint8Array(64), opad = new Uint8Array(64);
    for (var i = 0; i < 64; i++) {
      var k = i < key.length ? key[i] : 0;
      ipad[i] = k ^ 0x36;
      opad[i] = k ^ 0x5c;
    }
    var inner = new Int32Array(IV), outer = new Int32Array(IV), M = new Int32Array(16);
    loadBlock(M, ipad, 0); compress(inner, M);
    loadBlock(M, opad, 0); compress(outer, M);
    return { inner: inner, outer: outer };
  }

  /* PBKDF2-HMAC-SHA256 with a 32-byte output (one block), in slices of 'slice' iterations. */
  function pbkdf2Js(password, salt, iterations, slice) {
    var st = hmacStates(password);
    var U = absorb(new Int32Array(st.outer), wordsToBytes(absorb(new Int32Array(st.inner), concat(salt, new Uint8Array([0, 0, 0, 1])), 64)), 64);
    var T = new Int32Array(U), X = new Int32Array(8), M = new Int32Array(16);
    M[8] = 0x80000000 | 0;
    M[15] = (64 + 32) * 8;
    var n = 1;
    function run(count) {
      for (var end = Math.min(iterations, n + count); n < end; n++) {
        var i;
        for (i = 0; i < 8; i++) { M[i] = U[i]; X[i] = st.inner[i]; }
        compress(X, M);
        for (i = 0; i < 8; i++) { M[i] = X[i]; U[i] = st.outer[i]; }
        compress(U, M);
        for (i = 0; i < 8; i++) T[i] ^= U[i];
      }
    }
    return new Promise(function (resolve) {
      (function step() {
        run(slice || 25000);
        if (n >= iterations) resolve(wordsToBytes(T));
        else setTimeout(step, 0);
      })();
    });
  }

  async function pbkdf2(password, salt, iterations) {
    var s = subtle();
    if (!s) return pbkdf2Js(password, salt, iterations);
    var key = await s.importKey('raw', password, { name: 'PBKDF2' }, false, ['deriveBits']);
    var bits = await s.deriveBits({ name: 'PBKDF2', salt: salt, iterations: iterations, hash: 'SHA-256' }, key, 256);
    return new Uint8Array(bits);
  }

  /* { masterKey: Uint8Array(32), hashed: base64 string of 44 characters } */
  async function hashPassphrase(password, salt, iterations) {
    var pw = utf8(password);
    var masterKey = await pbkdf2(pw, utf8(salt), iterations);
    var hashed = await pbkdf2(masterKey, pw, 1);
    return { masterKey: masterKey, hashed: toB64(hashed) };
  }

  /* ---- Vault keys (WebCrypto only) ---- */

  async function aesCbc(keyBytes, iv, data) {
    var s = subtle();
    var key = await s.importKey('raw', keyBytes, { name: 'AES-CBC' }, false, ['encrypt']);
    return new Uint8Array(await s.encrypt({ name: 'AES-CBC', iv: iv }, key, data));
  }

  async function hmacSha256(keyBytes, data) {
    var s = subtle();
    var key = await s.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return new Uint8Array(await s.sign('HMAC', key, data));
  }

  /* { key: '0.<iv>|<ct>', symKey: Uint8Array(64) } */
  async function makeEncKey(masterKey) {
    var symKey = randomBytes(64), iv = randomBytes(16);
    var ct = await aesCbc(masterKey, iv, symKey);
    return { key: '0.' + toB64(iv) + '|' + toB64(ct), symKey: symKey };
  }

  /* { publicKey: base64 SPKI, privateKey: '2.<iv>|<ct>|<mac>' } */
  async function makeKeyPair(symKey) {
    var s = subtle();
    var pair = await s.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-1' }, true, ['encrypt', 'decrypt']);
    var spki = new Uint8Array(await s.exportKey('spki', pair.publicKey));
    var pkcs8 = new Uint8Array(await s.exportKey('pkcs8', pair.privateKey));
    var iv = randomBytes(16);
    var ct = await aesCbc(symKey.slice(0, 32), iv, pkcs8);
    var mac = await hmacSha256(symKey.slice(32, 64), concat(iv, ct));
    return { publicKey: toB64(spki), privateKey: '2.' + toB64(iv) + '|' + toB64(ct) + '|' + toB64(mac) };
  }

  /* ---- Forms ---- */

  function msg(form, name) { return form.getAttribute('data-msg-' + name) || ''; }

  function iterationsOf(form) {
    var n = parseInt(form.getAttribute('data-iterations') || '', 10);
    return n > 0 ? n : 650000;
  }

  function errorRegion(form) {
    return document.getElementById(form.getAttribute('data-error-region') || 'form-error');
  }

  function fields(form) { return form.querySelectorAll('input:not([type=hidden])'); }

  function showError(form, message) {
    var region = errorRegion(form);
    if (region) region.textContent = message || msg(form, 'generic');
    fields(form).forEach(function (el) { if (el.type !== 'checkbox') el.setAttribute('aria-invalid', 'true'); });
    var focus = form.querySelector('[data-focus-on-error]');
    if (focus) { focus.focus(); if (focus.select) focus.select(); }
  }

  function clearError(form) {
    var region = errorRegion(form);
    if (region) region.textContent = '';
    fields(form).forEach(function (el) { el.removeAttribute('aria-invalid'); });
  }

  function busy(form, on) {
    form.setAttribute('aria-busy', on ? 'true' : 'false');
    form.querySelectorAll('button').forEach(function (b) { b.disabled = on; });
  }

  function fail(message) {
    var e = new Error(message);
    e.userMessage = message;
    return e;
  }

  async function readError(res) {
    var text = '';
    try { text = await res.text(); } catch (e) { return ''; }
    try {
      var body = JSON.parse(text);
      if (body && typeof body.error === 'string') return body.error;
      if (body && body.errors && body.errors[0]) return body.errors[0].detail || body.errors[0].title || '';
      if (body && typeof body.message === 'string') return body.message;
      if (typeof body === 'string') return body;
    } catch (e) { /* not JSON */ }
    return '';
  }

  function send(url, body, contentType) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json', 'Content-Type': contentType },
      body: body
    });
  }
  function postForm(url, params) { return send(url, params.toString(), 'application/x-www-form-urlencoded'); }
  function postJSON(url, obj) { return send(url, JSON.stringify(obj), 'application/json'); }

  /* Success: navigate to {redirect} / {deeplink} (else reload). Failure: throw the server's message. */
  async function follow(form, res, onBody) {
    if (res.ok) {
      var body = null;
      try { body = await res.json(); } catch (e) { /* an HTML page: reload shows it */ }
      if (body && onBody) onBody(body);
      var target = body && (body.redirect || body.deeplink);
      if (target) root.location.assign(target);
      else root.location.reload();
      return true;
    }
    throw fail((await readError(res)) || msg(form, 'generic'));
  }

  /* Runs task on submit; task resolves true when the page is navigating away. */
  function onSubmit(form, task) {
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      if (form.getAttribute('aria-busy') === 'true') return;
      clearError(form);
      busy(form, true);
      var navigating = false;
      try {
        navigating = (await task(form)) === true;
      } catch (e) {
        showError(form, e && e.userMessage ? e.userMessage : msg(form, 'network'));
      } finally {
        if (!navigating) busy(form, false);
      }
    });
  }

  function storage(name, value) {
    try {
      if (value === undefined) return root.localStorage.getItem(name);
      root.localStorage.setItem(name, value);
    } catch (e) { /* storage disabled */ }
    return null;
  }

  function val(form, id) {
    var el = form.querySelector('#' + id);
    return el ? el.value : '';
  }

  /* Login-like forms: hash the password field #passphrase and post the form's named fields. */
  async function passwordLogin(form) {
    var password = val(form, 'passphrase');
    if (!password) throw fail(msg(form, 'empty'));
    var h = await hashPassphrase(password, form.getAttribute('data-salt') || '', iterationsOf(form));
    var params = new URLSearchParams(new FormData(form));
    params.set('passphrase', h.hashed);
    if (form.hasAttribute('data-trusted-device')) {
      var token = storage('trusted-device-token');
      if (token && !params.get('trusted-device-token')) params.set('trusted-device-token', token);
    }
    return follow(form, await postForm(form.getAttribute('action'), params));
  }

  /* Choose-a-password forms (onboarding, renew). mode: 'json' or 'form'. */
  async function choosePassphrase(form, mode) {
    var password = val(form, 'new-passphrase');
    var confirmation = val(form, 'confirm-passphrase');
    var params = new URLSearchParams(new FormData(form));
    var hint = params.get('hint') || '';
    if (!password) throw fail(msg(form, 'empty'));
    if (password !== confirmation) throw fail(msg(form, 'mismatch'));
    if (hint && hint === password) throw fail(msg(form, 'hint'));
    if (subtle()) {
      var iterations = iterationsOf(form);
      var h = await hashPassphrase(password, form.getAttribute('data-salt') || '', iterations);
      var k = await makeEncKey(h.masterKey);
      var pair = await makeKeyPair(k.symKey);
      params.set('passphrase', h.hashed);
      params.set('iterations', String(iterations));
      params.set('key', k.key);
      params.set('public_key', pair.publicKey);
      params.set('private_key', pair.privateKey);
    } else {
      /* Without WebCrypto the vault key cannot be made here: the password goes in clear with
         iterations=0 and the server hashes it and makes the keys (reference section 0.6). */
      params.set('passphrase', password);
      params.set('iterations', '0');
    }
    var url = form.getAttribute('action');
    var res;
    if (mode === 'json') {
      var obj = {};
      params.forEach(function (v, key) {
        if (key === 'iterations') obj[key] = Number(v);
        else if (!(key === 'hint' && v === '')) obj[key] = v;
      });
      res = await postJSON(url, obj);
    } else {
      res = await postForm(url, params);
    }
    return follow(form, res);
  }

  /* Six-digit code fields. */
  function code(form, id) {
    var c = val(form, id).replace(/\s+/g, '');
    if (!/^[0-9]{6}$/.test(c)) throw fail(msg(form, 'code'));
    return c;
  }

  root.Hearth = {
    utf8: utf8,
    toB64: toB64,
    sha256: sha256,
    pbkdf2: pbkdf2,
    pbkdf2Js: pbkdf2Js,
    hashPassphrase: hashPassphrase,
    makeEncKey: makeEncKey,
    makeKeyPair: makeKeyPair,
    msg: msg,
    fail: fail,
    readError: readError,
    postForm: postForm,
    postJSON: postJSON,
    follow: follow,
    onSubmit: onSubmit,
    storage: storage,
    passwordLogin: passwordLogin,
    choosePassphrase: choosePassphrase,
    code: code
  };
})(self);
`;

/** Per-page scripts, each a few lines on top of hearth.js. */
export const PAGE_JS = {
  login: String.raw`(function () {
  'use strict';
  var H = self.Hearth, form = document.getElementById('login-form');
  if (!H || !form) return;
  H.onSubmit(form, H.passwordLogin);
})();
`,
  magic_link_twofactor: String.raw`(function () {
  'use strict';
  var H = self.Hearth, form = document.getElementById('magic-link-twofactor-form');
  if (!H || !form) return;
  H.onSubmit(form, H.passwordLogin);
})();
`,
  twofactor: String.raw`(function () {
  'use strict';
  var H = self.Hearth, form = document.getElementById('twofactor-form');
  if (!H || !form) return;
  H.onSubmit(form, async function () {
    var params = new URLSearchParams(new FormData(form));
    params.set('two-factor-passcode', H.code(form, 'two-factor-passcode'));
    var res = await H.postForm(form.getAttribute('action'), params);
    return H.follow(form, res, function (body) {
      if (body.two_factor_trusted_device_token) H.storage('trusted-device-token', body.two_factor_trusted_device_token);
    });
  });
})();
`,
  authorize: String.raw`(function () {
  'use strict';
  var H = self.Hearth, form = document.getElementById('authorize-form');
  if (!H || !form) return;
  H.onSubmit(form, async function () {
    var res = await H.postForm(form.getAttribute('action'), new URLSearchParams(new FormData(form)));
    return H.follow(form, res);
  });
})();
`,
  confirm_flagship: String.raw`(function () {
  'use strict';
  var H = self.Hearth, form = document.getElementById('confirm-flagship-form');
  if (!H || !form) return;
  H.onSubmit(form, async function () {
    var params = new URLSearchParams(new FormData(form));
    params.set('code', H.code(form, 'code'));
    var res = await H.postForm(form.getAttribute('action'), params);
    if (!res.ok) throw H.fail((await H.readError(res)) || H.msg(form, 'generic'));
    var next = form.getAttribute('data-reload-url');
    if (next) self.location.assign(next);
    else self.location.reload();
    return true;
  });
})();
`,
  onboarding: String.raw`(function () {
  'use strict';
  var H = self.Hearth, form = document.getElementById('passphrase-form');
  if (!H || !form) return;
  H.onSubmit(form, function () { return H.choosePassphrase(form, 'json'); });
})();
`,
  passphrase_renew: String.raw`(function () {
  'use strict';
  var H = self.Hearth, form = document.getElementById('passphrase-form');
  if (!H || !form) return;
  H.onSubmit(form, function () { return H.choosePassphrase(form, 'form'); });
})();
`,
} as const;

export type ScriptedPage = keyof typeof PAGE_JS;
