// A real Hearth server on ephemeral loopback ports, with a fresh database, for HTTP tests through
// the generated client. Every response is validated against the contract by the server itself
// (strict mode): a violation comes back as a 500 that fails the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createClient, createConfig } from '@hearth/client';
type Client = ReturnType<typeof createClient>;
import { createClient as createAdminClient, createConfig as createAdminConfig } from '@hearth/client/admin';
import { loadConfig, type HearthConfig } from '../../src/config/config.js';
import { createInstance, type CreateInstanceInput } from '../../src/domain/instances.js';
import { openSession, SessionDuration } from '../../src/domain/sessions.js';
import { createLogger } from '../../src/log.js';
import { getInstanceByDomain, type Instance } from '../../src/repositories/instances.js';
import { listMails } from '../../src/mail/outbox.js';
import { signJwt, sessionSecretKey, type Audience } from '../../src/security/index.js';
import { startHearth, type RunningHearth } from '../../src/server.js';
import { loopbackFetch } from './http.js';
import { flushCoverage } from '../../src/http/coverage.js';
import { testDatabaseUrl, testEngines, type TestEngine } from './database.js';

export { testEngines, type TestEngine };

export const ADMIN_PASSPHRASE = 'test-admin-passphrase';

export interface TestServerOptions {
  engine?: TestEngine;
  /** Extra HEARTH_* variables. */
  env?: Record<string, string>;
  /** YAML configuration file contents. */
  configYaml?: string;
}

export interface TestServer {
  engine: TestEngine;
  hearth: RunningHearth;
  config: HearthConfig;
  port: number;
  adminPort: number;
  /** Log lines the server wrote (JSON objects), for assertions on logging. */
  logs: Record<string, unknown>[];
  /** Creates an instance `<name>.test:<port>` (the Host that reaches this server). */
  createInstance(name: string, input?: Omit<CreateInstanceInput, 'domain'>): Promise<Instance>;
  instance(domain: string): Promise<Instance>;
  /** A generated public client for an instance; `token` fills the bearer scheme, `cookie` the Cookie header. */
  client(domain: string, opts?: { token?: string; cookie?: string; headers?: Record<string, string> }): Client;
  adminClient(opts?: { password?: string }): Client;
  /** A JWT of the instance for an audience. */
  token(instance: Instance, aud: Audience, claims?: { sub?: string; scope?: string; session_id?: string }, now?: number): Promise<string>;
  mails(instance: Instance): Promise<Awaited<ReturnType<typeof listMails>>>;
  /** Opens a browser session on the instance and answers its `Cookie` pair (`cozysessid=…`) and id. */
  login(instance: Instance, duration?: SessionDuration): Promise<{ cookie: string; sessionId: string }>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const engine = opts.engine ?? 'sqlite';
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-test-'));
  let configFile: string | undefined;
  if (opts.configYaml) {
    const { writeFileSync } = await import('node:fs');
    configFile = join(dataDir, 'hearth.yaml');
    writeFileSync(configFile, opts.configYaml);
  }
  const env: Record<string, string> = {
    HEARTH_ENV: 'test',
    HEARTH_HOST: '127.0.0.1',
    HEARTH_PORT: '0',
    HEARTH_ADMIN_PORT: '0',
    HEARTH_ADMIN_PASSPHRASE: ADMIN_PASSPHRASE,
    HEARTH_DATA_DIR: dataDir,
    HEARTH_DEMO_INSTANCE: '',
    HEARTH_LOG_LEVEL: 'info',
    ...(engine === 'postgres' && testDatabaseUrl ? { HEARTH_DATABASE_URL: testDatabaseUrl } : {}),
    ...(configFile ? { HEARTH_CONFIG: configFile } : {}),
    ...opts.env,
  };
  const config = loadConfig({ env });
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger(config, { destination });
  const schema = engine === 'postgres' ? `t_${process.pid}_${Date.now().toString(36)}_${counter++}` : undefined;
  const hearth = await startHearth({ config, logger, demo: false, databaseSchema: schema });
  const port = hearth.publicPort;

  const server: TestServer = {
    engine,
    hearth,
    config,
    port,
    adminPort: hearth.adminPort,
    logs,
    async createInstance(name, input = {}) {
      return createInstance(hearth.services, { email: `${name}@example.net`, public_name: name, ...input, domain: `${name}.test:${port}` });
    },
    async instance(domain) {
      const found = await getInstanceByDomain(hearth.services.db, domain);
      if (!found) throw new Error(`no instance ${domain}`);
      return found.instance;
    },
    client(domain, o = {}) {
      const headers: Record<string, string> = { Accept: 'application/json', ...o.headers };
      if (o.cookie) headers.Cookie = o.cookie;
      return createClient(
        createConfig({ baseUrl: `http://${domain}`, fetch: loopbackFetch as typeof fetch, headers, auth: o.token ? () => o.token : undefined }),
      );
    },
    adminClient(o = {}) {
      const password = o.password ?? ADMIN_PASSPHRASE;
      return createAdminClient(
        createAdminConfig({
          baseUrl: `http://127.0.0.1:${hearth.adminPort}`,
          fetch: loopbackFetch as typeof fetch,
          headers: { Authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
        }),
      ) as unknown as Client;
    },
    async token(instance, aud, claims = {}, now) {
      const key =
        aud === 'app' || aud === 'konn'
          ? sessionSecretKey(instance.sessionSecret)
          : Buffer.from(aud === 'cli' ? instance.cliSecret : instance.oauthSecret, 'base64');
      return signJwt(key, { aud, iss: instance.domain, ...claims }, now);
    },
    mails: (instance) => listMails(hearth.services.db, instance.id),
    async login(instance, duration = SessionDuration.NormalRun) {
      const fresh = await server.instance(instance.domain);
      const opened = await openSession(hearth.services.db, config, fresh, { duration, method: 'password' });
      return { cookie: opened.cookiePair, sessionId: opened.session.id };
    },
    async stop() {
      await hearth.stop();
      if (process.env.HEARTH_CONTRACT_COVERAGE_DIR) flushCoverage(process.env.HEARTH_CONTRACT_COVERAGE_DIR);
      if (schema && testDatabaseUrl) {
        const pg = await import('pg');
        const c = new pg.default.Client({ connectionString: testDatabaseUrl });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}
