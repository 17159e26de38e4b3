// The initial schema, written once for SQLite and PostgreSQL (see the conventions in ../schema.ts).

import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Column types, spelled the same in both engines except for binary data.
// In SQLite `bigint` has INTEGER affinity, so it stores the same 64-bit integers.
const TEXT = 'text';
const INT = 'integer';
const BIG = 'bigint'; // timestamps (epoch ms) and byte counts
const BOOL = 'integer'; // 0/1

function binaryType(db: Kysely<any>) {
  return db.getExecutor().adapter instanceof PostgresAdapter ? sql`bytea` : sql`blob`;
}

const cascade = 'cascade' as const;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('instances')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('domain', TEXT, (c) => c.notNull().unique())
    .addColumn('old_domain', TEXT)
    .addColumn('locale', TEXT, (c) => c.notNull().defaultTo('en'))
    .addColumn('context', TEXT)
    .addColumn('uuid', TEXT)
    .addColumn('oidc_id', TEXT)
    .addColumn('franceconnect_id', TEXT)
    .addColumn('auth_mode', TEXT, (c) => c.notNull().defaultTo('basic'))
    .addColumn('magic_link', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('blocked', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('blocking_reason', TEXT)
    .addColumn('deleting', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('onboarding_finished', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('password_defined', BOOL)
    .addColumn('no_auto_update', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('disk_quota', BIG)
    .addColumn('disk_files_bytes', BIG, (c) => c.notNull().defaultTo(0))
    .addColumn('disk_versions_bytes', BIG, (c) => c.notNull().defaultTo(0))
    .addColumn('disk_trash_bytes', BIG, (c) => c.notNull().defaultTo(0))
    .addColumn('passphrase_hash', TEXT)
    .addColumn('passphrase_kdf', INT, (c) => c.notNull().defaultTo(0))
    .addColumn('passphrase_kdf_iterations', INT, (c) => c.notNull().defaultTo(0))
    .addColumn('passphrase_hint', TEXT)
    .addColumn('passphrase_reset_token', TEXT)
    .addColumn('passphrase_reset_at', BIG)
    .addColumn('register_token', TEXT)
    .addColumn('session_secret', TEXT, (c) => c.notNull())
    .addColumn('oauth_secret', TEXT, (c) => c.notNull())
    .addColumn('cli_secret', TEXT, (c) => c.notNull())
    .addColumn('feature_flags', TEXT, (c) => c.notNull().defaultTo('{}'))
    .addColumn('feature_sets', TEXT, (c) => c.notNull().defaultTo('[]'))
    .addColumn('tos', TEXT)
    .addColumn('tos_latest', TEXT)
    .addColumn('sponsorships', TEXT, (c) => c.notNull().defaultTo('[]'))
    .addColumn('org_domain', TEXT)
    .addColumn('org_id', TEXT)
    .addColumn('security_stamp', TEXT)
    .addColumn('vault_key', TEXT)
    .addColumn('vault_public_key', TEXT)
    .addColumn('vault_private_key', TEXT)
    .addColumn('vault_extension_installed', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('last_activity_from_deleted_oauth_clients', BIG)
    .addColumn('created_at', BIG, (c) => c.notNull())
    .addColumn('updated_at', BIG, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('instances_old_domain_idx').on('instances').column('old_domain').execute();

  await db.schema
    .createTable('settings_docs')
    .addColumn('instance_id', TEXT, (c) => c.primaryKey().references('instances.id').onDelete(cascade))
    .addColumn('doc', TEXT, (c) => c.notNull())
    .addColumn('rev', TEXT, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('instance_id', TEXT, (c) => c.notNull().references('instances.id').onDelete(cascade))
    .addColumn('created_at', BIG, (c) => c.notNull())
    .addColumn('last_seen', BIG, (c) => c.notNull())
    .addColumn('long_run', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('short_run', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('sid', TEXT)
    .addColumn('oidc_provider_key', TEXT)
    .addColumn('rev', TEXT, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_instance_idx').on('sessions').columns(['instance_id', 'last_seen']).execute();
  await db.schema.createIndex('sessions_last_seen_idx').on('sessions').column('last_seen').execute();

  await db.schema
    .createTable('login_history')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('instance_id', TEXT, (c) => c.notNull().references('instances.id').onDelete(cascade))
    .addColumn('session_id', TEXT)
    .addColumn('method', TEXT, (c) => c.notNull())
    .addColumn('ip', TEXT)
    .addColumn('user_agent', TEXT)
    .addColumn('os', TEXT)
    .addColumn('browser', TEXT)
    .addColumn('client_registration', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', BIG, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('login_history_instance_idx')
    .on('login_history')
    .columns(['instance_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('oauth_clients')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('instance_id', TEXT, (c) => c.notNull().references('instances.id').onDelete(cascade))
    .addColumn('client_name', TEXT, (c) => c.notNull())
    .addColumn('client_kind', TEXT)
    .addColumn('software_id', TEXT, (c) => c.notNull())
    .addColumn('pending', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('flagship', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('certified_from_store', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('allow_login_scope', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('created_at_onboarding', BOOL, (c) => c.notNull().defaultTo(0))
    .addColumn('notification_platform', TEXT)
    .addColumn('notification_device_token', TEXT)
    .addColumn('metadata', TEXT, (c) => c.notNull().defaultTo('{}'))
    .addColumn('client_secret', TEXT, (c) => c.notNull())
    .addColumn('created_at', BIG, (c) => c.notNull())
    .addColumn('updated_at', BIG, (c) => c.notNull())
    .addColumn('last_refreshed_at', BIG)
    .addColumn('synchronized_at', BIG)
    .addColumn('oidc_session_id', TEXT)
    .addColumn('rev', TEXT, (c) => c.notNull())
    .addUniqueConstraint('oauth_clients_instance_name_uq', ['instance_id', 'client_name'])
    .execute();
  await db.schema
    .createIndex('oauth_clients_pending_idx')
    .on('oauth_clients')
    .columns(['pending', 'created_at'])
    .execute();

  await db.schema
    .createTable('access_codes')
    .addColumn('code', TEXT, (c) => c.primaryKey())
    .addColumn('instance_id', TEXT, (c) => c.notNull().references('instances.id').onDelete(cascade))
    .addColumn('client_id', TEXT, (c) => c.notNull().references('oauth_clients.id').onDelete(cascade))
    .addColumn('scope', TEXT, (c) => c.notNull())
    .addColumn('code_challenge', TEXT)
    .addColumn('issued_at', BIG, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('access_codes_client_idx').on('access_codes').column('client_id').execute();

  await db.schema
    .createTable('codes')
    .addColumn('scope', TEXT, (c) => c.notNull())
    .addColumn('kind', TEXT, (c) => c.notNull())
    .addColumn('code', TEXT, (c) => c.notNull())
    .addColumn('data', TEXT, (c) => c.notNull().defaultTo('null'))
    .addColumn('expires_at', BIG)
    .addPrimaryKeyConstraint('codes_pk', ['scope', 'kind', 'code'])
    .execute();
  await db.schema.createIndex('codes_expires_idx').on('codes').column('expires_at').execute();

  await db.schema
    .createTable('rate_limits')
    .addColumn('scope', TEXT, (c) => c.notNull())
    .addColumn('counter', TEXT, (c) => c.notNull())
    .addColumn('window_start', BIG, (c) => c.notNull())
    .addColumn('count', INT, (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limits_pk', ['scope', 'counter'])
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('queue', TEXT, (c) => c.notNull())
    .addColumn('instance_id', TEXT)
    .addColumn('payload', TEXT, (c) => c.notNull().defaultTo('null'))
    .addColumn('status', TEXT, (c) => c.notNull().defaultTo('queued'))
    .addColumn('attempts', INT, (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', INT, (c) => c.notNull().defaultTo(20))
    .addColumn('run_at', BIG, (c) => c.notNull())
    .addColumn('locked_by', TEXT)
    .addColumn('locked_until', BIG)
    .addColumn('last_error', TEXT)
    .addColumn('created_at', BIG, (c) => c.notNull())
    .addColumn('updated_at', BIG, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_queue_status_run_at_idx').on('jobs').columns(['queue', 'status', 'run_at']).execute();

  await db.schema
    .createTable('mails')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('instance_id', TEXT, (c) => c.notNull().references('instances.id').onDelete(cascade))
    .addColumn('job_id', TEXT)
    .addColumn('to_addr', TEXT, (c) => c.notNull())
    .addColumn('from_addr', TEXT)
    .addColumn('subject', TEXT, (c) => c.notNull())
    .addColumn('text_body', TEXT, (c) => c.notNull())
    .addColumn('html_body', TEXT)
    .addColumn('template', TEXT, (c) => c.notNull())
    .addColumn('mode', TEXT, (c) => c.notNull())
    .addColumn('status', TEXT, (c) => c.notNull().defaultTo('queued'))
    .addColumn('attempts', INT, (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', TEXT)
    .addColumn('created_at', BIG, (c) => c.notNull())
    .addColumn('sent_at', BIG)
    .execute();
  await db.schema.createIndex('mails_instance_idx').on('mails').columns(['instance_id', 'created_at']).execute();

  await db.schema
    .createTable('apps')
    .addColumn('instance_id', TEXT, (c) => c.notNull().references('instances.id').onDelete(cascade))
    .addColumn('slug', TEXT, (c) => c.notNull())
    .addColumn('type', TEXT, (c) => c.notNull())
    .addColumn('name', TEXT, (c) => c.notNull())
    .addColumn('editor', TEXT)
    .addColumn('version', TEXT)
    .addColumn('permissions', TEXT, (c) => c.notNull().defaultTo('{}'))
    .addColumn('notifications', TEXT, (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', BIG, (c) => c.notNull())
    .addPrimaryKeyConstraint('apps_pk', ['instance_id', 'slug'])
    .execute();

  await db.schema
    .createTable('avatars')
    .addColumn('instance_id', TEXT, (c) => c.primaryKey().references('instances.id').onDelete(cascade))
    .addColumn('content_type', TEXT, (c) => c.notNull())
    .addColumn('data', binaryType(db), (c) => c.notNull())
    .addColumn('updated_at', BIG, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('instance_id', TEXT, (c) => c.notNull().references('instances.id').onDelete(cascade))
    .addColumn('source_id', TEXT, (c) => c.notNull())
    .addColumn('doc', TEXT, (c) => c.notNull())
    .addColumn('state', TEXT)
    .addColumn('created_at', BIG, (c) => c.notNull())
    .addColumn('last_sent', BIG)
    .execute();
  await db.schema
    .createIndex('notifications_source_idx')
    .on('notifications')
    .columns(['instance_id', 'source_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('feature_flag_sources')
    .addColumn('kind', TEXT, (c) => c.notNull())
    .addColumn('context', TEXT, (c) => c.notNull().defaultTo(''))
    .addColumn('flags', TEXT, (c) => c.notNull().defaultTo('{}'))
    .addPrimaryKeyConstraint('feature_flag_sources_pk', ['kind', 'context'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'feature_flag_sources',
    'notifications',
    'avatars',
    'apps',
    'mails',
    'jobs',
    'rate_limits',
    'codes',
    'access_codes',
    'oauth_clients',
    'login_history',
    'sessions',
    'settings_docs',
    'instances',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
