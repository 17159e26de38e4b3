// Flagship app routes: store attestation and manual certification, prelogin, the flagship
// logins (passphrase, magic link, OIDC), session codes, konnector tokens, opening a webapp.
// Thin handlers: the logic lives in src/domain/flagship.ts and src/domain/oidc-token.ts.
import type { Handlers } from '../../generated/public-operations.gen.js';
import type { RequestContext } from '../../http/context.js';
import {
  appOpenParameters,
  confirmFlagshipCode,
  createAttestationChallenge,
  createKonnectorToken,
  createSessionCode,
  loginFlagship,
  loginMagicLinkFlagship,
  prelogin,
  submitAttestation,
  type FlagshipLoginOutcome,
} from '../../domain/flagship.js';
import { publicNameOf } from '../../domain/flagship-auth.js';
import { exchangeOidcToken } from '../../domain/oidc-token.js';
import { renderPage } from '../../pages/index.js';

type Ops =
  | 'createAttestationChallenge'
  | 'submitAttestation'
  | 'confirmFlagshipCode'
  | 'getPrelogin'
  | 'loginFlagship'
  | 'loginMagicLinkFlagship'
  | 'exchangeOidcToken'
  | 'createSessionCode'
  | 'createKonnectorToken'
  | 'getAppOpenParameters';

function loginOutcome(outcome: FlagshipLoginOutcome) {
  return outcome.kind === 'tokens'
    ? ({ status: 200, type: 'application/json', body: outcome.tokens } as const)
    : ({ status: 202, type: 'application/json', body: { session_code: outcome.sessionCode } } as const);
}

export const flagshipHandlers: Pick<Handlers<RequestContext>, Ops> = {
  async createAttestationChallenge(request, ctx) {
    const nonce = await createAttestationChallenge(ctx, request.path.clientId);
    return { status: 201, type: 'application/json', body: { nonce } };
  },

  async submitAttestation(request, ctx) {
    await submitAttestation(ctx, request.path.clientId, request.body.value);
    return { status: 204 };
  },

  async confirmFlagshipCode(request, ctx) {
    const form = request.body.value;
    await confirmFlagshipCode(ctx, request.path.clientId, form.code, form.token);
    return { status: 204 };
  },

  async getPrelogin(_request, ctx) {
    return { status: 200, type: 'application/json', body: await prelogin(ctx.services, ctx.instance) };
  },

  async loginFlagship(request, ctx) {
    const { instance } = ctx;
    if (!instance.onboardingFinished) {
      const publicName = await publicNameOf(ctx.services, instance);
      return { status: 200, type: 'text/html', body: renderPage('need_onboarding', { publicName, domain: instance.domain }, { locale: instance.locale }) };
    }
    return loginOutcome(await loginFlagship(ctx, request.body.value));
  },

  async loginMagicLinkFlagship(request, ctx) {
    return loginOutcome(await loginMagicLinkFlagship(ctx, request.body.value));
  },

  async exchangeOidcToken(request, ctx) {
    return loginOutcome(await exchangeOidcToken(ctx, request.body.value));
  },

  async createSessionCode(request, ctx) {
    const sessionCode = await createSessionCode(ctx, request.body?.value);
    return { status: 201, type: 'application/json', body: { session_code: sessionCode } };
  },

  async createKonnectorToken(request, ctx) {
    return { status: 201, type: 'application/json', body: await createKonnectorToken(ctx, request.path.slug) };
  },

  async getAppOpenParameters(request, ctx) {
    const { slug } = request.path;
    const attributes = await appOpenParameters(ctx, slug);
    return {
      status: 200,
      type: 'application/vnd.api+json',
      body: { data: { type: 'io.cozy.apps.open', id: slug, attributes, meta: {}, links: { self: `/apps/${encodeURIComponent(slug)}/open` } } },
    };
  },
};
