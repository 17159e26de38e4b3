// The message broker (RabbitMQ, `HEARTH_AMQP_URL`): one connection per process and URL, opened on
// first use and closed with the services. Messages are published on a confirm channel, so that a
// refused message is an error.
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { HearthConfig } from '../config/config.js';

const CONNECT_TIMEOUT_MS = 5_000;

interface Link {
  connection: ChannelModel;
  channel: ConfirmChannel;
  /** Exchanges already declared on this channel. */
  exchanges: Set<string>;
}

const links = new Map<string, Promise<Link>>();

/** Raised when there is no broker or the message could not be published. */
export class BrokerError extends Error {
  constructor(
    message: string,
    readonly notConfigured = false,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}

function open(url: string): Promise<Link> {
  let pending = links.get(url);
  if (pending) return pending;
  pending = (async () => {
    const connection = await amqp.connect(url, { timeout: CONNECT_TIMEOUT_MS });
    const forget = () => {
      if (links.get(url) === pending) links.delete(url);
    };
    connection.on('error', forget);
    connection.on('close', forget);
    const channel = await connection.createConfirmChannel();
    channel.on('error', forget);
    channel.on('close', () => {
      forget();
      connection.close().catch(() => undefined);
    });
    return { connection, channel, exchanges: new Set<string>() };
  })();
  links.set(url, pending);
  pending.catch(() => {
    if (links.get(url) === pending) links.delete(url);
  });
  return pending;
}

/** Publishes a persistent JSON message on a durable topic exchange, waiting for the broker's confirmation. */
export async function publishJson(config: HearthConfig, exchange: string, routingKey: string, message: unknown): Promise<void> {
  const url = config.amqpUrl;
  if (!url) throw new BrokerError('no message broker is configured', true);
  try {
    const link = await open(url);
    if (!link.exchanges.has(exchange)) {
      await link.channel.assertExchange(exchange, 'topic', { durable: true });
      link.exchanges.add(exchange);
    }
    await new Promise<void>((resolve, reject) => {
      link.channel.publish(
        exchange,
        routingKey,
        Buffer.from(JSON.stringify(message)),
        { contentType: 'application/json', deliveryMode: 2 },
        (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
      );
    });
  } catch (err) {
    if (err instanceof BrokerError) throw err;
    throw new BrokerError(`the message could not be published (${(err as Error).message ?? 'broker error'})`);
  }
}

/** Closes every broker connection of the process (the services call it when they close). */
export async function closeAmqp(): Promise<void> {
  const all = [...links.values()];
  links.clear();
  await Promise.all(
    all.map(async (p) => {
      try {
        const link = await p;
        await link.connection.close();
      } catch {
        // already closed or never opened
      }
    }),
  );
}
