// The page scripts run against the pages they belong to: a small fake DOM is built from the
// rendered form (its attributes and inputs), hearth.js and the page script run in a VM, and the
// test checks what is posted, where the page navigates and what error it shows.
import { pbkdf2Sync, webcrypto } from 'node:crypto';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { findAsset, renderPage, type PageData, type PageName } from '../../src/pages/index.js';

const unescape = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function attrsOf(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/\s([a-zA-Z][\w-]*)(?:="([^"]*)")?/g)) out[m[1]!] = unescape(m[2] ?? '');
  return out;
}

class El {
  value = '';
  checked = false;
  disabled = false;
  textContent = '';
  focused = false;
  constructor(readonly tag: string, readonly attrs: Record<string, string>) {
    this.value = attrs.value ?? '';
  }
  get id() {
    return this.attrs.id ?? '';
  }
  get type() {
    return this.attrs.type ?? 'text';
  }
  getAttribute(n: string) {
    return n in this.attrs ? this.attrs[n]! : null;
  }
  hasAttribute(n: string) {
    return n in this.attrs;
  }
  setAttribute(n: string, v: string) {
    this.attrs[n] = v;
  }
  removeAttribute(n: string) {
    delete this.attrs[n];
  }
  focus() {
    this.focused = true;
  }
  select() {}
}

class Form extends El {
  inputs: El[] = [];
  buttons: El[] = [];
  listeners: ((ev: unknown) => unknown)[] = [];
  addEventListener(type: string, fn: (ev: unknown) => unknown) {
    if (type === 'submit') this.listeners.push(fn);
  }
  querySelector(sel: string): El | null {
    if (sel.startsWith('#')) return this.inputs.find((i) => i.id === sel.slice(1)) ?? null;
    const attr = /^\[([\w-]+)\]$/.exec(sel);
    if (attr) return this.inputs.find((i) => i.hasAttribute(attr[1]!)) ?? null;
    throw new Error(`unsupported selector ${sel}`);
  }
  querySelectorAll(sel: string): El[] {
    if (sel === 'button') return this.buttons;
    if (sel === 'input:not([type=hidden])') return this.inputs.filter((i) => i.type !== 'hidden');
    throw new Error(`unsupported selector ${sel}`);
  }
  async submit() {
    for (const l of this.listeners) await l({ preventDefault() {} });
  }
}

interface Harness {
  form: Form;
  error: El;
  input(id: string): El;
  fetches: { url: string; init: RequestInit }[];
  navigations: string[];
  reloads: number;
  storage: Map<string, string>;
}

function run<N extends PageName>(
  name: N,
  data: PageData[N],
  respond: (url: string, init: RequestInit) => Response | Promise<Response>,
  opts: { subtle?: boolean; locale?: string; storage?: Record<string, string> } = {},
): Harness {
  const page = renderPage(name, data, { locale: opts.locale ?? 'en' });
  const formMatch = /<form\b([^>]*)>([\s\S]*?)<\/form>/.exec(page);
  if (!formMatch) throw new Error('no form');
  const form = new Form('form', attrsOf(`<form${formMatch[1]}>`));
  for (const m of formMatch[2]!.matchAll(/<input\b[^>]*>/g)) form.inputs.push(new El('input', attrsOf(m[0])));
  for (const _ of formMatch[2]!.matchAll(/<button\b/g)) form.buttons.push(new El('button', {}));
  const errorAttrs = attrsOf(/<div id="form-error"[^>]*>/.exec(page)?.[0] ?? '<div id="form-error">');
  const error = new El('div', errorAttrs);

  const h: Harness = {
    form,
    error,
    input: (id) => form.querySelector(`#${id}`) ?? (() => { throw new Error(`no #${id}`); })(),
    fetches: [],
    navigations: [],
    reloads: 0,
    storage: new Map(Object.entries(opts.storage ?? {})),
  };

  class FakeFormData {
    private entries: [string, string][];
    constructor(f: Form) {
      this.entries = f.inputs
        .filter((i) => i.attrs.name && (i.type !== 'checkbox' || i.checked))
        .map((i) => [i.attrs.name!, i.value]);
    }
    [Symbol.iterator]() {
      return this.entries[Symbol.iterator]();
    }
  }

  const crypto = opts.subtle === false ? { getRandomValues: webcrypto.getRandomValues.bind(webcrypto) } : webcrypto;
  const sandbox: Record<string, unknown> = {
    TextEncoder,
    btoa,
    atob,
    setTimeout,
    URLSearchParams,
    FormData: FakeFormData,
    Error,
    crypto,
    document: {
      getElementById: (id: string) => (id === form.id ? form : id === 'form-error' ? error : null),
    },
    fetch: async (url: string, init: RequestInit) => {
      h.fetches.push({ url, init });
      return respond(url, init);
    },
    location: {
      assign: (u: string) => h.navigations.push(u),
      reload: () => {
        h.reloads++;
      },
    },
    localStorage: {
      getItem: (k: string) => h.storage.get(k) ?? null,
      setItem: (k: string, v: string) => h.storage.set(k, v),
    },
  };
  sandbox.self = sandbox;
  vm.createContext(sandbox);
  for (const m of page.matchAll(/<script src="([^"]+)"/g)) {
    vm.runInContext(findAsset(m[1]!)!.body, sandbox, { filename: m[1] });
  }
  expect(form.listeners.length, `${name} script attached to #${form.id}`).toBe(1);
  return h;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

function params(init: RequestInit): URLSearchParams {
  expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/x-www-form-urlencoded');
  return new URLSearchParams(String(init.body));
}

function wireHash(password: string, salt: string, iterations: number): string {
  const mk = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return pbkdf2Sync(mk, password, 1, 32, 'sha256').toString('base64');
}

const base = { publicName: 'Alice', domain: 'alice.localhost' };
const loginData: PageData['login'] = { ...base, salt: 'me@alice.localhost', iterations: 2000, csrfToken: 'csrf123', redirect: 'https://home.alice.localhost/' };

describe('login.js', () => {
  it('posts the PBKDF2 hash with the form fields and follows the redirect', async () => {
    const h = run('login', loginData, () => json(200, { redirect: 'https://home.alice.localhost/#=' }), {
      storage: { 'trusted-device-token': 'tdt-1' },
    });
    h.input('passphrase').value = 'cozy';
    h.input('long-run-session').checked = true;
    await h.form.submit();
    expect(h.fetches).toHaveLength(1);
    const { url, init } = h.fetches[0]!;
    expect(url).toBe('/auth/login');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>).Accept).toBe('application/json');
    const p = params(init);
    expect(p.get('passphrase')).toBe(wireHash('cozy', 'me@alice.localhost', 2000));
    expect(p.get('csrf_token')).toBe('csrf123');
    expect(p.get('redirect')).toBe('https://home.alice.localhost/');
    expect(p.get('long-run-session')).toBe('true');
    expect(p.get('trusted-device-token')).toBe('tdt-1');
    expect([...p.keys()]).not.toContain('username');
    expect(h.navigations).toEqual(['https://home.alice.localhost/#=']);
    expect(h.form.buttons[0]!.disabled).toBe(true); // stays busy while navigating
  });

  it('shows the error of a 401 answer and lets the user retry', async () => {
    const h = run('login', loginData, () => json(401, { error: 'Mot de passe incorrect' }), { locale: 'fr' });
    h.input('passphrase').value = 'wrong';
    await h.form.submit();
    expect(h.error.textContent).toBe('Mot de passe incorrect');
    expect(h.input('passphrase').getAttribute('aria-invalid')).toBe('true');
    expect(h.input('passphrase').focused).toBe(true);
    expect(h.form.buttons[0]!.disabled).toBe(false);
    expect(h.navigations).toEqual([]);
  });

  it('refuses an empty password and reports network failures in the page language', async () => {
    const h = run('login', loginData, () => Promise.reject(new TypeError('Failed to fetch')), { locale: 'fr' });
    await h.form.submit();
    expect(h.error.textContent).toBe('Veuillez saisir votre mot de passe.');
    expect(h.fetches).toHaveLength(0);
    h.input('passphrase').value = 'cozy';
    await h.form.submit();
    expect(h.error.textContent).toBe('Impossible de joindre le serveur. Vérifiez votre connexion et réessayez.');
  });

  it('hashes without WebCrypto too (plain HTTP on a LAN name)', async () => {
    const h = run('login', loginData, () => json(200, { redirect: '/' }), { subtle: false });
    h.input('passphrase').value = 'cozy';
    await h.form.submit();
    expect(params(h.fetches[0]!.init).get('passphrase')).toBe(wireHash('cozy', 'me@alice.localhost', 2000));
  });
});

describe('magic_link_twofactor.js', () => {
  it('posts magic_code and the hashed passphrase', async () => {
    const h = run(
      'magic_link_twofactor',
      { ...base, magicCode: 'M'.repeat(32), salt: 'me@alice.localhost', iterations: 1000, csrfToken: 'c', redirect: '/x' },
      () => json(200, { redirect: 'https://home.alice.localhost/' }),
    );
    h.input('passphrase').value = 'cozy';
    await h.form.submit();
    const p = params(h.fetches[0]!.init);
    expect(h.fetches[0]!.url).toBe('/auth/magic_link/twofactor');
    expect(p.get('magic_code')).toBe('M'.repeat(32));
    expect(p.get('passphrase')).toBe(wireHash('cozy', 'me@alice.localhost', 1000));
    expect(p.get('csrf_token')).toBe('c');
    expect(h.navigations).toEqual(['https://home.alice.localhost/']);
  });
});

describe('twofactor.js', () => {
  it('posts the code, keeps long-run-session in the URL and stores the trusted-device token', async () => {
    const h = run('twofactor', { ...base, twoFactorToken: 'T'.repeat(96), redirect: '/r', longRunSession: true }, () =>
      json(200, { redirect: 'https://home.alice.localhost/', two_factor_trusted_device_token: 'trusted!' }),
    );
    h.input('two-factor-passcode').value = ' 123 456 ';
    h.input('trusted-device').checked = true;
    await h.form.submit();
    const { url, init } = h.fetches[0]!;
    expect(url).toBe('/auth/twofactor?long-run-session=true');
    const p = params(init);
    expect(p.get('two-factor-passcode')).toBe('123456');
    expect(p.get('two-factor-token')).toBe('T'.repeat(96));
    expect(p.get('two-factor-generate-trusted-device-token')).toBe('true');
    expect(h.storage.get('trusted-device-token')).toBe('trusted!');
    expect(h.navigations).toEqual(['https://home.alice.localhost/']);
  });

  it('checks the code format before posting', async () => {
    const h = run('twofactor', { twoFactorToken: 't' }, () => json(200, {}));
    h.input('two-factor-passcode').value = '12ab';
    await h.form.submit();
    expect(h.fetches).toHaveLength(0);
    expect(h.error.textContent).toBe('The code is made of 6 digits.');
  });
});

describe('authorize.js', () => {
  it('posts the consent form and follows the deeplink', async () => {
    const h = run(
      'authorize',
      { ...base, clientName: 'Drive', clientId: 'cid', redirectUri: 'cozydrive://cb', state: 'st', scope: '*', codeChallenge: 'ch', codeChallengeMethod: 'S256', csrfToken: 'c' },
      () => json(200, { deeplink: 'cozydrive://cb?state=st&access_code=ac&code=ac#' }),
    );
    await h.form.submit();
    const p = params(h.fetches[0]!.init);
    expect(h.fetches[0]!.url).toBe('/auth/authorize');
    expect(Object.fromEntries(p)).toEqual({
      csrf_token: 'c',
      client_id: 'cid',
      state: 'st',
      redirect_uri: 'cozydrive://cb',
      scope: '*',
      response_type: 'code',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
    });
    expect(h.navigations).toEqual(['cozydrive://cb?state=st&access_code=ac&code=ac#']);
  });

  it('reloads when the server answers a page instead of JSON', async () => {
    const h = run('authorize', { clientName: 'x', clientId: 'c', redirectUri: 'https://a/cb', state: 's', scope: '*', csrfToken: 'c' }, () =>
      new Response('<!DOCTYPE html>', { status: 200, headers: { 'Content-Type': 'text/html' } }),
    );
    await h.form.submit();
    expect(h.reloads).toBe(1);
  });
});

describe('confirm_flagship.js', () => {
  it('posts code and token as a form, then loads the authorize URL', async () => {
    const h = run('confirm_flagship', { clientId: 'cid', token: 'K'.repeat(96), reloadUrl: '/auth/authorize?scope=*&state=s' }, () => new Response(null, { status: 204 }));
    h.input('code').value = '654321';
    await h.form.submit();
    expect(h.fetches[0]!.url).toBe('/auth/clients/cid/flagship');
    expect(Object.fromEntries(params(h.fetches[0]!.init))).toEqual({ token: 'K'.repeat(96), code: '654321' });
    expect(h.navigations).toEqual(['/auth/authorize?scope=*&state=s']);
  });

  it('shows the 401 error and reloads the page itself when no URL is given', async () => {
    let status = 401;
    const h = run('confirm_flagship', { clientId: 'cid', token: 't' }, () =>
      status === 401 ? json(401, { error: 'Invalid code' }) : new Response(null, { status: 204 }),
    );
    h.input('code').value = '000000';
    await h.form.submit();
    expect(h.error.textContent).toBe('Invalid code');
    status = 204;
    await h.form.submit();
    expect(h.error.textContent).toBe('');
    expect(h.reloads).toBe(1);
  });
});

describe('onboarding.js and passphrase_renew.js', () => {
  const ob: PageData['onboarding'] = { ...base, registerToken: 'abcdef0123', salt: 'me@alice.localhost', iterations: 1000, redirection: 'drive/#/folder' };

  it('onboarding posts JSON with the hash, iterations, the vault keys and no empty hint', async () => {
    const h = run('onboarding', ob, () => json(200, { redirect: 'https://home.alice.localhost/' }));
    h.input('new-passphrase').value = 'a long passphrase';
    h.input('confirm-passphrase').value = 'a long passphrase';
    await h.form.submit();
    const { url, init } = h.fetches[0]!;
    expect(url).toBe('/settings/passphrase');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    const body = JSON.parse(String(init.body)) as Record<string, unknown>;
    expect(body.register_token).toBe('abcdef0123');
    expect(body.redirection).toBe('drive/#/folder');
    expect(body.passphrase).toBe(wireHash('a long passphrase', 'me@alice.localhost', 1000));
    expect(body.iterations).toBe(1000);
    expect(body.key).toMatch(/^0\.[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+$/);
    expect(body.public_key).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(body.private_key).toMatch(/^2\.[^|]+\|[^|]+\|[^|]+$/);
    expect(body).not.toHaveProperty('hint');
    expect(h.navigations).toEqual(['https://home.alice.localhost/']);
  });

  it('onboarding checks the confirmation and the hint', async () => {
    const h = run('onboarding', ob, () => json(200, {}), { locale: 'fr' });
    h.input('new-passphrase').value = 'one';
    h.input('confirm-passphrase').value = 'two';
    await h.form.submit();
    expect(h.error.textContent).toBe('Les deux mots de passe sont différents.');
    h.input('confirm-passphrase').value = 'one';
    h.input('hint').value = 'one';
    await h.form.submit();
    expect(h.error.textContent).toBe('L’indice ne doit pas être votre mot de passe.');
    expect(h.fetches).toHaveLength(0);
  });

  it('onboarding without WebCrypto sends the clear passphrase with iterations 0', async () => {
    const h = run('onboarding', ob, () => json(200, { redirect: '/' }), { subtle: false });
    h.input('new-passphrase').value = 'pw';
    h.input('confirm-passphrase').value = 'pw';
    h.input('hint').value = 'my hint';
    await h.form.submit();
    const body = JSON.parse(String(h.fetches[0]!.init.body)) as Record<string, unknown>;
    expect(body).toEqual({ register_token: 'abcdef0123', redirection: 'drive/#/folder', hint: 'my hint', passphrase: 'pw', iterations: 0 });
  });

  it('onboarding shows a JSON:API error detail', async () => {
    const h = run('onboarding', ob, () => json(400, { errors: [{ status: '400', title: 'Bad Request', detail: 'Invalid register token' }] }));
    h.input('new-passphrase').value = 'pw';
    h.input('confirm-passphrase').value = 'pw';
    await h.form.submit();
    expect(h.error.textContent).toBe('Invalid register token');
  });

  it('renew posts a form with the reset token, CSRF token and keys', async () => {
    const h = run(
      'passphrase_renew',
      { ...base, csrfToken: 'c', resetToken: 'ff00', salt: 'me@alice.localhost', iterations: 1000, from: 'settings' },
      () => json(200, { redirect: '/auth/login' }),
    );
    h.input('new-passphrase').value = 'new pw';
    h.input('confirm-passphrase').value = 'new pw';
    await h.form.submit();
    expect(h.fetches[0]!.url).toBe('/auth/passphrase_renew');
    const p = params(h.fetches[0]!.init);
    expect(p.get('passphrase_reset_token')).toBe('ff00');
    expect(p.get('csrf_token')).toBe('c');
    expect(p.get('from')).toBe('settings');
    expect(p.get('iterations')).toBe('1000');
    expect(p.get('passphrase')).toBe(wireHash('new pw', 'me@alice.localhost', 1000));
    expect(p.get('key')).toMatch(/^0\./);
    expect(p.get('private_key')).toMatch(/^2\./);
    expect(h.navigations).toEqual(['/auth/login']);
  });
});
