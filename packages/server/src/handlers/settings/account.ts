// The owner's account: passphrase (onboarding, change, check, hint), vault, email change
// (reference §2.3–§2.10). Thin handlers: the logic lives in src/domain/account.ts and
// src/domain/email-update.ts.
import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import { htmlError, jsonApiError } from '../../http/errors.js';
import { saltFor } from '../../security/index.js';
import {
  changePassphrase,
  checkOwnerPassphrase,
  initVault,
  onboard,
  onboardFlagship,
  setHint,
  type RegistrationInput,
} from '../../domain/account.js';
import { cancelEmailUpdate, confirmEmailUpdate, requestEmailUpdate, resendEmailUpdate } from '../../domain/email-update.js';

type Ops =
  | 'getPassphraseParameters'
  | 'registerPassphrase'
  | 'registerPassphraseFlagship'
  | 'updatePassphrase'
  | 'checkPassphrase'
  | 'getHint'
  | 'updateHint'
  | 'initVault'
  | 'requestEmailUpdate'
  | 'cancelEmailUpdate'
  | 'resendEmailUpdate'
  | 'confirmEmailUpdate';

const SETTINGS = 'io.cozy.settings';

/** A form field (strings only) or a JSON value, as an optional string. */
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export const settingsAccountHandlers: Pick<Handlers<RequestContext>, Ops> = {
  async getPassphraseParameters(_request, ctx) {
    await ctx.auth.requireWholeType('GET', SETTINGS);
    const { instance } = ctx;
    return {
      status: 200,
      type: 'application/vnd.api+json',
      body: {
        data: {
          type: 'io.cozy.settings',
          id: 'io.cozy.settings.passphrase',
          attributes: {
            salt: saltFor(instance.oldDomain ?? instance.domain),
            kdf: 0,
            iterations: instance.passphraseKdfIterations,
          },
          meta: {},
          links: { self: '/settings/passphrase' },
        },
      },
    };
  },

  async registerPassphrase(request, ctx) {
    const body = request.body;
    let iterations = 0;
    let fields: Record<string, unknown>;
    if (body.type === 'application/x-www-form-urlencoded') {
      fields = body.value as Record<string, unknown>;
      const raw = str(fields.iterations);
      iterations = raw ? Number(raw) : 0;
      if (!Number.isSafeInteger(iterations)) iterations = Number.MAX_SAFE_INTEGER;
    } else {
      fields = body.value as Record<string, unknown>;
      iterations = typeof fields.iterations === 'number' ? fields.iterations : 0;
    }
    const input: RegistrationInput & { redirection?: string } = {
      ...registrationFields(fields),
      iterations,
      redirection: str(fields.redirection),
    };
    const { cookie, redirect } = await onboard(ctx, input);
    const headers = { 'Set-Cookie': [cookie] };
    if ((request.headers.accept ?? '').includes('text/html')) {
      return { status: 303, headers: { ...headers, Location: redirect } };
    }
    return { status: 200, type: 'application/json', body: { redirect }, headers };
  },

  async registerPassphraseFlagship(request, ctx) {
    const v = request.body.value;
    const result = await onboardFlagship(ctx, {
      ...registrationFields(v as unknown as Record<string, unknown>),
      iterations: v.iterations ?? 0,
      clientId: v.client_id,
      clientSecret: v.client_secret,
    });
    if (result.kind === 'session_code') {
      return { status: 202, type: 'application/json', body: { session_code: result.sessionCode } };
    }
    return {
      status: 200,
      type: 'application/json',
      body: { access_token: result.accessToken, token_type: 'bearer', refresh_token: result.refreshToken, scope: '*' },
    };
  },

  async updatePassphrase(request, ctx) {
    const perm = await ctx.auth.requireWholeType('PUT', SETTINGS);
    const v = request.body.value;
    const result = await changePassphrase(ctx, perm, {
      currentPassphrase: v.current_passphrase,
      newPassphrase: v.new_passphrase,
      iterations: v.iterations,
      key: v.key,
      twoFactorToken: v.two_factor_token,
      twoFactorPasscode: v.two_factor_passcode,
      force: v.force,
      publicKey: v.publicKey,
      privateKey: v.privateKey,
    });
    if (result.kind === 'two_factor') {
      return { status: 200, type: 'application/json', body: { two_factor_token: result.twoFactorToken } };
    }
    return { status: 204, headers: result.cookie ? { 'Set-Cookie': [result.cookie] } : undefined };
  },

  async checkPassphrase(request, ctx) {
    await ctx.auth.requireWholeType('PUT', SETTINGS);
    if (!(await checkOwnerPassphrase(ctx, request.body.value.passphrase))) throw jsonApiError(403, 'Invalid passphrase');
    return { status: 204 };
  },

  async getHint(_request, ctx) {
    await ctx.auth.requireWholeType('GET', SETTINGS);
    if (!ctx.instance.passphraseHint) throw jsonApiError(404, 'No hint');
    return { status: 204 };
  },

  async updateHint(request, ctx) {
    await ctx.auth.requireWholeType('PUT', SETTINGS);
    await setHint(ctx, request.body.value.hint);
    return { status: 204 };
  },

  async initVault(_request, ctx) {
    await ctx.auth.requireWholeType('POST', 'com.bitwarden.ciphers');
    await initVault(ctx);
    return { status: 204 };
  },

  async requestEmailUpdate(request, ctx) {
    await ctx.auth.requireWholeType('POST', SETTINGS);
    await requestEmailUpdate(ctx, request.body.value.passphrase, request.body.value.email);
    return { status: 204 };
  },

  async cancelEmailUpdate(_request, ctx) {
    // The reference checks POST on this DELETE route; both verbs are accepted (see the contract).
    await ctx.auth.requireWholeType(['DELETE', 'POST'], SETTINGS);
    await cancelEmailUpdate(ctx);
    return { status: 204 };
  },

  async resendEmailUpdate(_request, ctx) {
    await ctx.auth.requireWholeType('POST', SETTINGS);
    await resendEmailUpdate(ctx);
    return { status: 204 };
  },

  async confirmEmailUpdate(request, ctx) {
    const session = await ctx.auth.session();
    if (!session) {
      const here = `${ctx.baseUrl}${ctx.req.originalUrl}`;
      return { status: 303, headers: { Location: `${ctx.baseUrl}/auth/login?redirect=${encodeURIComponent(here)}` } };
    }
    const location = await confirmEmailUpdate(ctx, request.query.token);
    if (!location) throw htmlError(400, 'The confirmation link is invalid or has expired.');
    return { status: 307, headers: { Location: location } };
  },
};

function registrationFields(fields: Record<string, unknown>): Omit<RegistrationInput, 'iterations'> {
  return {
    registerToken: str(fields.register_token) ?? '',
    passphrase: str(fields.passphrase) ?? '',
    key: str(fields.key),
    publicKey: str(fields.public_key),
    privateKey: str(fields.private_key),
    hint: str(fields.hint),
  };
}
