// `hearth serve` and `hearth migrate`.
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createLogger } from '../log.js';
import { startHearth } from '../server.js';
import { parseCommand } from './args.js';
import { loadCliConfig } from './config.js';
import { CliError, EXIT, print, printJson } from './output.js';

export const SERVE_USAGE = `Usage: hearth serve [--config <file>]

Runs the server: the public API on HEARTH_HOST:HEARTH_PORT (default 0.0.0.0:8080) and the admin
API on HEARTH_ADMIN_HOST:HEARTH_ADMIN_PORT (default 127.0.0.1:6060), with the mail worker. The
database is migrated at start. SIGTERM or SIGINT stops it gracefully (in-flight requests and jobs
finish); a second signal exits at once.`;

export const MIGRATE_USAGE = `Usage: hearth migrate [--json] [--config <file>]

Opens the database of the configuration (HEARTH_DATABASE_URL, else SQLite in HEARTH_DATA_DIR) and
applies the pending migrations; prints the ones applied.`;

export async function serveCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, {}, SERVE_USAGE);
  if (parsed.values.help) {
    print(SERVE_USAGE);
    return EXIT.ok;
  }
  if (parsed.positionals.length) throw new CliError(`unexpected argument "${parsed.positionals[0]}"`, EXIT.usage, SERVE_USAGE);
  const config = loadCliConfig(parsed.values);
  const logger = createLogger(config);
  for (const w of config.warnings) logger.warn(w);
  let running: Awaited<ReturnType<typeof startHearth>>;
  try {
    running = await startHearth({ config, logger });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    if (e.code === 'EADDRINUSE') throw new CliError(`cannot listen on ${e.address ?? ''}:${e.port ?? ''}: the address is already in use`);
    throw err;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(EXIT.usage);
      }
      stopping = true;
      logger.info({ signal }, 'signal received: stopping gracefully');
      running.stop().then(
        () => resolve(EXIT.ok),
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          resolve(EXIT.usage);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export async function migrateCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, {}, MIGRATE_USAGE);
  if (parsed.values.help) {
    print(MIGRATE_USAGE);
    return EXIT.ok;
  }
  if (parsed.positionals.length) throw new CliError(`unexpected argument "${parsed.positionals[0]}"`, EXIT.usage, MIGRATE_USAGE);
  const config = loadCliConfig(parsed.values);
  const database = await openDatabase({
    url: config.database.kind === 'postgres' ? config.database.url : undefined,
    dataDir: config.dataDir,
  });
  try {
    const { applied } = await migrateToLatest(database);
    if (parsed.values.json) printJson({ database: database.dialect, applied });
    else if (applied.length === 0) print(`The ${database.dialect} database is up to date: no migration to apply.`);
    else print([`Applied ${applied.length} migration${applied.length === 1 ? '' : 's'} to the ${database.dialect} database:`, ...applied.map((m) => `  ${m}`)].join('\n'));
    return EXIT.ok;
  } finally {
    await database.close();
  }
}
