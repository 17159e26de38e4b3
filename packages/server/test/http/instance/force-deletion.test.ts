// POST /settings/instance/deletion/force against the machine's RabbitMQ (amqp://127.0.0.1:5672).
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forceInstanceDeletion } from '@hearth/client';
import type { Instance } from '../../../src/repositories/instances.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { appToken, cliToken, closedPort, oauthToken } from './fixtures.js';

const AMQP_URL = process.env.HEARTH_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

interface DeletionMessage {
  workplaceFqdn: string;
  reason: string;
  requestedBy: string;
  requestedAt: number;
}

describe.each(testEngines)('forced deletion through RabbitMQ (%s)', (engine) => {
  let server: TestServer;
  let consumer: ChannelModel;
  let channel: Channel;
  const received: { body: DeletionMessage; msg: ConsumeMessage }[] = [];

  beforeAll(async () => {
    consumer = await amqp.connect(AMQP_URL);
    channel = await consumer.createChannel();
    await channel.assertExchange('auth', 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, 'auth', 'user.deletion.requested');
    await channel.consume(
      queue,
      (msg) => {
        if (msg) received.push({ body: JSON.parse(msg.content.toString('utf8')) as DeletionMessage, msg });
      },
      { noAck: true },
    );
    server = await startTestServer({ engine, env: { HEARTH_AMQP_URL: AMQP_URL } });
  });
  afterAll(async () => {
    await server.stop();
    await consumer.close();
  });

  const messagesFor = (inst: Instance) => received.filter((m) => m.body.workplaceFqdn === inst.domain);

  it('publishes the deletion request for the settings app', async () => {
    const inst = await server.createInstance('leaving');
    const token = await appToken(server, inst, 'settings');
    const before = Date.now();
    const res = await forceInstanceDeletion({ client: server.client(inst.domain, { token }) });
    const after = Date.now();
    expect(res.response.status).toBe(204);
    await expect.poll(() => messagesFor(inst).length, { timeout: 5000 }).toBe(1);
    const { body, msg } = messagesFor(inst)[0]!;
    expect(body).toEqual({ workplaceFqdn: inst.domain, reason: 'user_request', requestedBy: 'cozy-stack', requestedAt: expect.any(Number) });
    expect(Number.isInteger(body.requestedAt)).toBe(true);
    expect(body.requestedAt).toBeGreaterThanOrEqual(before);
    expect(body.requestedAt).toBeLessThanOrEqual(after);
    expect(msg.fields.exchange).toBe('auth');
    expect(msg.fields.routingKey).toBe('user.deletion.requested');
    expect(msg.properties.contentType).toBe('application/json');
    expect(msg.properties.deliveryMode).toBe(2);
    // the connection is reused for the next request
    const again = await forceInstanceDeletion({ client: server.client(inst.domain, { token }) });
    expect(again.response.status).toBe(204);
    await expect.poll(() => messagesFor(inst).length, { timeout: 5000 }).toBe(2);
  });

  it('answers 403 to other tokens, 401 without one, 400 for a bad one, 404 for an unknown host', async () => {
    const inst = await server.createInstance('staying');
    for (const token of [await appToken(server, inst, 'drive', { s: { type: 'io.cozy.settings' } }), await cliToken(server, inst, '*'), await oauthToken(server, inst, 'io.cozy.settings')]) {
      const res = await forceInstanceDeletion({ client: server.client(inst.domain, { token }) });
      expect(res.response.status).toBe(403);
      expect(res.error).toEqual({ error: 'Forbidden' });
    }
    expect((await forceInstanceDeletion({ client: server.client(inst.domain) })).response.status).toBe(401);
    const bad = await forceInstanceDeletion({ client: server.client(inst.domain, { token: 'x.y.z' }) });
    expect(bad.response.status).toBe(400);
    expect(bad.error).toEqual({ error: 'Invalid JWT token' });
    const token = await appToken(server, inst, 'settings');
    expect((await forceInstanceDeletion({ client: server.client(`nobody.test:${server.port}`, { token }) })).response.status).toBe(404);
    // a message published by mistake would have arrived with the one of the first test
    await new Promise((r) => setImmediate(r));
    expect(messagesFor(inst)).toHaveLength(0);
  });
});

describe.each(testEngines)('forced deletion without a broker (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine });
  });
  afterAll(() => server.stop());

  it('answers 503 when no broker is configured', async () => {
    const inst = await server.createInstance('nobroker');
    const res = await forceInstanceDeletion({ client: server.client(inst.domain, { token: await appToken(server, inst, 'settings') }) });
    expect(res.response.status).toBe(503);
    expect(res.error).toEqual({ errors: [{ status: '503', title: 'Service Unavailable', detail: 'no message broker is configured', source: {} }] });
  });
});

describe.each(testEngines)('forced deletion with an unreachable broker (%s)', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine, env: { HEARTH_AMQP_URL: `amqp://guest:guest@127.0.0.1:${await closedPort()}` } });
  });
  afterAll(() => server.stop());

  it('answers 503 when the broker cannot be reached', async () => {
    const inst = await server.createInstance('deadbroker');
    const res = await forceInstanceDeletion({ client: server.client(inst.domain, { token: await appToken(server, inst, 'settings') }) });
    expect(res.response.status).toBe(503);
    expect(res.error).toEqual({ errors: [{ status: '503', title: 'Service Unavailable', detail: 'the deletion request could not be published', source: {} }] });
  });
});
