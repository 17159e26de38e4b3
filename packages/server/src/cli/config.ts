// Loading the configuration for the CLI, and `hearth config check`.
import { stringify } from 'yaml';
import { ConfigError, describeConfig, loadConfig, type HearthConfig } from '../config/config.js';
import { parseCommand, str } from './args.js';
import { CliError, EXIT, print, printJson, warn } from './output.js';

/**
 * The configuration from the environment (and `--config <file>`, else HEARTH_CONFIG). Relative
 * paths resolve from the directory the command was started in (INIT_CWD under `pnpm hearth`).
 */
export function loadCliConfig(values: Record<string, unknown>): HearthConfig {
  const file = typeof values.config === 'string' ? values.config : undefined;
  try {
    return loadConfig({ env: process.env, file, cwd: process.env.INIT_CWD || process.cwd() });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

export const CONFIG_USAGE = `Usage: hearth config check [--json] [--config <file>]

Loads the configuration (HEARTH_* environment variables and the YAML file of HEARTH_CONFIG or
--config), checks it, and prints the effective configuration with its secrets redacted: YAML by
default, JSON with --json. Exits with 1 and lists every problem when it is invalid.`;

export async function configCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) {
    warn(CONFIG_USAGE);
    return EXIT.usage;
  }
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    print(CONFIG_USAGE);
    return EXIT.ok;
  }
  if (sub !== 'check') throw new CliError(`unknown config command "${sub}"`, EXIT.usage, CONFIG_USAGE);
  const parsed = parseCommand(rest, {}, CONFIG_USAGE);
  if (parsed.values.help) {
    print(CONFIG_USAGE);
    return EXIT.ok;
  }
  if (parsed.positionals.length) throw new CliError(`unexpected argument "${parsed.positionals[0]}"`, EXIT.usage, CONFIG_USAGE);
  const json = parsed.values.json === true;
  let config: HearthConfig;
  try {
    config = loadConfig({ env: process.env, file: str(parsed.values, 'config'), cwd: process.env.INIT_CWD || process.cwd() });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (json) printJson({ valid: false, issues: err.issues });
    else warn(err.message);
    return EXIT.usage;
  }
  const described = describeConfig(config);
  if (json) printJson({ valid: true, config: described });
  else {
    print(stringify(described).trimEnd());
    for (const w of config.warnings) warn(`warning: ${w}`);
    warn('The configuration is valid.');
  }
  return EXIT.ok;
}
