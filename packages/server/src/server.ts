// Starting and stopping a Hearth process: the public API, the admin API and the workers.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HearthConfig } from './config/config.js';
import { instanceBaseUrl } from './config/config.js';
import { createInstance } from './domain/instances.js';
import { adminHandlers, publicHandlers } from './handlers/index.js';
import { createAdminApp, createPublicApp } from './http/apps.js';
import type { Logger } from './log.js';
import { countInstances } from './repositories/instances.js';
import { createServices, type Services } from './services.js';

export interface RunningHearth {
  services: Services;
  publicPort: number;
  adminPort: number;
  /** `http://127.0.0.1:<port>` (instances are chosen by the Host header). */
  publicUrl: string;
  adminUrl: string;
  /** Stops accepting connections, finishes in-flight requests and current jobs, closes the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  config: HearthConfig;
  logger: Logger;
  /** Start the mail worker (default true). */
  workers?: boolean;
  /** Create the demo instance on an empty database (default: when the config names one). */
  demo?: boolean;
  /** PostgreSQL schema (tests isolate themselves with one). */
  databaseSchema?: string;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  server.listen(port, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export async function startHearth(opts: StartOptions): Promise<RunningHearth> {
  const { config, logger } = opts;
  const started = Date.now();
  const services = await createServices(config, logger, { databaseSchema: opts.databaseSchema });
  const [publicApp, adminApp] = await Promise.all([createPublicApp(services, publicHandlers), createAdminApp(services, adminHandlers)]);
  // The contract lets a request line carry several 4096-character query parameters (GET
  // /auth/authorize has five): Node's default 16 KiB head limit would answer an undocumented 431.
  const publicServer = createServer({ maxHeaderSize: 64 * 1024 }, publicApp);
  const adminServer = createServer(adminApp);
  for (const s of [publicServer, adminServer]) {
    s.keepAliveTimeout = 65_000;
    s.headersTimeout = 66_000;
    s.requestTimeout = 120_000;
  }
  const publicPort = await listen(publicServer, config.port, config.host);
  const adminPort = await listen(adminServer, config.admin.port, config.admin.host);
  if (opts.workers !== false) services.startWorkers();
  logger.info(
    { public: `${config.host}:${publicPort}`, admin: `${config.admin.host}:${adminPort}`, database: services.database.dialect, startupMs: Date.now() - started },
    'hearth is listening',
  );

  if (opts.demo ?? Boolean(config.demoInstance)) await ensureDemoInstance(services, config, logger, publicPort, adminPort);

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('hearth is stopping: finishing in-flight requests and jobs');
      const closed = Promise.all([publicServer, adminServer].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      for (const s of [publicServer, adminServer]) s.closeIdleConnections();
      const forced = setTimeout(() => {
        for (const s of [publicServer, adminServer]) s.closeAllConnections();
      }, 10_000);
      await closed;
      clearTimeout(forced);
      await services.close();
      logger.info('hearth stopped');
    })();
    return stopping;
  };
  return {
    services,
    publicPort,
    adminPort,
    publicUrl: `http://127.0.0.1:${publicPort}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    stop,
  };
}

async function ensureDemoInstance(services: Services, config: HearthConfig, logger: Logger, publicPort: number, adminPort: number) {
  const domain = config.demoInstance;
  if (!domain || (await countInstances(services.db)) > 0) return;
  const instance = await createInstance(services, { domain, email: `alice@${domain.replace(/:\d+$/, '')}`, public_name: 'Alice' });
  const onboarding = `${instanceBaseUrl(config, instance.domain)}/auth/passphrase?registerToken=${instance.registerToken}`;
  logger.info({ instance: instance.domain, onboarding }, 'created the demo instance');
  process.stdout.write(
    [
      '',
      `  Demo instance ${instance.domain} created (not onboarded yet).`,
      `  Onboarding:  ${onboarding}`,
      `  Public API:  curl -H 'Host: ${instance.domain}' http://localhost:${publicPort}/settings/capabilities`,
      `  Admin API:   http://${config.admin.host}:${adminPort}/ (HTTP Basic auth, password: ${config.admin.passphraseIsDevDefault ? 'hearth-admin, the development default' : 'HEARTH_ADMIN_PASSPHRASE'})`,
      '',
      '',
    ].join('\n'),
  );
}
