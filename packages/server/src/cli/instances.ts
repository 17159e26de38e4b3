// `hearth instances …`: managing instances through the admin API of a running server.
import { createInterface } from 'node:readline/promises';
import {
  createInstance,
  createOAuthClient,
  createToken,
  deleteInstance,
  getInstance,
  listInstances,
  listMails,
  updateInstance,
  type AdminInstance,
  type AdminInstanceCreate,
  type AdminInstanceUpdate,
  type AdminMail,
  type AdminOAuthClient,
} from '@hearth/client/admin';
import { instanceBaseUrl, type HearthConfig } from '../config/config.js';
import { int, list, parseCommand, positionals, str, tristate, type OptionSpec, type Parsed } from './args.js';
import { adminBaseUrl, adminClient, unwrap, type AdminClient, type ApiResult } from './admin-api.js';
import { loadCliConfig } from './config.js';
import { CliError, EXIT, keyValues, print, printJson, table, warn } from './output.js';

const FIELD_OPTIONS = {
  email: { type: 'string' },
  'public-name': { type: 'string' },
  locale: { type: 'string' },
  timezone: { type: 'string' },
  context: { type: 'string' },
  passphrase: { type: 'string' },
  'kdf-iterations': { type: 'string' },
  'auth-mode': { type: 'string' },
  'magic-link': { type: 'boolean' },
  'oidc-id': { type: 'string' },
  'franceconnect-id': { type: 'string' },
  'disk-quota': { type: 'string' },
  'tos-latest': { type: 'string' },
  uuid: { type: 'string' },
  'feature-flag': { type: 'string', multiple: true },
  'feature-set': { type: 'string', multiple: true },
  sponsorship: { type: 'string', multiple: true },
} as const satisfies OptionSpec;

const MODIFY_OPTIONS = {
  ...FIELD_OPTIONS,
  tos: { type: 'string' },
  'old-domain': { type: 'string' },
  blocked: { type: 'boolean' },
  'blocking-reason': { type: 'string' },
  'onboarding-finished': { type: 'boolean' },
} as const satisfies OptionSpec;

const FIELD_HELP = `  --email <address>          the owner's email address
  --public-name <name>       the owner's name (default: the first label of the domain)
  --locale <xx>              locale of pages and mails (default en)
  --timezone <zone>          IANA time zone (Europe/Paris)
  --context <name>           context (default "default")
  --passphrase <clear text>  the owner's passphrase (derived as a client would)
  --kdf-iterations <n>       PBKDF2 iterations for --passphrase (50000..5000000, default 650000)
  --auth-mode <mode>         basic | two_factor_mail
  --magic-link               log in with links sent by mail (--no-magic-link: off)
  --oidc-id <sub>            the owner's subject at the OpenID Connect provider
  --franceconnect-id <sub>   the owner's subject at FranceConnect
  --disk-quota <bytes>       disk quota
  --tos-latest <version>     latest terms of service
  --uuid <id>                id at the manager
  --feature-flag <k=v>       a feature flag (repeatable; v is JSON when it parses: true, 3, "x")
  --feature-set <name>       a feature set (repeatable)
  --sponsorship <name>       a sponsor (repeatable)`;

const USAGE = {
  group: `Usage: hearth instances <command> [options]

Manages the instances of a running server through its admin API (HEARTH_ADMIN_HOST,
HEARTH_ADMIN_PORT, HEARTH_ADMIN_PASSPHRASE).

Commands:
  add <domain> [options]                          create an instance
  ls                                              list the instances
  show <domain>                                   show an instance
  modify <domain> [options]                       change an instance
  rm <domain> [--force]                           delete an instance and all its data
  token-app <domain> <slug>                       a webapp token
  token-konnector <domain> <slug>                 a konnector token
  token-cli <domain> [scope…]                     a CLI token (scope default *)
  token-oauth <domain> <client-id> <scope…>       an OAuth access token (--refresh: a refresh token)
  client-oauth <domain> <redirect_uri> <client_name> <software_id> [--allow-login-scope] [--flagship]
                                                  create an OAuth client
  mails <domain>                                  the mails the instance queued or sent

Every command accepts --json (machine-readable output) and --help. Exit codes: 0 success,
1 usage or refused, 2 admin API unreachable, 3 not found.`,
  add: `Usage: hearth instances add <domain> [options]

Creates an instance. Without --passphrase it is not onboarded: the onboarding link is printed.

Options:
${FIELD_HELP}
  --json                     print the instance as JSON`,
  ls: `Usage: hearth instances ls [--json]

Lists the instances, sorted by domain.`,
  show: `Usage: hearth instances show <domain> [--json]

Shows an instance (its register token while it is not onboarded).`,
  modify: `Usage: hearth instances modify <domain> [options]

Changes the given fields only. An empty value (--email '') removes an optional value.

Options:
${FIELD_HELP.replace('(repeatable; v is JSON when it parses: true, 3, "x")', '(repeatable; adds or changes one flag, k= removes it)')}
  --tos <version>            signed terms of service
  --old-domain <domain>      previous domain of a moved instance (also the passphrase salt: give --passphrase)
  --blocked                  block the instance (--no-blocked: unblock and reset the login-failure counter)
  --blocking-reason <r>      LOGIN_FAILED | PAYMENT_FAILED | IMPORTING | MOVING | UNKNOWN
  --onboarding-finished      mark the onboarding finished (--no-onboarding-finished: not finished)
  --json                     print the instance as JSON`,
  rm: `Usage: hearth instances rm <domain> [--force]

Deletes the instance and everything it holds. Asks for confirmation on a terminal; when stdin is
not a terminal, --force is required.`,
  'token-app': `Usage: hearth instances token-app <domain> <slug> [--session-id <id>]

Prints a webapp token (aud app, 30 minutes; 24 h and bound to the session with --session-id).`,
  'token-konnector': `Usage: hearth instances token-konnector <domain> <slug>

Prints a konnector token (aud konn, 30 minutes).`,
  'token-cli': `Usage: hearth instances token-cli <domain> [scope…]

Prints a CLI token (30 minutes) for the scopes (doctypes, with :VERBS; default *), e.g.
  TOKEN=$(pnpm --silent hearth instances token-cli alice.localhost:8080 io.cozy.settings)`,
  'token-oauth': `Usage: hearth instances token-oauth <domain> <client-id> <scope…> [--refresh]

Prints an OAuth access token (7 days) of an existing client, or a refresh token with --refresh.`,
  'client-oauth': `Usage: hearth instances client-oauth <domain> <redirect_uri> <client_name> <software_id> [--allow-login-scope] [--flagship] [--json]

Creates an OAuth client (not pending) and prints its id, secret and registration access token.`,
  mails: `Usage: hearth instances mails <domain> [--json]

Prints the mails the instance queued or sent, oldest first, with their text.`,
} as const;

type Sub = keyof typeof USAGE;

interface Env {
  config: HearthConfig;
  client: AdminClient;
  json: boolean;
  call<T>(result: Promise<ApiResult<T>>): Promise<T>;
}

function envFor(parsed: Parsed): Env {
  const config = loadCliConfig(parsed.values);
  const client = adminClient(config);
  const baseUrl = adminBaseUrl(config);
  const fieldName = (field: string) => `--${field.split('.')[0]!.replace(/_/g, '-')}`;
  return {
    config,
    client,
    json: parsed.values.json === true,
    call: async (result) => unwrap(await result, { baseUrl, fieldName }),
  };
}

/** `k=v` → [k, v], v parsed as JSON when it parses (true, 3, "x", {…}), else kept as a string. */
function parseFlag(spec: string): [string, unknown] {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new CliError(`--feature-flag needs key=value, not "${spec}"`);
  const key = spec.slice(0, eq);
  const raw = spec.slice(eq + 1);
  if (raw === '') return [key, undefined];
  try {
    return [key, JSON.parse(raw) as unknown];
  } catch {
    return [key, raw];
  }
}

function instanceEntries(i: AdminInstance, config: HearthConfig): [string, unknown][] {
  const entries: [string, unknown][] = Object.entries(i);
  if (i.register_token) {
    entries.push(['onboarding_url', `${instanceBaseUrl(config, i.domain)}/auth/passphrase?registerToken=${i.register_token}`]);
  }
  return entries;
}

function showInstance(env: Env, i: AdminInstance): void {
  if (env.json) printJson(i);
  else print(keyValues(instanceEntries(i, env.config)));
}

/** The creation body from the options. */
function createBody(domain: string, v: Parsed['values']): AdminInstanceCreate {
  const body: AdminInstanceCreate = { domain };
  const set = <K extends keyof AdminInstanceCreate>(k: K, value: AdminInstanceCreate[K] | undefined) => {
    if (value !== undefined) body[k] = value;
  };
  set('email', str(v, 'email'));
  set('public_name', str(v, 'public-name'));
  set('locale', str(v, 'locale'));
  set('timezone', str(v, 'timezone'));
  set('context', str(v, 'context'));
  set('passphrase', str(v, 'passphrase'));
  set('kdf_iterations', int(v, 'kdf-iterations'));
  set('auth_mode', str(v, 'auth-mode') as AdminInstanceCreate['auth_mode']);
  set('magic_link', tristate(v, 'magic-link'));
  set('oidc_id', str(v, 'oidc-id'));
  set('franceconnect_id', str(v, 'franceconnect-id'));
  set('disk_quota', int(v, 'disk-quota'));
  set('tos_latest', str(v, 'tos-latest'));
  set('uuid', str(v, 'uuid'));
  set('feature_sets', list(v, 'feature-set'));
  set('sponsorships', list(v, 'sponsorship'));
  const flags = list(v, 'feature-flag');
  if (flags) {
    body.feature_flags = {};
    for (const spec of flags) {
      const [k, value] = parseFlag(spec);
      if (value !== undefined) body.feature_flags[k] = value;
    }
  }
  return body;
}

/** The change body from the options: '' means null for the optional values. */
async function updateBody(env: Env, domain: string, v: Parsed['values']): Promise<AdminInstanceUpdate> {
  const body: AdminInstanceUpdate = {};
  const nullable = (name: string): string | null | undefined => {
    const s = str(v, name);
    return s === undefined ? undefined : s === '' ? null : s;
  };
  const set = <K extends keyof AdminInstanceUpdate>(k: K, value: AdminInstanceUpdate[K] | undefined) => {
    if (value !== undefined) body[k] = value;
  };
  set('email', nullable('email'));
  set('public_name', str(v, 'public-name'));
  set('locale', str(v, 'locale'));
  set('timezone', nullable('timezone'));
  set('context', str(v, 'context'));
  set('passphrase', str(v, 'passphrase'));
  set('kdf_iterations', int(v, 'kdf-iterations'));
  set('auth_mode', str(v, 'auth-mode') as AdminInstanceUpdate['auth_mode']);
  set('magic_link', tristate(v, 'magic-link'));
  set('oidc_id', nullable('oidc-id'));
  set('franceconnect_id', nullable('franceconnect-id'));
  const quota = str(v, 'disk-quota');
  if (quota !== undefined) body.disk_quota = quota === '' ? null : int(v, 'disk-quota')!;
  set('tos_latest', nullable('tos-latest'));
  set('tos', nullable('tos'));
  set('uuid', nullable('uuid'));
  set('old_domain', nullable('old-domain'));
  set('feature_sets', list(v, 'feature-set'));
  set('sponsorships', list(v, 'sponsorship'));
  set('blocked', tristate(v, 'blocked'));
  set('blocking_reason', nullable('blocking-reason') as AdminInstanceUpdate['blocking_reason']);
  set('onboarding_finished', tristate(v, 'onboarding-finished'));
  const flags = list(v, 'feature-flag');
  if (flags) {
    // One flag at a time: merged into the current flags (the API replaces the whole map).
    const current = await env.call(getInstance({ client: env.client, path: { domain } }));
    const merged: Record<string, unknown> = { ...current.feature_flags };
    for (const spec of flags) {
      const [k, value] = parseFlag(spec);
      if (value === undefined) delete merged[k];
      else merged[k] = value;
    }
    body.feature_flags = merged;
  }
  return body;
}

async function confirmDeletion(domain: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Delete ${domain} and everything it holds (settings, sessions, clients, apps, mails)?\nType the domain to confirm: `);
    return answer.trim() === domain;
  } finally {
    rl.close();
  }
}

function printMails(mails: AdminMail[]): void {
  if (mails.length === 0) {
    print('No mail.');
    return;
  }
  const blocks = mails.map((m) =>
    [
      `── ${m.created_at}  ${m.status}${m.attempts ? ` (${m.attempts} attempt${m.attempts === 1 ? '' : 's'})` : ''}  ${m.template}`,
      keyValues([
        ['to', m.to],
        ['subject', m.subject],
      ]),
      '',
      m.text.trimEnd(),
    ].join('\n'),
  );
  print(blocks.join('\n\n'));
}

function clientEntries(c: AdminOAuthClient): [string, unknown][] {
  return Object.entries(c);
}

async function runSub(sub: Sub, argv: string[]): Promise<number> {
  const usage = USAGE[sub];
  const optionsFor: Record<Sub, OptionSpec> = {
    group: {},
    add: FIELD_OPTIONS,
    ls: {},
    show: {},
    modify: MODIFY_OPTIONS,
    rm: { force: { type: 'boolean', short: 'f' } },
    'token-app': { 'session-id': { type: 'string' } },
    'token-konnector': {},
    'token-cli': {},
    'token-oauth': { refresh: { type: 'boolean' } },
    'client-oauth': { 'allow-login-scope': { type: 'boolean' }, flagship: { type: 'boolean' } },
    mails: {},
  };
  const negatable = sub === 'add' ? ['magic-link'] : sub === 'modify' ? ['magic-link', 'blocked', 'onboarding-finished'] : [];
  const parsed = parseCommand(argv, optionsFor[sub], usage, negatable);
  if (parsed.values.help) {
    print(usage);
    return EXIT.ok;
  }
  const v = parsed.values;

  switch (sub) {
    case 'add': {
      const [domain] = positionals(parsed, ['domain'], usage);
      const body = createBody(domain!, v);
      const env = envFor(parsed);
      showInstance(env, await env.call(createInstance({ client: env.client, body })));
      return EXIT.ok;
    }
    case 'ls': {
      positionals(parsed, [], usage);
      const env = envFor(parsed);
      const res = await env.call(listInstances({ client: env.client }));
      if (env.json) printJson(res);
      else if (res.count === 0) print('No instance.');
      else
        print(
          table(
            ['DOMAIN', 'EMAIL', 'CONTEXT', 'ONBOARDED', 'BLOCKED', 'CREATED'],
            res.instances.map((i) => [
              i.domain,
              i.email ?? '-',
              i.context,
              i.onboarding_finished ? 'yes' : 'no',
              i.blocked ? (i.blocking_reason ?? 'UNKNOWN') : 'no',
              i.created_at.replace(/\.\d+Z$/, 'Z'),
            ]),
          ),
        );
      return EXIT.ok;
    }
    case 'show': {
      const [domain] = positionals(parsed, ['domain'], usage);
      const env = envFor(parsed);
      showInstance(env, await env.call(getInstance({ client: env.client, path: { domain: domain! } })));
      return EXIT.ok;
    }
    case 'modify': {
      const [domain] = positionals(parsed, ['domain'], usage);
      const env = envFor(parsed);
      const body = await updateBody(env, domain!, v);
      if (Object.keys(body).length === 0) throw new CliError('nothing to change: give at least one option', EXIT.usage, usage);
      showInstance(env, await env.call(updateInstance({ client: env.client, path: { domain: domain! }, body })));
      return EXIT.ok;
    }
    case 'rm': {
      const [domain] = positionals(parsed, ['domain'], usage);
      if (v.force !== true) {
        if (!process.stdin.isTTY) throw new CliError(`refusing to delete ${domain} without --force (stdin is not a terminal)`, EXIT.usage);
        if (!(await confirmDeletion(domain!))) throw new CliError('aborted: the domain was not confirmed', EXIT.usage);
      }
      const env = envFor(parsed);
      await env.call(deleteInstance({ client: env.client, path: { domain: domain! } }));
      if (env.json) printJson({ deleted: domain });
      else print(`Deleted ${domain}.`);
      return EXIT.ok;
    }
    case 'token-app':
    case 'token-konnector': {
      const [domain, slug] = positionals(parsed, ['domain', 'slug'], usage);
      const env = envFor(parsed);
      const sessionId = str(v, 'session-id');
      const body =
        sub === 'token-app'
          ? { audience: 'app' as const, subject: slug!, ...(sessionId ? { session_id: sessionId } : {}) }
          : { audience: 'konnector' as const, subject: slug! };
      const { token } = await env.call(createToken({ client: env.client, path: { domain: domain! }, body }));
      if (env.json) printJson({ token });
      else print(token);
      return EXIT.ok;
    }
    case 'token-cli': {
      const [domain, ...scopes] = positionals(parsed, ['domain'], usage, true);
      const env = envFor(parsed);
      const scope = scopes.length ? scopes.join(' ') : undefined;
      const { token } = await env.call(
        createToken({ client: env.client, path: { domain: domain! }, body: { audience: 'cli', subject: 'hearth-cli', ...(scope ? { scope } : {}) } }),
      );
      if (env.json) printJson({ token });
      else print(token);
      return EXIT.ok;
    }
    case 'token-oauth': {
      const [domain, clientId, ...scopes] = positionals(parsed, ['domain', 'client-id', 'scope'], usage, true);
      const env = envFor(parsed);
      const audience = v.refresh === true ? ('refresh' as const) : ('access' as const);
      const { token } = await env.call(
        createToken({ client: env.client, path: { domain: domain! }, body: { audience, subject: clientId!, scope: scopes.join(' ') } }),
      );
      if (env.json) printJson({ token });
      else print(token);
      return EXIT.ok;
    }
    case 'client-oauth': {
      const [domain, redirectUri, clientName, softwareId] = positionals(parsed, ['domain', 'redirect_uri', 'client_name', 'software_id'], usage);
      const env = envFor(parsed);
      const client = await env.call(
        createOAuthClient({
          client: env.client,
          path: { domain: domain! },
          body: {
            redirect_uris: [redirectUri!],
            client_name: clientName!,
            software_id: softwareId!,
            ...(v['allow-login-scope'] === true ? { allow_login_scope: true } : {}),
            ...(v.flagship === true ? { flagship: true } : {}),
          },
        }),
      );
      if (env.json) printJson(client);
      else print(keyValues(clientEntries(client)));
      return EXIT.ok;
    }
    case 'mails': {
      const [domain] = positionals(parsed, ['domain'], usage);
      const env = envFor(parsed);
      const { mails } = await env.call(listMails({ client: env.client, path: { domain: domain! } }));
      if (env.json) printJson({ mails });
      else printMails(mails);
      return EXIT.ok;
    }
    case 'group':
      print(usage);
      return EXIT.ok;
  }
}

export const INSTANCES_USAGE = USAGE.group;

export async function instancesCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) {
    warn(USAGE.group);
    return EXIT.usage;
  }
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    print(USAGE.group);
    return EXIT.ok;
  }
  if (!(sub in USAGE) || sub === 'group') throw new CliError(`unknown instances command "${sub}"`, EXIT.usage, USAGE.group);
  return runSub(sub as Sub, rest);
}
