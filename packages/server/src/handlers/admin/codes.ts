// Admin API: the codes of the cloudery flows (magic links, session codes, email-verified codes,
// delegated OIDC codes), and the mails of an instance.
//
// Stored in the codes table (repositories/codes.ts): magic_link, session_code and email_verified
// codes are scoped to the instance id with data `{}`; oidc_delegated codes are scoped to
// `context:<context>` with data `{ sub, sid? }`.
import type { AdminHandlers } from '../../generated/admin-operations.gen.js';
import type { AdminContext } from '../../http/apps.js';
import { plainError } from '../../http/errors.js';
import { listMails } from '../../mail/outbox.js';
import { CODE_TTL_MS, consumeCode, contextScope, putCode, type CodeKind } from '../../repositories/codes.js';
import type { Instance } from '../../repositories/instances.js';
import { randomAlnum } from '../../security/index.js';
import { instanceOr404, isoTime } from './common.js';

type Ops = 'createMagicLinkCode' | 'createSessionCodeAdmin' | 'checkSessionCode' | 'createEmailVerifiedCode' | 'createOidcDelegatedCode' | 'listMails';

/** A fresh 32-character code of the instance, valid for the TTL of its kind. */
async function newInstanceCode(ctx: AdminContext, instance: Instance, kind: CodeKind & keyof typeof CODE_TTL_MS): Promise<string> {
  const code = randomAlnum(32);
  await putCode(ctx.services.db, instance.id, kind, code, {}, CODE_TTL_MS[kind], ctx.now);
  return code;
}

export const adminCodeHandlers: Pick<AdminHandlers<AdminContext>, Ops> = {
  async createMagicLinkCode(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    const code = await newInstanceCode(ctx, instance, 'magic_link');
    return { status: 201, type: 'application/json', body: { code } };
  },

  async createSessionCodeAdmin(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    const code = await newInstanceCode(ctx, instance, 'session_code');
    return { status: 201, type: 'application/json', body: { session_code: code } };
  },

  async checkSessionCode(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    const consumed = await consumeCode(ctx.services.db, instance.id, 'session_code', request.body.value.session_code, ctx.now);
    if (!consumed) throw plainError(403, 'invalid session_code');
    return { status: 200, type: 'application/json', body: { valid: true } };
  },

  async createEmailVerifiedCode(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    if (instance.authMode !== 'two_factor_mail') {
      throw plainError(400, 'two-factor authentication by mail is not enabled on this instance');
    }
    const code = await newInstanceCode(ctx, instance, 'email_verified');
    return { status: 201, type: 'application/json', body: { email_verified_code: code } };
  },

  async createOidcDelegatedCode(request, ctx) {
    const { sub, sid } = request.body.value;
    const code = randomAlnum(32);
    const data: { sub: string; sid?: string } = { sub };
    if (sid) data.sid = sid;
    await putCode(ctx.services.db, contextScope(request.path.context), 'oidc_delegated', code, data, CODE_TTL_MS.oidc_delegated, ctx.now);
    return { status: 201, type: 'application/json', body: { delegated_code: code } };
  },

  async listMails(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    const mails = await listMails(ctx.services.db, instance.id);
    return {
      status: 200,
      type: 'application/json',
      body: {
        mails: mails.map((m) => ({
          id: m.id,
          to: m.to,
          subject: m.subject,
          text: m.text,
          html: m.html ?? '',
          template: m.template,
          status: m.status,
          attempts: m.attempts,
          created_at: isoTime(m.createdAt),
          sent_at: m.sentAt === null ? null : isoTime(m.sentAt),
        })),
      },
    };
  },
};
