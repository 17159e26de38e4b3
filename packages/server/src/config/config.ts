// Hearth's configuration: process settings from HEARTH_* environment variables, tenant and
// behaviour settings from an optional YAML file (HEARTH_CONFIG) whose keys follow the reference
// implementation's names (`contexts`, `authentication`, `flagship`, `clouderies`, …).
//
// loadConfig() validates everything at once and throws one ConfigError naming every bad key
// (`HEARTH_PORT`, `contexts.default.features[2]`, …) and why. Messages never contain the values
// they reject, so a secret is never echoed.

import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { APPLE_APP_ATTESTATION_ROOT_CA_PEM } from './apple-root-ca.js';
import {
  type ConfigIssue,
  type Dict,
  describeType,
  isBindAddress,
  isDict,
  isDomainWithPort,
  Issues,
  joinPath,
  parseBoolString,
  parseByteSize,
  parseDuration,
  parseMailbox,
  parsePort,
  parseUrl,
  redactUrl,
  SECRET_KEY,
} from './values.js';

export type { ConfigIssue } from './values.js';
export { APPLE_APP_ATTESTATION_ROOT_CA_PEM } from './apple-root-ca.js';

// ---------------------------------------------------------------------------------------------
// Types

export type HearthEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The fixed admin passphrase used in development and test when HEARTH_ADMIN_PASSPHRASE is unset. */
export const DEV_ADMIN_PASSPHRASE = 'hearth-admin';
/** The size limit of an avatar upload (PUT /settings/avatar), separate from HEARTH_BODY_LIMIT. */
export const AVATAR_BODY_LIMIT = 20_000_000;
export const DEFAULT_REGISTRY = 'https://apps-registry.cozycloud.cc/';
export const DEFAULT_CONTEXT = 'default';

export type DatabaseConfig =
  | { kind: 'sqlite'; /** A file path, or `:memory:`. */ path: string }
  | { kind: 'postgres'; url: string };

export interface AdminConfig {
  host: string;
  port: number;
  passphrase: string;
  /** True when the passphrase is the development default `hearth-admin` (never in production). */
  passphraseIsDevDefault: boolean;
}

export interface MailConfig {
  /** `smtp://` or `smtps://` URL; null = no SMTP (mails stay in the outbox). */
  smtpUrl: string | null;
  /** The From header, e.g. `Hearth <noreply@hearth.localhost>`. */
  from: string;
  fromAddress: string;
  fromName: string | null;
}

/** `authentication.<ctx>.oidc` (and `.franceconnect`, same shape). */
export interface OidcConfig {
  clientId?: string;
  clientSecret?: string;
  scope?: string;
  redirectUri?: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  userinfoUrl?: string;
  userinfoInstanceField?: string;
  userinfoInstancePrefix?: string;
  userinfoInstanceSuffix?: string;
  idTokenJwkUrl?: string;
  allowOauthToken: boolean;
  allowCustomInstance: boolean;
  logoutUrl?: string;
  endSessionEndpoint?: string;
}

export interface AuthenticationConfig {
  oidc?: OidcConfig;
  franceconnect?: OidcConfig;
  disablePasswordAuthentication?: boolean;
}

export interface FlagshipConfig {
  apkPackageNames: string[];
  /** Standard base64 SHA-256 digests of the APK signing certificate. */
  apkCertificateDigests: string[];
  /** Base64 AES-256 keys (32 bytes). */
  playIntegrityDecryptionKeys: string[];
  /** Base64 DER SPKI EC public keys. */
  playIntegrityVerificationKeys: string[];
  appleAppIds: string[];
  /** PEM of the App Attest root (the embedded Apple root unless configured). */
  appleAppAttestRootCa: string;
  /** `production` expects the aaguid `appattest\0…`, `development` expects `appattestdevelop`. */
  appleAppAttestEnvironment: 'production' | 'development';
  contexts: Record<string, { skipCertification: boolean }>;
}

export interface ClouderyConfig {
  api: { url: string; token: string };
}

export interface DeprecatedApp {
  /** The `software_id` of the OAuth client. */
  softwareId: string;
  name: string;
  /** Store links by platform (`android`, `iphone`, …). */
  storeUrls: Record<string, string>;
}

export interface FcmConfig {
  url: string;
  /** A Google service-account JSON (from the YAML map, a JSON string or a file path). */
  credentials: Dict | null;
  projectId: string | null;
  /** OAuth token endpoint for the service account; defaults to credentials.token_uri. */
  tokenUrl: string | null;
}

export interface ApnsConfig {
  url: string;
  keyId: string;
  teamId: string;
  /** PEM of the .p8 signing key (read from the path when a path was configured). */
  privateKey: string;
  topic: string;
}

export interface NotificationsConfig {
  fcm: FcmConfig | null;
  apns: ApnsConfig | null;
}

/** One bucket of a percentage rollout: the first bucket whose cumulated ratio covers the instance wins. */
export interface RatioRule {
  ratio: number;
  value: unknown;
}

export interface FeatureFlagsConfig {
  default: Record<string, RatioRule[]>;
  contexts: Record<string, Record<string, RatioRule[]>>;
}

/** Typed view of `contexts.<ctx>`; `raw` is the map exactly as configured. */
export interface ContextConfig {
  /** The context whose configuration applies (the asked one, or `default`). */
  name: string;
  raw: Readonly<Dict>;
  onboardedRedirection: string | null;
  defaultRedirection: string | null;
  helpLink: string | null;
  /** `features`, normalised to a map (a list of names gives `name: true`). */
  features: Record<string, unknown>;
  disablePasswordAuthentication: boolean;
  signupUrl: string | null;
  managerUrl: string | null;
  enablePremiumLinks: boolean;
  logos: Dict | null;
  antivirus: Dict | null;
  supportAddress: string | null;
  noreplyAddress: string | null;
}

export interface HearthConfig {
  env: HearthEnv;
  /** Public API bind address and port. */
  host: string;
  port: number;
  admin: AdminConfig;
  dataDir: string;
  database: DatabaseConfig;
  mail: MailConfig;
  amqpUrl: string | null;
  redisUrl: string | null;
  logLevel: LogLevel;
  secureCookies: boolean;
  /** Scheme of absolute links to instances (mails, redirects). */
  publicScheme: 'http' | 'https';
  /** Request body limit in bytes (HEARTH_BODY_LIMIT). */
  bodyLimit: number;
  /** Avatar upload limit in bytes. */
  avatarBodyLimit: number;
  /** Domain (with port) of the demo instance created at start, or null. */
  demoInstance: string | null;
  /** Absolute path of the YAML file that was read, or null. */
  configFile: string | null;

  subdomains: 'nested' | 'flat';
  /** `contexts`, free-form maps kept as configured (GET /settings/context). */
  contexts: Record<string, Dict>;
  /** Typed views of `contexts`, by name (see contextConfig()). */
  contextSettings: Record<string, ContextConfig>;
  authentication: Record<string, AuthenticationConfig>;
  flagship: FlagshipConfig;
  clouderies: Record<string, ClouderyConfig>;
  /** Registry URLs by context; `default` always exists. */
  registries: Record<string, string[]>;
  deprecatedApps: DeprecatedApp[];
  passwordResetIntervalMs: number;
  notifications: NotificationsConfig;
  featureFlags: FeatureFlagsConfig;

  /** Things worth telling the operator (dev admin passphrase, unknown HEARTH_* variables…). */
  warnings: string[];
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(
      `Invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export interface LoadConfigOptions {
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Path of the YAML file; defaults to HEARTH_CONFIG. */
  file?: string;
  /** YAML text, instead of a file (tests, `hearth config check -`). Relative paths resolve from cwd. */
  yaml?: string;
  /** Base for relative paths (HEARTH_DATA_DIR); defaults to process.cwd(). */
  cwd?: string;
}

// ---------------------------------------------------------------------------------------------
// Environment

const ENV_KEYS = [
  'HEARTH_CONFIG',
  'HEARTH_HOST',
  'HEARTH_PORT',
  'HEARTH_ADMIN_HOST',
  'HEARTH_ADMIN_PORT',
  'HEARTH_ADMIN_PASSPHRASE',
  'HEARTH_DATA_DIR',
  'HEARTH_DATABASE_URL',
  'HEARTH_SMTP_URL',
  'HEARTH_MAIL_FROM',
  'HEARTH_AMQP_URL',
  'HEARTH_REDIS_URL',
  'HEARTH_LOG_LEVEL',
  'HEARTH_ENV',
  'HEARTH_SECURE_COOKIES',
  'HEARTH_PUBLIC_SCHEME',
  'HEARTH_BODY_LIMIT',
  'HEARTH_DEMO_INSTANCE',
] as const;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type EnvPart = Omit<
  HearthConfig,
  | 'configFile'
  | 'subdomains'
  | 'contexts'
  | 'contextSettings'
  | 'authentication'
  | 'flagship'
  | 'clouderies'
  | 'registries'
  | 'deprecatedApps'
  | 'passwordResetIntervalMs'
  | 'notifications'
  | 'featureFlags'
>;

function readEnv(env: Record<string, string | undefined>, cwd: string, issues: Issues): EnvPart {
  const warnings: string[] = [];
  const get = (k: (typeof ENV_KEYS)[number]): string | undefined => {
    const v = env[k];
    return v === undefined ? undefined : v;
  };
  const nonEmpty = (k: (typeof ENV_KEYS)[number]): string | undefined => {
    const v = get(k);
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  for (const k of Object.keys(env)) {
    if (k.startsWith('HEARTH_') && !(ENV_KEYS as readonly string[]).includes(k)) {
      warnings.push(`unknown environment variable ${k} (ignored)`);
    }
  }

  // HEARTH_ENV first: several defaults depend on it.
  let hearthEnv: HearthEnv = 'development';
  const rawEnv = nonEmpty('HEARTH_ENV');
  if (rawEnv !== undefined) {
    if (rawEnv === 'development' || rawEnv === 'production' || rawEnv === 'test') hearthEnv = rawEnv;
    else issues.add('HEARTH_ENV', 'must be one of development, production, test');
  }
  const prod = hearthEnv === 'production';

  const bind = (k: 'HEARTH_HOST' | 'HEARTH_ADMIN_HOST', def: string): string => {
    const v = nonEmpty(k);
    if (v === undefined) return def;
    if (!isBindAddress(v)) {
      issues.add(k, 'must be an IP address or a host name');
      return def;
    }
    return v;
  };
  const port = (k: 'HEARTH_PORT' | 'HEARTH_ADMIN_PORT', def: number): number => {
    const v = nonEmpty(k);
    if (v === undefined) return def;
    const n = parsePort(v);
    if (n === undefined) {
      issues.add(k, 'must be an integer between 0 and 65535');
      return def;
    }
    return n;
  };
  const url = (k: 'HEARTH_SMTP_URL' | 'HEARTH_AMQP_URL' | 'HEARTH_REDIS_URL', schemes: string[]): string | null => {
    const v = nonEmpty(k);
    if (v === undefined) return null;
    if (!parseUrl(v, schemes)) {
      issues.add(k, `must be a URL with scheme ${schemes.join(' or ')}`);
      return null;
    }
    return v;
  };

  const host = bind('HEARTH_HOST', '0.0.0.0');
  const portN = port('HEARTH_PORT', 8080);
  const adminHost = bind('HEARTH_ADMIN_HOST', '127.0.0.1');
  const adminPort = port('HEARTH_ADMIN_PORT', 6060);

  let passphrase = get('HEARTH_ADMIN_PASSPHRASE') ?? '';
  if (passphrase.trim() === '') passphrase = '';
  let passphraseIsDevDefault = false;
  if (passphrase === '') {
    if (prod) {
      issues.add('HEARTH_ADMIN_PASSPHRASE', 'is required when HEARTH_ENV=production');
    } else {
      passphrase = DEV_ADMIN_PASSPHRASE;
      passphraseIsDevDefault = true;
      warnings.push(
        `HEARTH_ADMIN_PASSPHRASE is not set: the admin API uses the development passphrase "${DEV_ADMIN_PASSPHRASE}"`,
      );
    }
  } else if (prod && passphrase === DEV_ADMIN_PASSPHRASE) {
    issues.add('HEARTH_ADMIN_PASSPHRASE', 'must not be the development default in production');
  }

  const dataDir = path.resolve(cwd, nonEmpty('HEARTH_DATA_DIR') ?? '.hearth');

  let database: DatabaseConfig = { kind: 'sqlite', path: path.join(dataDir, 'hearth.sqlite') };
  const dbUrl = nonEmpty('HEARTH_DATABASE_URL');
  if (dbUrl !== undefined) {
    if (dbUrl === 'sqlite::memory:' || dbUrl === ':memory:') database = { kind: 'sqlite', path: ':memory:' };
    else if (dbUrl.startsWith('sqlite:')) {
      const p = dbUrl.slice('sqlite:'.length).replace(/^\/\//, '');
      if (p === '') issues.add('HEARTH_DATABASE_URL', 'a sqlite: URL needs a file path (sqlite:/path/to/file)');
      else database = { kind: 'sqlite', path: path.resolve(cwd, p) };
    } else if (parseUrl(dbUrl, ['postgres', 'postgresql'])) {
      database = { kind: 'postgres', url: dbUrl };
    } else {
      issues.add('HEARTH_DATABASE_URL', 'must be a postgres:// (or postgresql://) URL, or sqlite:<path>; leave it unset for SQLite in the data directory');
    }
  }

  const smtpUrl = url('HEARTH_SMTP_URL', ['smtp', 'smtps']);
  const amqpUrl = url('HEARTH_AMQP_URL', ['amqp', 'amqps']);
  const redisUrl = url('HEARTH_REDIS_URL', ['redis', 'rediss']);
  if (redisUrl) {
    warnings.push('HEARTH_REDIS_URL is set but not used: rate-limit counters and one-time codes live in the database, which every server process shares');
  }

  const defaultFrom = 'Hearth <noreply@hearth.localhost>';
  let from = nonEmpty('HEARTH_MAIL_FROM') ?? defaultFrom;
  let mailbox = parseMailbox(from);
  if (!mailbox) {
    issues.add('HEARTH_MAIL_FROM', 'must be an address (noreply@example.net) or "Name <noreply@example.net>"');
    from = defaultFrom;
    mailbox = parseMailbox(defaultFrom) ?? { name: 'Hearth', address: 'noreply@hearth.localhost' };
  }

  let logLevel: LogLevel = 'info';
  const rawLevel = nonEmpty('HEARTH_LOG_LEVEL');
  if (rawLevel !== undefined) {
    const l = rawLevel.toLowerCase() === 'warning' ? 'warn' : rawLevel.toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(l)) logLevel = l as LogLevel;
    else issues.add('HEARTH_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  let secureCookies = prod;
  const rawSecure = nonEmpty('HEARTH_SECURE_COOKIES');
  if (rawSecure !== undefined) {
    const b = parseBoolString(rawSecure);
    if (b === undefined) issues.add('HEARTH_SECURE_COOKIES', 'must be true or false');
    else secureCookies = b;
  }

  let publicScheme: 'http' | 'https' = prod ? 'https' : 'http';
  const rawScheme = nonEmpty('HEARTH_PUBLIC_SCHEME');
  if (rawScheme !== undefined) {
    if (rawScheme === 'http' || rawScheme === 'https') publicScheme = rawScheme;
    else issues.add('HEARTH_PUBLIC_SCHEME', 'must be http or https');
  }
  if (prod && publicScheme === 'http') warnings.push('HEARTH_PUBLIC_SCHEME is http in production: links in mails will not be secure');
  if (prod && !secureCookies) warnings.push('HEARTH_SECURE_COOKIES is false in production: session cookies lack the Secure attribute');

  let bodyLimit = 1024 * 1024;
  const rawBody = nonEmpty('HEARTH_BODY_LIMIT');
  if (rawBody !== undefined) {
    const n = parseByteSize(rawBody);
    if (n === undefined) issues.add('HEARTH_BODY_LIMIT', 'must be a positive size such as 1mb, 512kb or 100000 (bytes)');
    else bodyLimit = n;
  }

  // The demo instance has a well-known passphrase and answers to whatever Host header a client
  // sends, so production does not create it unless asked to.
  let demoInstance: string | null = prod ? null : 'alice.localhost:8080';
  const rawDemo = get('HEARTH_DEMO_INSTANCE');
  if (rawDemo !== undefined) {
    const v = rawDemo.trim().toLowerCase();
    if (v === '') demoInstance = null;
    else if (!isDomainWithPort(v)) {
      issues.add('HEARTH_DEMO_INSTANCE', 'must be a domain with an optional port (alice.localhost:8080), or empty to disable it');
    } else demoInstance = v;
  }

  return {
    env: hearthEnv,
    host,
    port: portN,
    admin: { host: adminHost, port: adminPort, passphrase, passphraseIsDevDefault },
    dataDir,
    database,
    mail: { smtpUrl, from, fromAddress: mailbox.address, fromName: mailbox.name },
    amqpUrl,
    redisUrl,
    logLevel,
    secureCookies,
    publicScheme,
    bodyLimit,
    avatarBodyLimit: AVATAR_BODY_LIMIT,
    demoInstance,
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------
// YAML helpers

/** Settings the reference implementation reads from its file, and the variable Hearth reads instead. */
const ENV_INSTEAD: Record<string, string> = {
  host: 'HEARTH_HOST',
  port: 'HEARTH_PORT',
  admin: 'HEARTH_ADMIN_HOST, HEARTH_ADMIN_PORT and HEARTH_ADMIN_PASSPHRASE',
  log: 'HEARTH_LOG_LEVEL',
  mail: 'HEARTH_SMTP_URL and HEARTH_MAIL_FROM',
  redis: 'HEARTH_REDIS_URL',
  rabbitmq: 'HEARTH_AMQP_URL',
  couchdb: 'HEARTH_DATABASE_URL',
  fs: 'HEARTH_DATA_DIR',
};

const TOP_LEVEL_KEYS = [
  'subdomains',
  'contexts',
  'authentication',
  'flagship',
  'clouderies',
  'registries',
  'deprecated_apps',
  'password_reset_interval',
  'notifications',
  'feature_flags',
] as const;

class Yaml {
  constructor(
    readonly issues: Issues,
    /** Directory against which relative file paths in the YAML resolve. */
    readonly baseDir: string,
  ) {}

  /** Unknown keys of a map with a fixed set of keys. */
  keys(obj: Dict, allowed: readonly string[], at: string): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) this.issues.add(joinPath(at, k), `unknown key (expected one of: ${allowed.join(', ')})`);
    }
  }

  map(v: unknown, at: string): Dict | undefined {
    if (v === undefined || v === null) return undefined;
    if (!isDict(v)) {
      this.issues.add(at, `must be a map, not ${describeType(v)}`);
      return undefined;
    }
    return v;
  }

  str(v: unknown, at: string, opts: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    if (v === undefined || v === null) {
      if (opts.required) this.issues.add(at, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.issues.add(at, `must be a string, not ${describeType(v)}`);
      return undefined;
    }
    if ((opts.required || opts.nonEmpty) && v.trim() === '') {
      this.issues.add(at, 'must not be empty');
      return undefined;
    }
    return v;
  }

  bool(v: unknown, at: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const b = parseBoolString(v);
      if (b !== undefined) return b;
    }
    this.issues.add(at, `must be true or false, not ${describeType(v)}`);
    return undefined;
  }

  url(v: unknown, at: string, opts: { required?: boolean; schemes?: string[] } = {}): string | undefined {
    const s = this.str(v, at, { required: opts.required, nonEmpty: true });
    if (s === undefined) return undefined;
    const schemes = opts.schemes ?? ['http', 'https'];
    if (!parseUrl(s, schemes)) {
      this.issues.add(at, `must be an absolute ${schemes.join(' or ')} URL`);
      return undefined;
    }
    return s.trim();
  }

  email(v: unknown, at: string): string | undefined {
    const s = this.str(v, at, { nonEmpty: true });
    if (s === undefined) return undefined;
    if (!parseMailbox(s)) {
      this.issues.add(at, 'must be a mail address');
      return undefined;
    }
    return s.trim();
  }

  /** A list of strings; a single string is accepted as a one-element list. */
  strings(v: unknown, at: string, check?: (s: string, at: string) => boolean): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list)) {
      this.issues.add(at, `must be a list of strings, not ${describeType(v)}`);
      return undefined;
    }
    const out: string[] = [];
    list.forEach((item, i) => {
      const p = typeof v === 'string' ? at : joinPath(at, i);
      if (typeof item !== 'string' || item.trim() === '') {
        this.issues.add(p, `must be a non-empty string, not ${typeof item === 'string' ? 'an empty string' : describeType(item)}`);
        return;
      }
      if (check && !check(item.trim(), p)) return;
      out.push(item.trim());
    });
    return out;
  }

  /** PEM text, or a path to a PEM file (relative to the config file). */
  pemOrPath(v: unknown, at: string): string | undefined {
    const s = this.str(v, at, { nonEmpty: true });
    if (s === undefined) return undefined;
    if (s.includes('-----BEGIN')) return s;
    try {
      return readFileSync(path.resolve(this.baseDir, s.trim()), 'utf8');
    } catch (e) {
      this.issues.add(at, `is neither PEM text nor a readable file (${(e as NodeJS.ErrnoException).code ?? 'read error'})`);
      return undefined;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// YAML sections

function readContexts(y: Yaml, v: unknown): { contexts: Record<string, Dict>; settings: Record<string, ContextConfig> } {
  const contexts: Record<string, Dict> = {};
  const settings: Record<string, ContextConfig> = {};
  const root = y.map(v, 'contexts');
  if (!root) return { contexts, settings };
  for (const [name, raw] of Object.entries(root)) {
    const at = joinPath('contexts', name);
    const ctx = y.map(raw, at) ?? (raw === null ? {} : undefined);
    if (!ctx) continue;
    contexts[name] = ctx;
    settings[name] = typedContext(y, name, ctx, at);
  }
  return { contexts, settings };
}

function typedContext(y: Yaml, name: string, ctx: Dict, at: string): ContextConfig {
  const p = (k: string) => joinPath(at, k);
  const map = (k: string): Dict | null => y.map(ctx[k], p(k)) ?? null;
  return {
    name,
    raw: ctx,
    onboardedRedirection: y.str(ctx.onboarded_redirection, p('onboarded_redirection')) ?? null,
    defaultRedirection: y.str(ctx.default_redirection, p('default_redirection')) ?? null,
    helpLink: y.url(ctx.help_link, p('help_link')) ?? null,
    features: readFeatures(y, ctx.features, p('features')),
    disablePasswordAuthentication: y.bool(ctx.disable_password_authentication, p('disable_password_authentication')) ?? false,
    signupUrl: y.url(ctx.signup_url, p('signup_url')) ?? null,
    managerUrl: y.url(ctx.manager_url, p('manager_url')) ?? null,
    enablePremiumLinks: y.bool(ctx.enable_premium_links, p('enable_premium_links')) ?? false,
    logos: map('logos'),
    antivirus: map('antivirus'),
    supportAddress: y.email(ctx.support_address, p('support_address')) ?? null,
    noreplyAddress: y.email(ctx.noreply_address, p('noreply_address')) ?? null,
  };
}

/** `features` as a map, or as a list of names / one-key maps (a bare name means `true`). */
function readFeatures(y: Yaml, v: unknown, at: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (isDict(v)) return { ...v };
  if (!Array.isArray(v)) {
    y.issues.add(at, `must be a map or a list of flag names / one-key maps, not ${describeType(v)}`);
    return {};
  }
  const out: Record<string, unknown> = {};
  v.forEach((item, i) => {
    if (typeof item === 'string' && item.trim() !== '') out[item.trim()] = true;
    else if (isDict(item) && Object.keys(item).length === 1) {
      const [k, val] = Object.entries(item)[0] as [string, unknown];
      out[k] = val;
    } else {
      y.issues.add(joinPath(at, i), 'must be a flag name or a map with exactly one key');
    }
  });
  return out;
}

const OIDC_KEYS = [
  'client_id',
  'client_secret',
  'scope',
  'redirect_uri',
  'authorize_url',
  'token_url',
  'userinfo_url',
  'userinfo_instance_field',
  'userinfo_instance_prefix',
  'userinfo_instance_suffix',
  'id_token_jwk_url',
  'allow_oauth_token',
  'allow_custom_instance',
  'logout_url',
  'end_session_endpoint',
] as const;

function readOidc(y: Yaml, v: unknown, at: string): OidcConfig | undefined {
  const o = y.map(v, at);
  if (!o) return undefined;
  y.keys(o, OIDC_KEYS, at);
  const p = (k: string) => joinPath(at, k);
  const out: OidcConfig = {
    allowOauthToken: y.bool(o.allow_oauth_token, p('allow_oauth_token')) ?? false,
    allowCustomInstance: y.bool(o.allow_custom_instance, p('allow_custom_instance')) ?? false,
  };
  const strings: [keyof OidcConfig, string][] = [
    ['clientId', 'client_id'],
    ['clientSecret', 'client_secret'],
    ['scope', 'scope'],
    ['userinfoInstanceField', 'userinfo_instance_field'],
    ['userinfoInstancePrefix', 'userinfo_instance_prefix'],
    ['userinfoInstanceSuffix', 'userinfo_instance_suffix'],
  ];
  for (const [prop, key] of strings) {
    const s = y.str(o[key], p(key));
    if (s !== undefined) (out as unknown as Dict)[prop] = s;
  }
  const urls: [keyof OidcConfig, string][] = [
    ['redirectUri', 'redirect_uri'],
    ['authorizeUrl', 'authorize_url'],
    ['tokenUrl', 'token_url'],
    ['userinfoUrl', 'userinfo_url'],
    ['idTokenJwkUrl', 'id_token_jwk_url'],
    ['logoutUrl', 'logout_url'],
    ['endSessionEndpoint', 'end_session_endpoint'],
  ];
  for (const [prop, key] of urls) {
    const s = y.url(o[key], p(key));
    if (s !== undefined) (out as unknown as Dict)[prop] = s;
  }
  return out;
}

function readAuthentication(y: Yaml, v: unknown): Record<string, AuthenticationConfig> {
  const out: Record<string, AuthenticationConfig> = {};
  const root = y.map(v, 'authentication');
  if (!root) return out;
  for (const [ctx, raw] of Object.entries(root)) {
    const at = joinPath('authentication', ctx);
    const a = y.map(raw, at);
    if (!a) continue;
    y.keys(a, ['oidc', 'franceconnect', 'disable_password_authentication'], at);
    const cfg: AuthenticationConfig = {};
    const oidc = readOidc(y, a.oidc, joinPath(at, 'oidc'));
    if (oidc) cfg.oidc = oidc;
    const fc = readOidc(y, a.franceconnect, joinPath(at, 'franceconnect'));
    if (fc) cfg.franceconnect = fc;
    const dpa = y.bool(a.disable_password_authentication, joinPath(at, 'disable_password_authentication'));
    if (dpa !== undefined) cfg.disablePasswordAuthentication = dpa;
    out[ctx] = cfg;
  }
  return out;
}

function base64Bytes(s: string): Buffer | undefined {
  const std = s.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(std)) return undefined;
  return Buffer.from(std, 'base64');
}

const FLAGSHIP_KEYS = [
  'apk_package_names',
  'apk_certificate_digests',
  'play_integrity_decryption_keys',
  'play_integrity_verification_keys',
  'apple_app_ids',
  'apple_app_attest_root_ca',
  'apple_app_attest_environment',
  'contexts',
] as const;

function readFlagship(y: Yaml, v: unknown): FlagshipConfig {
  const f = y.map(v, 'flagship') ?? {};
  y.keys(f, FLAGSHIP_KEYS, 'flagship');
  const issues = y.issues;

  const digests =
    y.strings(f.apk_certificate_digests, 'flagship.apk_certificate_digests', (s, at) => {
      if (base64Bytes(s)?.length === 32) return true;
      issues.add(at, 'must be the base64 of a 32-byte SHA-256 digest');
      return false;
    }) ?? ['u2eUUnfB4Y7k7eqQL7u2jiYDJeVBwZoSV3PZSs8pttc='];

  const decryptionKeys =
    y.strings(f.play_integrity_decryption_keys, 'flagship.play_integrity_decryption_keys', (s, at) => {
      if (base64Bytes(s)?.length === 32) return true;
      issues.add(at, 'must be the base64 of a 32-byte AES-256 key');
      return false;
    }) ?? [];

  const verificationKeys =
    y.strings(f.play_integrity_verification_keys, 'flagship.play_integrity_verification_keys', (s, at) => {
      const der = base64Bytes(s);
      try {
        if (der && createPublicKey({ key: der, format: 'der', type: 'spki' }).asymmetricKeyType === 'ec') return true;
      } catch {
        // reported below
      }
      issues.add(at, 'must be the base64 of a DER (SPKI) EC public key');
      return false;
    }) ?? [];

  const appleIds =
    y.strings(f.apple_app_ids, 'flagship.apple_app_ids', (s, at) => {
      if (/^[A-Z0-9]{10}\.[A-Za-z0-9.-]+$/.test(s)) return true;
      issues.add(at, 'must be <team id>.<bundle id>, like 3AKXFMV43J.io.cozy.flagship.mobile');
      return false;
    }) ?? ['3AKXFMV43J.io.cozy.drive.mobile', '3AKXFMV43J.io.cozy.flagship.mobile'];

  let rootCa = APPLE_APP_ATTESTATION_ROOT_CA_PEM;
  const pem = y.pemOrPath(f.apple_app_attest_root_ca, 'flagship.apple_app_attest_root_ca');
  if (pem !== undefined) {
    try {
      new X509Certificate(pem);
      rootCa = pem;
    } catch {
      issues.add('flagship.apple_app_attest_root_ca', 'is not a valid PEM certificate');
    }
  }

  let environment: 'production' | 'development' = 'production';
  const envRaw = y.str(f.apple_app_attest_environment, 'flagship.apple_app_attest_environment');
  if (envRaw !== undefined) {
    if (envRaw === 'production' || envRaw === 'development') environment = envRaw;
    else issues.add('flagship.apple_app_attest_environment', 'must be production or development');
  }

  const contexts: Record<string, { skipCertification: boolean }> = {};
  const ctxs = y.map(f.contexts, 'flagship.contexts');
  if (ctxs) {
    for (const [name, raw] of Object.entries(ctxs)) {
      const at = joinPath('flagship.contexts', name);
      const c = y.map(raw, at);
      if (!c) continue;
      y.keys(c, ['skip_certification'], at);
      contexts[name] = { skipCertification: y.bool(c.skip_certification, joinPath(at, 'skip_certification')) ?? false };
    }
  }

  return {
    apkPackageNames: y.strings(f.apk_package_names, 'flagship.apk_package_names') ?? [
      'io.cozy.drive.mobile',
      'io.cozy.flagship.mobile',
    ],
    apkCertificateDigests: digests,
    playIntegrityDecryptionKeys: decryptionKeys,
    playIntegrityVerificationKeys: verificationKeys,
    appleAppIds: appleIds,
    appleAppAttestRootCa: rootCa,
    appleAppAttestEnvironment: environment,
    contexts,
  };
}

function readClouderies(y: Yaml, v: unknown): Record<string, ClouderyConfig> {
  const out: Record<string, ClouderyConfig> = {};
  const root = y.map(v, 'clouderies');
  if (!root) return out;
  for (const [ctx, raw] of Object.entries(root)) {
    const at = joinPath('clouderies', ctx);
    const c = y.map(raw, at);
    if (!c) continue;
    y.keys(c, ['api'], at);
    const api = y.map(c.api, joinPath(at, 'api'));
    if (!api) {
      if (c.api === undefined || c.api === null) y.issues.add(joinPath(at, 'api'), 'is required');
      continue;
    }
    y.keys(api, ['url', 'token'], joinPath(at, 'api'));
    const url = y.url(api.url, joinPath(joinPath(at, 'api'), 'url'), { required: true });
    const token = y.str(api.token, joinPath(joinPath(at, 'api'), 'token'), { required: true });
    if (url !== undefined && token !== undefined) out[ctx] = { api: { url, token } };
  }
  return out;
}

function readRegistries(y: Yaml, v: unknown): Record<string, string[]> {
  const check = (s: string, at: string) => {
    if (parseUrl(s, ['http', 'https'])) return true;
    y.issues.add(at, 'must be an absolute http or https URL');
    return false;
  };
  if (v === undefined || v === null) return { default: [DEFAULT_REGISTRY] };
  // The reference accepts a bare list (the default context's registries) or a map by context.
  if (Array.isArray(v) || typeof v === 'string') {
    return { default: y.strings(v, 'registries', check) ?? [] };
  }
  const root = y.map(v, 'registries');
  if (!root) return { default: [DEFAULT_REGISTRY] };
  const out: Record<string, string[]> = {};
  for (const [ctx, list] of Object.entries(root)) {
    out[ctx] = y.strings(list ?? [], joinPath('registries', ctx), check) ?? [];
  }
  if (!out.default) out.default = [DEFAULT_REGISTRY];
  return out;
}

function readDeprecatedApps(y: Yaml, v: unknown): DeprecatedApp[] {
  const root = y.map(v, 'deprecated_apps');
  if (!root) return [];
  y.keys(root, ['apps'], 'deprecated_apps');
  if (root.apps === undefined || root.apps === null) return [];
  if (!Array.isArray(root.apps)) {
    y.issues.add('deprecated_apps.apps', `must be a list, not ${describeType(root.apps)}`);
    return [];
  }
  const out: DeprecatedApp[] = [];
  root.apps.forEach((raw, i) => {
    const at = joinPath('deprecated_apps.apps', i);
    const a = y.map(raw, at);
    if (!a) {
      if (raw === null) y.issues.add(at, 'must be a map');
      return;
    }
    y.keys(a, ['software_id', 'name', 'store_urls'], at);
    const softwareId = y.str(a.software_id, joinPath(at, 'software_id'), { required: true });
    const name = y.str(a.name, joinPath(at, 'name'), { required: true });
    const storeUrls: Record<string, string> = {};
    const urls = y.map(a.store_urls, joinPath(at, 'store_urls'));
    if (urls) {
      for (const [platform, u] of Object.entries(urls)) {
        const s = y.url(u, joinPath(joinPath(at, 'store_urls'), platform));
        if (s !== undefined) storeUrls[platform] = s;
      }
    }
    if (softwareId !== undefined && name !== undefined) out.push({ softwareId, name, storeUrls });
  });
  return out;
}

function readPasswordResetInterval(y: Yaml, v: unknown): number {
  const def = 15 * 60_000;
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string') {
    y.issues.add('password_reset_interval', `must be a duration such as 15m or 1h, not ${describeType(v)}`);
    return def;
  }
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) {
    y.issues.add('password_reset_interval', 'must be a positive duration such as 15m, 1h or 1h30m');
    return def;
  }
  return ms;
}

function readNotifications(y: Yaml, v: unknown): NotificationsConfig {
  const out: NotificationsConfig = { fcm: null, apns: null };
  const root = y.map(v, 'notifications');
  if (!root) return out;
  y.keys(root, ['fcm', 'apns'], 'notifications');

  const fcm = y.map(root.fcm, 'notifications.fcm');
  if (fcm) {
    y.keys(fcm, ['url', 'credentials', 'project_id', 'token_url'], 'notifications.fcm');
    let credentials: Dict | null = null;
    const c = fcm.credentials;
    if (isDict(c)) credentials = c;
    else if (typeof c === 'string' && c.trim() !== '') {
      let text: string | undefined = c;
      if (!c.trim().startsWith('{')) {
        try {
          text = readFileSync(path.resolve(y.baseDir, c.trim()), 'utf8');
        } catch (e) {
          y.issues.add('notifications.fcm.credentials', `is neither JSON nor a readable file (${(e as NodeJS.ErrnoException).code ?? 'read error'})`);
          text = undefined;
        }
      }
      if (text !== undefined) {
        try {
          const parsed: unknown = JSON.parse(text);
          if (isDict(parsed)) credentials = parsed;
          else y.issues.add('notifications.fcm.credentials', 'must be a JSON object (a service-account file)');
        } catch {
          y.issues.add('notifications.fcm.credentials', 'is not valid JSON');
        }
      }
    } else if (c !== undefined && c !== null) {
      y.issues.add('notifications.fcm.credentials', `must be a map, JSON text or a file path, not ${describeType(c)}`);
    }
    const projectId =
      y.str(fcm.project_id, 'notifications.fcm.project_id', { nonEmpty: true }) ??
      (typeof credentials?.project_id === 'string' ? credentials.project_id : null);
    const tokenUrl =
      y.url(fcm.token_url, 'notifications.fcm.token_url') ??
      (typeof credentials?.token_uri === 'string' ? credentials.token_uri : null);
    out.fcm = {
      url: y.url(fcm.url, 'notifications.fcm.url') ?? 'https://fcm.googleapis.com',
      credentials,
      projectId,
      tokenUrl,
    };
  }

  const apns = y.map(root.apns, 'notifications.apns');
  if (apns) {
    y.keys(apns, ['url', 'key_id', 'team_id', 'private_key', 'topic'], 'notifications.apns');
    const keyId = y.str(apns.key_id, 'notifications.apns.key_id', { required: true });
    const teamId = y.str(apns.team_id, 'notifications.apns.team_id', { required: true });
    let privateKey = y.pemOrPath(apns.private_key, 'notifications.apns.private_key');
    if (apns.private_key === undefined || apns.private_key === null) y.issues.add('notifications.apns.private_key', 'is required');
    if (privateKey !== undefined) {
      try {
        if (createPrivateKey(privateKey).asymmetricKeyType !== 'ec') throw new Error('not EC');
      } catch {
        y.issues.add('notifications.apns.private_key', 'must be an EC private key in PEM (the .p8 file from Apple)');
        privateKey = undefined;
      }
    }
    const topic = y.str(apns.topic, 'notifications.apns.topic', { nonEmpty: true }) ?? 'io.cozy.flagship.mobile';
    const url = y.url(apns.url, 'notifications.apns.url') ?? 'https://api.push.apple.com';
    if (keyId !== undefined && teamId !== undefined && privateKey !== undefined) {
      out.apns = { url, keyId, teamId, privateKey, topic };
    }
  }
  return out;
}

function readRatioRules(y: Yaml, v: unknown, at: string): RatioRule[] | undefined {
  // A plain value is a rule that covers every instance.
  if (!Array.isArray(v)) return [{ ratio: 1, value: v }];
  const rules: RatioRule[] = [];
  let total = 0;
  let ok = true;
  v.forEach((item, i) => {
    const p = joinPath(at, i);
    if (!isDict(item) || !('ratio' in item) || !('value' in item)) {
      y.issues.add(p, 'must be a map {ratio, value} (wrap a list value as [{ratio: 1, value: [...]}])');
      ok = false;
      return;
    }
    y.keys(item, ['ratio', 'value'], p);
    const ratio = item.ratio;
    if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
      y.issues.add(joinPath(p, 'ratio'), 'must be a number between 0 and 1');
      ok = false;
      return;
    }
    total += ratio;
    rules.push({ ratio, value: item.value });
  });
  if (ok && total > 1 + 1e-9) {
    y.issues.add(at, 'the ratios add up to more than 1');
    return undefined;
  }
  return ok ? rules : undefined;
}

function readFlagRules(y: Yaml, v: unknown, at: string): Record<string, RatioRule[]> {
  const out: Record<string, RatioRule[]> = {};
  const m = y.map(v, at);
  if (!m) return out;
  for (const [flag, raw] of Object.entries(m)) {
    const rules = readRatioRules(y, raw, joinPath(at, flag));
    if (rules) out[flag] = rules;
  }
  return out;
}

function readFeatureFlags(y: Yaml, v: unknown): FeatureFlagsConfig {
  const out: FeatureFlagsConfig = { default: {}, contexts: {} };
  const root = y.map(v, 'feature_flags');
  if (!root) return out;
  y.keys(root, ['default', 'contexts'], 'feature_flags');
  out.default = readFlagRules(y, root.default, 'feature_flags.default');
  const ctxs = y.map(root.contexts, 'feature_flags.contexts');
  if (ctxs) {
    for (const name of Object.keys(ctxs)) {
      out.contexts[name] = readFlagRules(y, ctxs[name], joinPath('feature_flags.contexts', name));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Loading

function readYamlSource(opts: LoadConfigOptions, env: Record<string, string | undefined>, cwd: string, issues: Issues) {
  if (opts.yaml !== undefined) return { text: opts.yaml, file: null as string | null, at: 'yaml', baseDir: cwd };
  const fromEnv = env.HEARTH_CONFIG?.trim();
  const file = opts.file ?? (fromEnv ? fromEnv : undefined);
  if (file === undefined) return undefined;
  const at = opts.file !== undefined ? 'config file' : 'HEARTH_CONFIG';
  const abs = path.resolve(cwd, file);
  try {
    return { text: readFileSync(abs, 'utf8'), file: abs, at, baseDir: path.dirname(abs) };
  } catch (e) {
    issues.add(at, `cannot read ${abs} (${(e as NodeJS.ErrnoException).code ?? 'read error'})`);
    return undefined;
  }
}

function parseYaml(text: string, at: string, issues: Issues): Dict | undefined {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // Report positions and codes only, never err.message: it quotes the offending source line,
    // which may hold a secret.
    for (const err of doc.errors) {
      const pos = err.linePos?.[0];
      issues.add(at, `YAML syntax error${pos ? ` at line ${pos.line}, column ${pos.col}` : ''} (${err.code})`);
    }
    return undefined;
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch {
    issues.add(at, 'YAML could not be converted (too many aliases?)');
    return undefined;
  }
  if (value === null || value === undefined) return {};
  if (!isDict(value)) {
    issues.add(at, `the YAML document must be a map, not ${describeType(value)}`);
    return undefined;
  }
  return value;
}

/**
 * Loads and validates the configuration. Throws a ConfigError listing every problem.
 */
export function loadConfig(opts: LoadConfigOptions = {}): HearthConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const issues = new Issues();

  const fromEnv = readEnv(env, cwd, issues);

  const src = readYamlSource(opts, env, cwd, issues);
  const doc = src ? parseYaml(src.text, src.at, issues) ?? {} : {};
  const y = new Yaml(issues, src?.baseDir ?? cwd);

  for (const k of Object.keys(doc)) {
    if ((TOP_LEVEL_KEYS as readonly string[]).includes(k)) continue;
    const instead = ENV_INSTEAD[k];
    issues.add(k, instead ? `unknown top-level key (Hearth reads this setting from ${instead})` : `unknown top-level key (expected one of: ${TOP_LEVEL_KEYS.join(', ')})`);
  }

  let subdomains: 'nested' | 'flat' = 'nested';
  const sub = y.str(doc.subdomains, 'subdomains');
  if (sub !== undefined) {
    if (sub === 'nested' || sub === 'flat') subdomains = sub;
    else issues.add('subdomains', 'must be nested or flat');
  }

  const { contexts, settings } = readContexts(y, doc.contexts);
  const cfg: HearthConfig = {
    ...fromEnv,
    configFile: src?.file ?? null,
    subdomains,
    contexts,
    contextSettings: settings,
    authentication: readAuthentication(y, doc.authentication),
    flagship: readFlagship(y, doc.flagship),
    clouderies: readClouderies(y, doc.clouderies),
    registries: readRegistries(y, doc.registries),
    deprecatedApps: readDeprecatedApps(y, doc.deprecated_apps),
    passwordResetIntervalMs: readPasswordResetInterval(y, doc.password_reset_interval),
    notifications: readNotifications(y, doc.notifications),
    featureFlags: readFeatureFlags(y, doc.feature_flags),
  };

  if (issues.size > 0) throw new ConfigError(issues.list);
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// Accessors

function ctxName(ctx: string | null | undefined): string {
  return ctx === undefined || ctx === null || ctx === '' ? DEFAULT_CONTEXT : ctx;
}

const EMPTY_CONTEXT: Omit<ContextConfig, 'name'> = {
  raw: {},
  onboardedRedirection: null,
  defaultRedirection: null,
  helpLink: null,
  features: {},
  disablePasswordAuthentication: false,
  signupUrl: null,
  managerUrl: null,
  enablePremiumLinks: false,
  logos: null,
  antivirus: null,
  supportAddress: null,
  noreplyAddress: null,
};

/**
 * The configuration of an instance context: `contexts.<ctx>`, else `contexts.default`, else an
 * empty one. `disable_password_authentication` is also read from `authentication.<ctx>`.
 */
export function contextConfig(cfg: HearthConfig, ctx?: string | null): ContextConfig {
  const name = ctxName(ctx);
  const found = cfg.contextSettings[name] ?? cfg.contextSettings[DEFAULT_CONTEXT];
  const base: ContextConfig = found ?? { name: DEFAULT_CONTEXT, ...EMPTY_CONTEXT };
  if (cfg.authentication[name]?.disablePasswordAuthentication && !base.disablePasswordAuthentication) {
    return { ...base, disablePasswordAuthentication: true };
  }
  return base;
}

/**
 * `authentication.<ctx>.oidc`, or null. No fallback from a named context to `default` (that would
 * turn OIDC on for every context); an instance without a context uses `default`.
 */
export function oidcConfig(cfg: HearthConfig, ctx?: string | null): OidcConfig | null {
  return cfg.authentication[ctxName(ctx)]?.oidc ?? null;
}

/** `authentication.<ctx>.franceconnect`, or null (same rule as oidcConfig). */
export function franceConnectConfig(cfg: HearthConfig, ctx?: string | null): OidcConfig | null {
  return cfg.authentication[ctxName(ctx)]?.franceconnect ?? null;
}

/** `flagship.contexts.<ctx>.skip_certification` (the instance context, or `default` when it has none). */
export function skipCertification(cfg: HearthConfig, ctx?: string | null): boolean {
  return cfg.flagship.contexts[ctxName(ctx)]?.skipCertification ?? false;
}

/** `clouderies.<ctx>`, else `clouderies.default`, else null. */
export function clouderyConfig(cfg: HearthConfig, ctx?: string | null): ClouderyConfig | null {
  return cfg.clouderies[ctxName(ctx)] ?? cfg.clouderies[DEFAULT_CONTEXT] ?? null;
}

/** The registries of a context, else the default ones. */
export function registriesFor(cfg: HearthConfig, ctx?: string | null): string[] {
  return cfg.registries[ctxName(ctx)] ?? cfg.registries[DEFAULT_CONTEXT] ?? [];
}

/** The deprecated-app entry for an OAuth client's software_id, if any. */
export function deprecatedApp(cfg: HearthConfig, softwareId: string | null | undefined): DeprecatedApp | null {
  if (!softwareId) return null;
  return cfg.deprecatedApps.find((a) => a.softwareId === softwareId) ?? null;
}

/** The absolute base URL of an instance: `<scheme>://<domain>`. */
export function instanceBaseUrl(cfg: HearthConfig, domain: string): string {
  return `${cfg.publicScheme}://${domain}`;
}

// ---------------------------------------------------------------------------------------------
// describeConfig

const REDACTED = '<redacted>';

function redactTree(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactTree);
  if (isDict(v)) {
    const out: Dict = {};
    for (const [k, val] of Object.entries(v)) {
      out[k] = SECRET_KEY.test(k) && val !== null && val !== undefined && val !== '' ? REDACTED : redactTree(val);
    }
    return out;
  }
  return v;
}

function describeOidc(o: OidcConfig | undefined): Dict | undefined {
  if (!o) return undefined;
  return { ...o, clientSecret: o.clientSecret ? REDACTED : undefined };
}

/**
 * A JSON-able summary of the effective configuration, for `hearth config check`. Secrets are
 * replaced by `<redacted>` and passwords in URLs by `***`.
 */
export function describeConfig(cfg: HearthConfig): Dict {
  const cert = (() => {
    try {
      const c = new X509Certificate(cfg.flagship.appleAppAttestRootCa);
      return {
        subject: c.subject.replace(/\n/g, ', '),
        fingerprint256: c.fingerprint256,
        validTo: c.validTo,
        embedded: cfg.flagship.appleAppAttestRootCa === APPLE_APP_ATTESTATION_ROOT_CA_PEM,
      };
    } catch {
      return 'invalid';
    }
  })();
  return {
    env: cfg.env,
    configFile: cfg.configFile,
    public: { host: cfg.host, port: cfg.port, scheme: cfg.publicScheme, secureCookies: cfg.secureCookies },
    admin: {
      host: cfg.admin.host,
      port: cfg.admin.port,
      passphrase: cfg.admin.passphraseIsDevDefault ? `<development default "${DEV_ADMIN_PASSPHRASE}">` : REDACTED,
    },
    dataDir: cfg.dataDir,
    database: cfg.database.kind === 'postgres' ? { kind: 'postgres', url: redactUrl(cfg.database.url) } : cfg.database,
    mail: { smtpUrl: cfg.mail.smtpUrl ? redactUrl(cfg.mail.smtpUrl) : null, from: cfg.mail.from },
    amqpUrl: cfg.amqpUrl ? redactUrl(cfg.amqpUrl) : null,
    redisUrl: cfg.redisUrl ? redactUrl(cfg.redisUrl) : null,
    logLevel: cfg.logLevel,
    bodyLimit: cfg.bodyLimit,
    avatarBodyLimit: cfg.avatarBodyLimit,
    demoInstance: cfg.demoInstance,
    subdomains: cfg.subdomains,
    contexts: redactTree(cfg.contexts),
    authentication: Object.fromEntries(
      Object.entries(cfg.authentication).map(([k, a]) => [
        k,
        { oidc: describeOidc(a.oidc), franceconnect: describeOidc(a.franceconnect), disablePasswordAuthentication: a.disablePasswordAuthentication },
      ]),
    ),
    flagship: {
      apkPackageNames: cfg.flagship.apkPackageNames,
      apkCertificateDigests: cfg.flagship.apkCertificateDigests,
      playIntegrityDecryptionKeys: cfg.flagship.playIntegrityDecryptionKeys.map(() => REDACTED),
      playIntegrityVerificationKeys: cfg.flagship.playIntegrityVerificationKeys.length,
      appleAppIds: cfg.flagship.appleAppIds,
      appleAppAttestRootCa: cert,
      appleAppAttestEnvironment: cfg.flagship.appleAppAttestEnvironment,
      contexts: cfg.flagship.contexts,
    },
    clouderies: Object.fromEntries(Object.entries(cfg.clouderies).map(([k, c]) => [k, { api: { url: redactUrl(c.api.url), token: REDACTED } }])),
    registries: cfg.registries,
    deprecatedApps: cfg.deprecatedApps,
    passwordResetInterval: `${cfg.passwordResetIntervalMs / 1000}s`,
    notifications: {
      fcm: cfg.notifications.fcm
        ? { url: cfg.notifications.fcm.url, projectId: cfg.notifications.fcm.projectId, tokenUrl: cfg.notifications.fcm.tokenUrl, credentials: cfg.notifications.fcm.credentials ? REDACTED : null }
        : null,
      apns: cfg.notifications.apns
        ? { url: cfg.notifications.apns.url, keyId: cfg.notifications.apns.keyId, teamId: cfg.notifications.apns.teamId, topic: cfg.notifications.apns.topic, privateKey: REDACTED }
        : null,
    },
    featureFlags: cfg.featureFlags,
    warnings: cfg.warnings,
  };
}
