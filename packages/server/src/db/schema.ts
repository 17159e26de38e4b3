// Table types of the Hearth database, as Kysely sees them.
//
// Storage conventions, identical in SQLite and PostgreSQL:
// - booleans are integers 0/1 (`Bool`); the repositories convert them to real booleans;
// - JSON values are text (`JsonText`); the repositories parse and serialize them;
// - timestamps are integer epoch milliseconds (`EpochMs`; bigint in PostgreSQL, read back as a JS
//   number thanks to the int8 type parser installed by openDatabase);
// - ids are 32 lowercase hex characters (random);
// - binary data is a blob (SQLite) or bytea (PostgreSQL), read back as a Buffer.
//
// These are the raw rows: only the repositories (src/repositories) should touch them.

export type Bool = number; // 0 | 1
export type JsonText = string;
export type EpochMs = number;

export interface InstancesTable {
  id: string;
  domain: string;
  old_domain: string | null;
  locale: string;
  context: string | null;
  uuid: string | null;
  oidc_id: string | null;
  franceconnect_id: string | null;
  auth_mode: string; // 'basic' | 'two_factor_mail' | 'two_factor_oidc'
  magic_link: Bool;
  blocked: Bool;
  blocking_reason: string | null;
  deleting: Bool;
  onboarding_finished: Bool;
  password_defined: Bool | null;
  no_auto_update: Bool;
  disk_quota: number | null;
  disk_files_bytes: number;
  disk_versions_bytes: number;
  disk_trash_bytes: number;
  passphrase_hash: string | null;
  passphrase_kdf: number;
  passphrase_kdf_iterations: number;
  passphrase_hint: string | null;
  passphrase_reset_token: string | null;
  passphrase_reset_at: EpochMs | null;
  register_token: string | null;
  session_secret: string; // base64 of random bytes
  oauth_secret: string;
  cli_secret: string;
  feature_flags: JsonText; // object
  feature_sets: JsonText; // string[]
  tos: string | null;
  tos_latest: string | null;
  sponsorships: JsonText; // string[]
  org_domain: string | null;
  org_id: string | null;
  security_stamp: string | null;
  vault_key: string | null;
  vault_public_key: string | null;
  vault_private_key: string | null;
  vault_extension_installed: Bool;
  last_activity_from_deleted_oauth_clients: EpochMs | null;
  created_at: EpochMs;
  updated_at: EpochMs;
}

export interface SettingsDocsTable {
  instance_id: string;
  doc: JsonText;
  rev: string; // `N-<32 hex>`
}

export interface SessionsTable {
  id: string;
  instance_id: string;
  created_at: EpochMs;
  last_seen: EpochMs;
  long_run: Bool;
  short_run: Bool;
  sid: string | null;
  oidc_provider_key: string | null;
  rev: string;
}

export interface LoginHistoryTable {
  id: string;
  instance_id: string;
  session_id: string | null;
  method: string;
  ip: string | null;
  user_agent: string | null;
  os: string | null;
  browser: string | null;
  client_registration: Bool;
  created_at: EpochMs;
}

export interface OAuthClientsTable {
  id: string;
  instance_id: string;
  client_name: string;
  client_kind: string | null;
  software_id: string;
  pending: Bool;
  flagship: Bool;
  certified_from_store: Bool;
  allow_login_scope: Bool;
  created_at_onboarding: Bool;
  notification_platform: string | null;
  notification_device_token: string | null;
  metadata: JsonText; // the full registered metadata (object)
  client_secret: string;
  created_at: EpochMs;
  updated_at: EpochMs;
  last_refreshed_at: EpochMs | null;
  synchronized_at: EpochMs | null;
  oidc_session_id: string | null;
  rev: string;
}

export interface AccessCodesTable {
  code: string;
  instance_id: string;
  client_id: string;
  scope: string;
  code_challenge: string | null;
  issued_at: EpochMs;
}

export interface CodesTable {
  scope: string; // an instance id, or `context:<ctx>`
  kind: string;
  code: string;
  data: JsonText;
  expires_at: EpochMs | null;
}

export interface RateLimitsTable {
  scope: string;
  counter: string;
  window_start: EpochMs;
  count: number;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface JobsTable {
  id: string;
  queue: string;
  instance_id: string | null;
  payload: JsonText;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_at: EpochMs;
  locked_by: string | null;
  locked_until: EpochMs | null;
  last_error: string | null;
  created_at: EpochMs;
  updated_at: EpochMs;
}

export type MailStatus = 'queued' | 'sending' | 'sent' | 'recorded' | 'failed';

export interface MailsTable {
  id: string;
  instance_id: string;
  job_id: string | null;
  to_addr: string;
  from_addr: string | null;
  subject: string;
  text_body: string;
  html_body: string | null;
  template: string;
  mode: string;
  status: MailStatus;
  attempts: number;
  last_error: string | null;
  created_at: EpochMs;
  sent_at: EpochMs | null;
}

export interface AppsTable {
  instance_id: string;
  slug: string;
  type: string; // 'webapp' | 'konnector'
  name: string;
  editor: string | null;
  version: string | null;
  permissions: JsonText;
  notifications: JsonText;
  created_at: EpochMs;
}

export interface AvatarsTable {
  instance_id: string;
  content_type: string;
  data: Buffer;
  updated_at: EpochMs;
}

export interface NotificationsTable {
  id: string;
  instance_id: string;
  source_id: string;
  doc: JsonText;
  state: JsonText | null;
  created_at: EpochMs;
  last_sent: EpochMs | null;
}

export interface FeatureFlagSourcesTable {
  kind: string; // 'context' | 'default'
  context: string; // '' for the default source
  flags: JsonText;
}

export interface Database {
  instances: InstancesTable;
  settings_docs: SettingsDocsTable;
  sessions: SessionsTable;
  login_history: LoginHistoryTable;
  oauth_clients: OAuthClientsTable;
  access_codes: AccessCodesTable;
  codes: CodesTable;
  rate_limits: RateLimitsTable;
  jobs: JobsTable;
  mails: MailsTable;
  apps: AppsTable;
  avatars: AvatarsTable;
  notifications: NotificationsTable;
  feature_flag_sources: FeatureFlagSourcesTable;
}
