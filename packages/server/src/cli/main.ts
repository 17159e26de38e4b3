#!/usr/bin/env node
// The `hearth` command: runs the server, migrates its database, checks its configuration, and
// manages instances through the admin API. One module per command group.
import { CliError, EXIT, print, warn } from './output.js';

const USAGE = `Usage: hearth <command> [options]

Commands:
  serve                  run the server (public API, admin API, mail worker)
  migrate                apply the pending database migrations
  config check           check the configuration and print it (secrets redacted)
  instances <command>    manage instances through the admin API:
                           add, ls, show, modify, rm, token-app, token-konnector, token-cli,
                           token-oauth, client-oauth, mails

The configuration comes from HEARTH_* environment variables and the YAML file of HEARTH_CONFIG
(or --config <file>). Run \`hearth <command> --help\` for the options of a command.
Exit codes: 0 success, 1 usage or refused, 2 admin API unreachable, 3 not found.`;

// Loaded on demand: `instances` does not need the server, nor `serve` the admin client.
const commands: Record<string, (argv: string[]) => Promise<number>> = {
  serve: async (argv) => (await import('./server.js')).serveCommand(argv),
  migrate: async (argv) => (await import('./server.js')).migrateCommand(argv),
  config: async (argv) => (await import('./config.js')).configCommand(argv),
  instances: async (argv) => (await import('./instances.js')).instancesCommand(argv),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    warn(USAGE);
    return EXIT.usage;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    print(USAGE);
    return EXIT.ok;
  }
  const run = commands[command];
  if (!run) throw new CliError(`unknown command "${command}"`, EXIT.usage, USAGE);
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      warn(`hearth: ${err.message}`);
      if (err.details) warn(`\n${err.details}`);
      process.exitCode = err.exitCode;
      return;
    }
    warn(`hearth: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = EXIT.usage;
  },
);


