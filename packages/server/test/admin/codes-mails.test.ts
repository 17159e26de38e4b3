// Admin API: magic link, session, email-verified and delegated OIDC codes; the mails of an instance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkSessionCode,
  createEmailVerifiedCode,
  createMagicLinkCode,
  createOidcDelegatedCode,
  createSessionCodeAdmin,
  listInstances,
  listMails,
} from '@hearth/client/admin';
import { CODE_TTL_MS, contextScope, getCode } from '../../src/repositories/codes.js';
import type { Instance } from '../../src/repositories/instances.js';
import { startTestServer, testEngines, type TestServer } from '../helpers/server.js';

type AdminClient = Parameters<typeof listInstances>[0] extends infer O ? NonNullable<O> extends { client?: infer C } ? NonNullable<C> : never : never;

const CODE = /^[A-Za-z0-9]{32}$/;

describe.each(testEngines)('admin API: codes and mails (%s)', (engine) => {
  let server: TestServer;
  let admin: AdminClient;
  let wrong: AdminClient;
  let alice: Instance;
  let bob: Instance;
  const unknown = () => `nobody.test:${server.port}`;

  beforeAll(async () => {
    server = await startTestServer({ engine });
    admin = server.adminClient() as unknown as AdminClient;
    wrong = server.adminClient({ password: 'nope' }) as unknown as AdminClient;
    alice = await server.createInstance('alice');
    bob = await server.createInstance('bob', { auth_mode: 'two_factor_mail' });
  });
  afterAll(() => server.stop());

  describe('POST /instances/{domain}/magic_link', () => {
    it('creates a 15-minute code and sends no mail (201)', async () => {
      const before = Date.now();
      const res = await createMagicLinkCode({ client: admin, path: { domain: alice.domain } });
      expect(res.response.status).toBe(201);
      expect(res.data?.code).toMatch(CODE);
      const stored = await getCode(server.hearth.services.db, alice.id, 'magic_link', res.data!.code);
      expect(stored?.expiresAt).toBeGreaterThanOrEqual(before + CODE_TTL_MS.magic_link);
      expect(stored!.expiresAt!).toBeLessThanOrEqual(Date.now() + CODE_TTL_MS.magic_link);
      expect(await getCode(server.hearth.services.db, bob.id, 'magic_link', res.data!.code)).toBeNull();
      expect(await server.mails(alice)).toEqual([]);
    });

    it('answers 404 for an unknown instance and 401 without the passphrase', async () => {
      const missing = await createMagicLinkCode({ client: admin, path: { domain: unknown() } });
      expect(missing.response.status).toBe(404);
      expect(missing.error).toEqual({ error: 'instance not found' });
      const denied = await createMagicLinkCode({ client: wrong, path: { domain: alice.domain } });
      expect(denied.response.status).toBe(401);
      expect(denied.error).toEqual({ error: 'invalid admin credentials' });
    });
  });

  describe('session codes', () => {
    it('creates a 7-day code (201) that the check consumes (200, then 403)', async () => {
      const before = Date.now();
      const res = await createSessionCodeAdmin({ client: admin, path: { domain: alice.domain } });
      expect(res.response.status).toBe(201);
      const code = res.data!.session_code;
      expect(code).toMatch(CODE);
      const stored = await getCode(server.hearth.services.db, alice.id, 'session_code', code);
      expect(stored?.expiresAt).toBeGreaterThanOrEqual(before + CODE_TTL_MS.session_code);
      const first = await checkSessionCode({ client: admin, path: { domain: alice.domain }, body: { session_code: code } });
      expect(first.response.status).toBe(200);
      expect(first.data).toEqual({ valid: true });
      expect(await getCode(server.hearth.services.db, alice.id, 'session_code', code)).toBeNull();
      const second = await checkSessionCode({ client: admin, path: { domain: alice.domain }, body: { session_code: code } });
      expect(second.response.status).toBe(403);
      expect(second.error).toEqual({ error: 'invalid session_code' });
    });

    it('refuses the code of another instance (403) without consuming it', async () => {
      const res = await createSessionCodeAdmin({ client: admin, path: { domain: bob.domain } });
      const code = res.data!.session_code;
      const cross = await checkSessionCode({ client: admin, path: { domain: alice.domain }, body: { session_code: code } });
      expect(cross.response.status).toBe(403);
      const own = await checkSessionCode({ client: admin, path: { domain: bob.domain }, body: { session_code: code } });
      expect(own.response.status).toBe(200);
    });

    it('answers 400 without session_code', async () => {
      for (const [body, expected] of [
        [{}, { error: 'session_code is required', field: 'session_code' }],
        [{ session_code: '' }, { error: 'session_code must not be empty', field: 'session_code' }],
        [{ session_code: 'x', other: 1 }, { error: 'unknown field', field: 'other' }],
      ] as const) {
        const res = await checkSessionCode({ client: admin, path: { domain: alice.domain }, body: body as never });
        expect(res.response.status).toBe(400);
        expect(res.error).toEqual(expected);
      }
    });

    it('answers 404 for an unknown instance and 401 without the passphrase', async () => {
      expect((await createSessionCodeAdmin({ client: admin, path: { domain: unknown() } })).response.status).toBe(404);
      expect((await checkSessionCode({ client: admin, path: { domain: unknown() }, body: { session_code: 'x' } })).error).toEqual({ error: 'instance not found' });
      const code = (await createSessionCodeAdmin({ client: admin, path: { domain: alice.domain } })).data!.session_code;
      expect((await createSessionCodeAdmin({ client: wrong, path: { domain: alice.domain } })).response.status).toBe(401);
      expect((await checkSessionCode({ client: wrong, path: { domain: alice.domain }, body: { session_code: code } })).response.status).toBe(401);
      // The refused check did not consume it.
      expect(await getCode(server.hearth.services.db, alice.id, 'session_code', code)).not.toBeNull();
    });

    it('answers 404 for a domain holding a NUL character (no database error)', async () => {
      const res = await createSessionCodeAdmin({ client: admin, path: { domain: `alice\u0000.test:${server.port}` } });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'instance not found' });
    });
  });

  describe('POST /instances/{domain}/email_verified_code', () => {
    it('creates a 15-minute code on an instance with two-factor by mail (201)', async () => {
      const res = await createEmailVerifiedCode({ client: admin, path: { domain: bob.domain } });
      expect(res.response.status).toBe(201);
      expect(res.data?.email_verified_code).toMatch(CODE);
      const stored = await getCode(server.hearth.services.db, bob.id, 'email_verified', res.data!.email_verified_code);
      expect(stored?.expiresAt).toBeLessThanOrEqual(Date.now() + CODE_TTL_MS.email_verified);
      expect(stored?.expiresAt).toBeGreaterThan(Date.now() + CODE_TTL_MS.email_verified - 60_000);
    });

    it('answers 400 when two-factor by mail is off', async () => {
      const res = await createEmailVerifiedCode({ client: admin, path: { domain: alice.domain } });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual({ error: 'two-factor authentication by mail is not enabled on this instance' });
    });

    it('answers 404 for an unknown instance and 401 without the passphrase', async () => {
      expect((await createEmailVerifiedCode({ client: admin, path: { domain: unknown() } })).response.status).toBe(404);
      expect((await createEmailVerifiedCode({ client: wrong, path: { domain: bob.domain } })).response.status).toBe(401);
    });
  });

  describe('POST /oidc/{context}/code', () => {
    it('stores a 3-hour code for the context with sub and sid (201)', async () => {
      const res = await createOidcDelegatedCode({ client: admin, path: { context: 'oidc_ctx' }, body: { sub: 'user-1', sid: 'sess-1' } });
      expect(res.response.status).toBe(201);
      const code = res.data!.delegated_code;
      expect(code).toMatch(CODE);
      const stored = await getCode(server.hearth.services.db, contextScope('oidc_ctx'), 'oidc_delegated', code);
      expect(stored?.data).toEqual({ sub: 'user-1', sid: 'sess-1' });
      expect(stored?.expiresAt).toBeLessThanOrEqual(Date.now() + CODE_TTL_MS.oidc_delegated);
      expect(stored?.expiresAt).toBeGreaterThan(Date.now() + CODE_TTL_MS.oidc_delegated - 60_000);
      const fc = await createOidcDelegatedCode({ client: admin, path: { context: 'default' }, body: { sub: 'fc-sub' } });
      expect((await getCode(server.hearth.services.db, contextScope('default'), 'oidc_delegated', fc.data!.delegated_code))?.data).toEqual({ sub: 'fc-sub' });
    });

    it.each([
      [{}, { error: 'sub is required', field: 'sub' }],
      [{ sub: '' }, { error: 'sub must not be empty', field: 'sub' }],
      [{ sub: 'x', nonce: 'n' }, { error: 'unknown field', field: 'nonce' }],
    ])('answers 400 for %j', async (body, expected) => {
      const res = await createOidcDelegatedCode({ client: admin, path: { context: 'oidc_ctx' }, body: body as never });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual(expected);
    });

    it('answers 400 for an invalid context name', async () => {
      const res = await createOidcDelegatedCode({ client: admin, path: { context: 'bad context!' }, body: { sub: 'x' } });
      expect(res.response.status).toBe(400);
      expect(res.error?.error).toMatch(/^invalid context/);
    });

    it('answers 401 without the passphrase', async () => {
      const res = await createOidcDelegatedCode({ client: wrong, path: { context: 'oidc_ctx' }, body: { sub: 'x' } });
      expect(res.response.status).toBe(401);
    });
  });

  describe('GET /instances/{domain}/mails', () => {
    it('lists the mails, oldest first (200)', async () => {
      const carol = await server.createInstance('carol');
      const empty = await listMails({ client: admin, path: { domain: carol.domain } });
      expect(empty.response.status).toBe(200);
      expect(empty.data).toEqual({ mails: [] });
      const services = server.hearth.services;
      await services.sendMail({ instance: carol, template: 'two_factor', values: { TwoFactorPasscode: '482913' } });
      await services.sendMail({ instance: carol, template: 'two_factor', values: { TwoFactorPasscode: '123456' } });
      await services.sendMail({ instance: alice, template: 'two_factor', values: { TwoFactorPasscode: '000000' } });
      const res = await listMails({ client: admin, path: { domain: carol.domain } });
      expect(res.response.status).toBe(200);
      const mails = res.data!.mails;
      expect(mails).toHaveLength(2);
      expect(mails[0]).toMatchObject({ to: 'carol@example.net', template: 'two_factor' });
      expect(mails[0]!.text).toContain('482913');
      expect(mails[1]!.text).toContain('123456');
      expect(mails[0]!.id).toMatch(/^[0-9a-f]{32}$/);
      expect(['queued', 'sending', 'recorded', 'sent', 'failed']).toContain(mails[0]!.status);
      expect(Date.parse(mails[0]!.created_at)).toBeLessThanOrEqual(Date.parse(mails[1]!.created_at));
    });

    it('answers 404 for an unknown instance and 401 without the passphrase', async () => {
      const missing = await listMails({ client: admin, path: { domain: unknown() } });
      expect(missing.response.status).toBe(404);
      expect(missing.error).toEqual({ error: 'instance not found' });
      expect((await listMails({ client: wrong, path: { domain: alice.domain } })).response.status).toBe(401);
    });
  });
});
