// Argument parsing for the CLI commands, on node:util parseArgs. Boolean options also accept
// `--no-<name>` and `--<name>=true|false`.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, EXIT } from './output.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  config: { type: 'string' },
} as const satisfies OptionSpec;

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` against `options` (plus the common ones). `negatable` booleans get a `no-<name>`
 * twin; `--<name>=false` is rewritten to it. A parse error is a usage error carrying `usage`.
 */
export function parseCommand(argv: string[], options: OptionSpec, usage: string, negatable: string[] = []): Parsed {
  const all: OptionSpec = { ...COMMON_OPTIONS, ...options };
  for (const name of negatable) all[`no-${name}`] = { type: 'boolean' };
  const booleans = new Set(Object.entries(all).filter(([, o]) => o.type === 'boolean').map(([k]) => k));
  const args = argv.map((a) => {
    const m = /^--([a-z-]+)=(true|false|yes|no)$/.exec(a);
    if (!m || !booleans.has(m[1]!)) return a;
    const on = m[2] === 'true' || m[2] === 'yes';
    return on ? `--${m[1]}` : `--no-${m[1]}`;
  });
  try {
    const { values, positionals } = parseArgs({ args, options: all, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    throw new CliError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''), EXIT.usage, usage);
  }
}

/** The value of a negatable boolean: true, false (`--no-<name>`), or undefined when absent. */
export function tristate(values: Parsed['values'], name: string): boolean | undefined {
  if (values[`no-${name}`] === true) return false;
  if (values[name] === true) return true;
  return undefined;
}

export function str(values: Parsed['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function list(values: Parsed['values'], name: string): string[] | undefined {
  const v = values[name];
  return Array.isArray(v) ? v.map(String) : undefined;
}

/** An integer option (`--kdf-iterations 100000`). */
export function int(values: Parsed['values'], name: string): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw new CliError(`--${name} must be a non-negative integer, not "${v}"`);
  return Number(v.trim());
}

/** Requires exactly the named positionals (extra ones are refused unless `rest`). */
export function positionals(parsed: Parsed, names: string[], usage: string, rest = false): string[] {
  const got = parsed.positionals;
  if (got.length < names.length) throw new CliError(`missing ${names.slice(got.length).map((n) => `<${n}>`).join(' ')}`, EXIT.usage, usage);
  if (!rest && got.length > names.length) throw new CliError(`unexpected argument "${got[names.length]}"`, EXIT.usage, usage);
  return got;
}
