// The clean-up of OAuth clients still pending one hour after their registration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOAuthClientRegistration } from '@hearth/client';
import { PENDING_CLIENT_MAX_AGE_MS, sweepPendingOAuthClients } from '../../../src/domain/oauth-cleanup.js';
import { updateOAuthClient } from '../../../src/repositories/oauth-clients.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { register } from './helpers.js';

describe.each(testEngines)('pending OAuth clients clean-up (%s)', (engine) => {
  let server: TestServer;
  let domain: string;
  beforeAll(async () => {
    server = await startTestServer({ engine });
    domain = (await server.createInstance('alice')).domain;
  });
  afterAll(() => server.stop());

  const status = async (c: { client_id: string; registration_access_token: string }) =>
    (await getOAuthClientRegistration({ client: server.client(domain, { token: c.registration_access_token }), path: { clientId: c.client_id } })).response.status;

  it('deletes the clients still pending after one hour, and only those', async () => {
    const registeredAt = Date.now();
    const pending = await register(server, domain, { client_name: 'Pending' });
    const used = await register(server, domain, { client_name: 'Used' });
    await updateOAuthClient(server.hearth.services.db, (await server.instance(domain)).id, used.client_id, { pending: false });

    // 59 minutes later: nothing yet.
    expect(await sweepPendingOAuthClients(server.hearth.services.db, registeredAt + PENDING_CLIENT_MAX_AGE_MS - 60_000)).toEqual([]);
    expect(await status(pending)).toBe(200);

    // Past the hour: the pending one goes, the used one stays.
    const deleted = await sweepPendingOAuthClients(server.hearth.services.db, Date.now() + PENDING_CLIENT_MAX_AGE_MS + 1);
    expect(deleted).toEqual([pending.client_id]);
    expect(await status(pending)).toBe(404);
    expect(await status(used)).toBe(200);
  });
});
