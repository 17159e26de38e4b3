// Small parsers for configuration values. None of them ever puts the value it checks into a
// message: a message says where the value is and what was expected, so a secret typed in the
// wrong place is never echoed to a terminal or a log.

import { isIP } from 'node:net';

/** One problem found while loading the configuration. */
export interface ConfigIssue {
  /** `HEARTH_PORT`, `contexts.default.features`, `flagship.apple_app_ids[1]`… */
  path: string;
  message: string;
}

/** Collects every problem so that one run reports them all. */
export class Issues {
  readonly list: ConfigIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  get size(): number {
    return this.list.length;
  }
}

export type Dict = Record<string, unknown>;

export function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isDict(v)) return 'a map';
  return `a ${typeof v}`;
}

/** `a.b` + `c` → `a.b.c`; keys that are not plain identifiers are quoted: `a["x.y"]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^[A-Za-z0-9_-]+$/.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

// ---------------------------------------------------------------------------------------------
// Scalars

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** Booleans from the environment: 1/0, true/false, yes/no, on/off (any case). */
export function parseBoolString(raw: string): boolean | undefined {
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return undefined;
}

/** A TCP port. 0 is accepted (an ephemeral port, used by the tests). */
export function parsePort(raw: string): number | undefined {
  if (!/^\d{1,5}$/.test(raw.trim())) return undefined;
  const n = Number(raw.trim());
  return n <= 65535 ? n : undefined;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** A bind address: an IPv4/IPv6 literal or a host name. */
export function isBindAddress(raw: string): boolean {
  const v = raw.trim();
  if (v === '') return false;
  if (isIP(v) !== 0) return true;
  if (v.startsWith('[') && v.endsWith(']') && isIP(v.slice(1, -1)) === 6) return true;
  return HOSTNAME.test(v);
}

/** An instance domain with an optional port, as the Host header carries it: `alice.localhost:8080`. */
export function isDomainWithPort(raw: string): boolean {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(raw);
  if (!m) return false;
  if (m[2] !== undefined && Number(m[2]) > 65535) return false;
  return HOSTNAME.test(m[1] ?? '') && !(m[1] ?? '').endsWith('.');
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go-style duration (`15m`, `1h30m`, `90s`, `500ms`) → milliseconds. */
export function parseDuration(raw: string): number | undefined {
  const v = raw.trim();
  if (v === '' || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) return undefined;
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? 'ms'] ?? 1);
  }
  return Math.round(total);
}

/** A body size: `1mb`, `512kb`, `100000` (bytes). Units are binary (1kb = 1024 bytes), as in express. */
export function parseByteSize(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(raw.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
  const n = Math.floor(Number(m[1]) * (mult[(m[2] ?? 'b').toLowerCase()] ?? 1));
  return n > 0 ? n : undefined;
}

/** Parses a URL and checks its scheme (without the colon). */
export function parseUrl(raw: string, schemes: readonly string[]): URL | undefined {
  try {
    const u = new URL(raw.trim());
    if (!schemes.includes(u.protocol.slice(0, -1))) return undefined;
    return u;
  } catch {
    return undefined;
  }
}

/** A URL with its password (and any query parameter that looks secret) masked, for display. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    for (const k of [...u.searchParams.keys()]) {
      if (SECRET_KEY.test(k)) u.searchParams.set(k, '***');
    }
    return u.toString();
  } catch {
    return '<unparsable URL>';
  }
}

/** Key names whose values are secrets, in free-form maps shown by `describeConfig`. */
export const SECRET_KEY = /(secret|token|password|passphrase|private_?key|credentials|api_?key)$/i;

/** `Name <addr@host>` or `addr@host`. */
export function parseMailbox(raw: string): { name: string | null; address: string } | undefined {
  const v = raw.trim();
  const angle = /^(.*?)\s*<([^<>\s]+@[^<>\s]+)>$/.exec(v);
  if (angle) {
    const name = (angle[1] ?? '').trim().replace(/^"(.*)"$/, '$1');
    return { name: name === '' ? null : name, address: angle[2] ?? '' };
  }
  if (/^[^<>\s@]+@[^<>\s@]+$/.test(v)) return { name: null, address: v };
  return undefined;
}
