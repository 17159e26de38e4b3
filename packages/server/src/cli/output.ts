// Output and errors of the `hearth` CLI: human-readable tables and aligned `key: value` lines by
// default, JSON with --json; errors go to stderr with a distinct exit code.

/** Exit codes: 1 usage or validation (also any refusal of the server), 2 server unreachable, 3 not found. */
export const EXIT = { ok: 0, usage: 1, unreachable: 2, notFound: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
    /** Printed after the message (usage text, hints). */
    readonly details?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

export function warn(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A value as one line of text: `-` for null/absent, JSON for objects and arrays. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.length ? value.join(', ') : '-';
  if (typeof value === 'object' && Object.keys(value).length === 0) return '-';
  return JSON.stringify(value);
}

/** Aligned `key: value` lines. */
export function keyValues(entries: [string, unknown][]): string {
  const width = Math.max(0, ...entries.map(([k]) => k.length)) + 1;
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width)} ${formatValue(v)}`).join('\n');
}

/** A table with a header row; columns are padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
