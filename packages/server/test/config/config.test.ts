// Configuration: HEARTH_* variables plus the optional YAML file, defaults, typed accessors, and
// errors that name every bad key without ever repeating a secret.
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  APPLE_APP_ATTESTATION_ROOT_CA_PEM,
  AVATAR_BODY_LIMIT,
  clouderyConfig,
  ConfigError,
  contextConfig,
  DEV_ADMIN_PASSPHRASE,
  deprecatedApp,
  describeConfig,
  instanceBaseUrl,
  loadConfig,
  oidcConfig,
  registriesFor,
  skipCertification,
  type LoadConfigOptions,
} from '../../src/config/config.js';
import { APPLE_APP_ATTESTATION_ROOT_CA_SHA256 } from '../../src/config/apple-root-ca.js';

const CWD = '/srv/hearth';

function load(env: Record<string, string> = {}, yaml?: string, extra: Partial<LoadConfigOptions> = {}) {
  return loadConfig({ env, yaml, cwd: CWD, ...extra });
}

/** The ConfigError thrown by a load, as `{path: message}`. */
function errorsOf(fn: () => unknown): { err: ConfigError; byPath: Record<string, string> } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const err = e as ConfigError;
    return { err, byPath: Object.fromEntries(err.issues.map((i) => [i.path, i.message])) };
  }
  throw new Error('expected a ConfigError');
}

const tmp = mkdtempSync(path.join(tmpdir(), 'hearth-config-'));

describe('loadConfig: environment', () => {
  it('has development defaults', () => {
    const c = load();
    expect(c.env).toBe('development');
    expect(c.host).toBe('0.0.0.0');
    expect(c.port).toBe(8080);
    expect(c.admin).toEqual({ host: '127.0.0.1', port: 6060, passphrase: DEV_ADMIN_PASSPHRASE, passphraseIsDevDefault: true });
    expect(c.warnings.join('\n')).toContain('HEARTH_ADMIN_PASSPHRASE');
    expect(c.dataDir).toBe('/srv/hearth/.hearth');
    expect(c.database).toEqual({ kind: 'sqlite', path: '/srv/hearth/.hearth/hearth.sqlite' });
    expect(c.mail).toEqual({ smtpUrl: null, from: 'Hearth <noreply@hearth.localhost>', fromAddress: 'noreply@hearth.localhost', fromName: 'Hearth' });
    expect(c.amqpUrl).toBeNull();
    expect(c.redisUrl).toBeNull();
    expect(c.logLevel).toBe('info');
    expect(c.secureCookies).toBe(false);
    expect(c.publicScheme).toBe('http');
    expect(c.bodyLimit).toBe(1024 * 1024);
    expect(c.avatarBodyLimit).toBe(AVATAR_BODY_LIMIT);
    expect(AVATAR_BODY_LIMIT).toBe(20_000_000);
    expect(c.demoInstance).toBe('alice.localhost:8080');
    expect(c.configFile).toBeNull();
    expect(c.subdomains).toBe('nested');
    expect(c.registries).toEqual({ default: ['https://apps-registry.cozycloud.cc/'] });
    expect(c.passwordResetIntervalMs).toBe(15 * 60_000);
    expect(c.notifications).toEqual({ fcm: null, apns: null });
    expect(c.featureFlags).toEqual({ default: {}, contexts: {} });
    expect(c.flagship.apkPackageNames).toEqual(['io.cozy.drive.mobile', 'io.cozy.flagship.mobile']);
    expect(c.flagship.apkCertificateDigests).toEqual(['u2eUUnfB4Y7k7eqQL7u2jiYDJeVBwZoSV3PZSs8pttc=']);
    expect(c.flagship.appleAppIds).toEqual(['3AKXFMV43J.io.cozy.drive.mobile', '3AKXFMV43J.io.cozy.flagship.mobile']);
    expect(c.flagship.playIntegrityDecryptionKeys).toEqual([]);
    expect(c.flagship.playIntegrityVerificationKeys).toEqual([]);
    expect(c.flagship.appleAppAttestRootCa).toBe(APPLE_APP_ATTESTATION_ROOT_CA_PEM);
    expect(c.flagship.appleAppAttestEnvironment).toBe('production');
  });

  it('test env behaves like development', () => {
    const c = load({ HEARTH_ENV: 'test' });
    expect(c.env).toBe('test');
    expect(c.admin.passphraseIsDevDefault).toBe(true);
    expect(c.publicScheme).toBe('http');
  });

  it('has production defaults and requires an admin passphrase there', () => {
    const { byPath } = errorsOf(() => load({ HEARTH_ENV: 'production' }));
    expect(Object.keys(byPath)).toEqual(['HEARTH_ADMIN_PASSPHRASE']);
    expect(byPath.HEARTH_ADMIN_PASSPHRASE).toMatch(/required/);
    expect(errorsOf(() => load({ HEARTH_ENV: 'production', HEARTH_ADMIN_PASSPHRASE: DEV_ADMIN_PASSPHRASE })).byPath.HEARTH_ADMIN_PASSPHRASE).toMatch(
      /development default/,
    );
    const c = load({ HEARTH_ENV: 'production', HEARTH_ADMIN_PASSPHRASE: 's3cret-admin' });
    expect(c.admin.passphrase).toBe('s3cret-admin');
    expect(c.admin.passphraseIsDevDefault).toBe(false);
    expect(c.secureCookies).toBe(true);
    expect(c.publicScheme).toBe('https');
    expect(c.demoInstance).toBeNull();
    expect(c.warnings).toEqual([]);
  });

  it('reads every variable', () => {
    const c = load({
      HEARTH_HOST: '::',
      HEARTH_PORT: '0',
      HEARTH_ADMIN_HOST: 'localhost',
      HEARTH_ADMIN_PORT: '7070',
      HEARTH_ADMIN_PASSPHRASE: 'pw',
      HEARTH_DATA_DIR: 'var/data',
      HEARTH_DATABASE_URL: 'postgres://hearth:pw@db:5432/hearth',
      HEARTH_SMTP_URL: 'smtps://u:p@mail.example.net:465',
      HEARTH_MAIL_FROM: 'noreply@example.net',
      HEARTH_AMQP_URL: 'amqp://guest:guest@rabbit:5672/',
      HEARTH_REDIS_URL: 'redis://redis:6379/0',
      HEARTH_LOG_LEVEL: 'WARNING',
      HEARTH_SECURE_COOKIES: 'yes',
      HEARTH_PUBLIC_SCHEME: 'https',
      HEARTH_BODY_LIMIT: '512kb',
      HEARTH_DEMO_INSTANCE: 'Bob.Localhost:9090',
    });
    expect([c.host, c.port, c.admin.host, c.admin.port, c.admin.passphrase]).toEqual(['::', 0, 'localhost', 7070, 'pw']);
    expect(c.dataDir).toBe('/srv/hearth/var/data');
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://hearth:pw@db:5432/hearth' });
    expect(c.mail).toEqual({ smtpUrl: 'smtps://u:p@mail.example.net:465', from: 'noreply@example.net', fromAddress: 'noreply@example.net', fromName: null });
    expect(c.amqpUrl).toBe('amqp://guest:guest@rabbit:5672/');
    expect(c.redisUrl).toBe('redis://redis:6379/0');
    expect(c.warnings).toContainEqual(expect.stringMatching(/^HEARTH_REDIS_URL is set but not used/));
    expect(c.logLevel).toBe('warn');
    expect(c.secureCookies).toBe(true);
    expect(c.publicScheme).toBe('https');
    expect(c.bodyLimit).toBe(512 * 1024);
    expect(c.demoInstance).toBe('bob.localhost:9090');
    expect(instanceBaseUrl(c, 'alice.example.net')).toBe('https://alice.example.net');
  });

  it('accepts sqlite URLs and an empty demo instance', () => {
    expect(load({ HEARTH_DATABASE_URL: 'sqlite::memory:' }).database).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(load({ HEARTH_DATABASE_URL: 'sqlite:db/h.sqlite' }).database).toEqual({ kind: 'sqlite', path: '/srv/hearth/db/h.sqlite' });
    expect(load({ HEARTH_DEMO_INSTANCE: '' }).demoInstance).toBeNull();
    expect(load({ HEARTH_BODY_LIMIT: '100000' }).bodyLimit).toBe(100000);
  });

  it('names every bad variable, all at once', () => {
    const bad: Record<string, string> = {
      HEARTH_ENV: 'staging',
      HEARTH_HOST: 'not a host!',
      HEARTH_PORT: '80800',
      HEARTH_ADMIN_HOST: '-bad-.',
      HEARTH_ADMIN_PORT: 'six',
      HEARTH_DATABASE_URL: 'mysql://root:TopSecretDb@db/hearth',
      HEARTH_SMTP_URL: 'http://u:TopSecretSmtp@mail',
      HEARTH_MAIL_FROM: 'nobody',
      HEARTH_AMQP_URL: 'nope',
      HEARTH_REDIS_URL: 'memcache://x',
      HEARTH_LOG_LEVEL: 'loud',
      HEARTH_SECURE_COOKIES: 'maybe',
      HEARTH_PUBLIC_SCHEME: 'ftp',
      HEARTH_BODY_LIMIT: '1 parsec',
      HEARTH_DEMO_INSTANCE: 'alice localhost',
    };
    const { err, byPath } = errorsOf(() => load(bad));
    expect(Object.keys(byPath).sort()).toEqual(Object.keys(bad).sort());
    for (const key of Object.keys(bad)) expect(err.message).toContain(`${key}: `);
    expect(err.message).not.toContain('TopSecret');
    for (const value of Object.values(bad)) {
      if (value.length > 4) expect(err.message).not.toContain(value);
    }
  });

  it('warns about unknown HEARTH_* variables', () => {
    expect(load({ HEARTH_PROT: '1' }).warnings).toContain('unknown environment variable HEARTH_PROT (ignored)');
  });
});

// ---------------------------------------------------------------------------------------------

function ecSpkiBase64(): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
}

const apnsKeyPath = path.join(tmp, 'AuthKey_ABC.p8');
writeFileSync(apnsKeyPath, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
const caPath = path.join(tmp, 'root.pem');
writeFileSync(caPath, APPLE_APP_ATTESTATION_ROOT_CA_PEM);
const fcmPath = path.join(tmp, 'fcm.json');
writeFileSync(fcmPath, JSON.stringify({ type: 'service_account', project_id: 'hearth-push', private_key: 'PRIVATE-FCM', token_uri: 'http://127.0.0.1:9/token' }));

const FULL = `
subdomains: flat
contexts:
  default:
    onboarded_redirection: home/intro
    default_redirection: drive/#/folder
    help_link: https://help.example.net/
    manager_url: https://manager.example.net/
    enable_premium_links: true
    support_address: support@example.net
    noreply_address: noreply@example.net
    signup_url: https://signup.example.net/
    features:
      - hide_konnector_errors
      - home.konnectors.hide-errors: true
      - home_hidden_apps:
          - foobar
    logos:
      home:
        light:
          - src: /logos/main.png
            alt: Main
    antivirus:
      enabled: true
    claudy_actions: [desktop, support]
    onlyoffice_secret: TopSecretContext
  beta:
    features:
      flag.a: 1
      flag.b: "two"
    disable_password_authentication: true
authentication:
  beta:
    oidc:
      client_id: hearth
      client_secret: TopSecretOidc
      scope: openid profile
      redirect_uri: https://oauthcallback.example.net/oidc/redirect
      authorize_url: https://idp.example.net/authorize
      token_url: https://idp.example.net/token
      userinfo_url: https://idp.example.net/userinfo
      userinfo_instance_field: cozy_number
      userinfo_instance_prefix: name
      userinfo_instance_suffix: .example.net
      id_token_jwk_url: https://idp.example.net/jwks
      allow_oauth_token: true
      allow_custom_instance: false
      logout_url: https://idp.example.net/logout
      end_session_endpoint: https://idp.example.net/end
flagship:
  apk_package_names: [io.example.app]
  apk_certificate_digests: ["${randomBytes(32).toString('base64')}", "${randomBytes(32).toString('base64url')}"]
  play_integrity_decryption_keys: ["${randomBytes(32).toString('base64')}"]
  play_integrity_verification_keys: ["${ecSpkiBase64()}"]
  apple_app_ids: [ABCDE12345.io.example.app]
  apple_app_attest_root_ca: root.pem
  apple_app_attest_environment: development
  contexts:
    cozy_beta:
      skip_certification: true
clouderies:
  default:
    api:
      url: https://manager.example.net/
      token: TopSecretCloudery
  beta:
    api:
      url: http://127.0.0.1:4444/
      token: TopSecretCloudery2
registries:
  default:
    - https://apps-registry.cozycloud.cc/
  beta:
    - http://127.0.0.1:5555/
deprecated_apps:
  apps:
    - software_id: github.com/cozy/cozy-drive
      name: Cozy Drive (mobile)
      store_urls:
        android: https://play.google.com/store/apps/details?id=io.cozy.flagship.mobile
        iphone: https://apps.apple.com/app/id1600636174
password_reset_interval: 1h30m
notifications:
  fcm:
    url: http://127.0.0.1:6666/
    credentials: fcm.json
  apns:
    url: http://127.0.0.1:7777/
    key_id: ABC
    team_id: TEAM123456
    private_key: ${path.basename(apnsKeyPath)}
    topic: io.example.app
feature_flags:
  default:
    cozy.oauthclients.max: 5
    ui.new: [{ratio: 0.25, value: true}, {ratio: 0.75, value: false}]
  contexts:
    beta:
      cozy.oauthclients.max: [{ratio: 1, value: 50}]
`;

describe('loadConfig: YAML file', () => {
  const file = path.join(tmp, 'hearth.yaml');
  writeFileSync(file, FULL);

  it('reads every section (through HEARTH_CONFIG, relative paths from the file)', () => {
    const c = loadConfig({ env: { HEARTH_CONFIG: file }, cwd: CWD });
    expect(c.configFile).toBe(file);
    expect(c.subdomains).toBe('flat');

    // contexts: kept as they are, with a typed view.
    expect(c.contexts.default?.claudy_actions).toEqual(['desktop', 'support']);
    const def = contextConfig(c, 'default');
    expect(def).toMatchObject({
      name: 'default',
      onboardedRedirection: 'home/intro',
      defaultRedirection: 'drive/#/folder',
      helpLink: 'https://help.example.net/',
      managerUrl: 'https://manager.example.net/',
      enablePremiumLinks: true,
      supportAddress: 'support@example.net',
      noreplyAddress: 'noreply@example.net',
      signupUrl: 'https://signup.example.net/',
      disablePasswordAuthentication: false,
      antivirus: { enabled: true },
    });
    expect(def.features).toEqual({ hide_konnector_errors: true, 'home.konnectors.hide-errors': true, home_hidden_apps: ['foobar'] });
    expect(def.logos).toEqual({ home: { light: [{ src: '/logos/main.png', alt: 'Main' }] } });
    expect(def.raw).toBe(c.contexts.default);
    const beta = contextConfig(c, 'beta');
    expect(beta.features).toEqual({ 'flag.a': 1, 'flag.b': 'two' });
    expect(beta.disablePasswordAuthentication).toBe(true);

    // authentication
    expect(oidcConfig(c, 'beta')).toEqual({
      clientId: 'hearth',
      clientSecret: 'TopSecretOidc',
      scope: 'openid profile',
      redirectUri: 'https://oauthcallback.example.net/oidc/redirect',
      authorizeUrl: 'https://idp.example.net/authorize',
      tokenUrl: 'https://idp.example.net/token',
      userinfoUrl: 'https://idp.example.net/userinfo',
      userinfoInstanceField: 'cozy_number',
      userinfoInstancePrefix: 'name',
      userinfoInstanceSuffix: '.example.net',
      idTokenJwkUrl: 'https://idp.example.net/jwks',
      allowOauthToken: true,
      allowCustomInstance: false,
      logoutUrl: 'https://idp.example.net/logout',
      endSessionEndpoint: 'https://idp.example.net/end',
    });

    // flagship
    expect(c.flagship.apkPackageNames).toEqual(['io.example.app']);
    expect(c.flagship.apkCertificateDigests).toHaveLength(2);
    expect(c.flagship.playIntegrityDecryptionKeys).toHaveLength(1);
    expect(c.flagship.playIntegrityVerificationKeys).toHaveLength(1);
    expect(c.flagship.appleAppIds).toEqual(['ABCDE12345.io.example.app']);
    expect(c.flagship.appleAppAttestRootCa).toBe(APPLE_APP_ATTESTATION_ROOT_CA_PEM);
    expect(c.flagship.appleAppAttestEnvironment).toBe('development');
    expect(skipCertification(c, 'cozy_beta')).toBe(true);
    expect(skipCertification(c, 'default')).toBe(false);
    expect(skipCertification(c, undefined)).toBe(false);

    // clouderies, registries, deprecated apps, interval
    expect(clouderyConfig(c, 'beta')).toEqual({ api: { url: 'http://127.0.0.1:4444/', token: 'TopSecretCloudery2' } });
    expect(clouderyConfig(c, 'other')?.api.url).toBe('https://manager.example.net/');
    expect(registriesFor(c, 'beta')).toEqual(['http://127.0.0.1:5555/']);
    expect(registriesFor(c, 'other')).toEqual(['https://apps-registry.cozycloud.cc/']);
    expect(c.deprecatedApps).toEqual([
      {
        softwareId: 'github.com/cozy/cozy-drive',
        name: 'Cozy Drive (mobile)',
        storeUrls: {
          android: 'https://play.google.com/store/apps/details?id=io.cozy.flagship.mobile',
          iphone: 'https://apps.apple.com/app/id1600636174',
        },
      },
    ]);
    expect(deprecatedApp(c, 'github.com/cozy/cozy-drive')?.name).toBe('Cozy Drive (mobile)');
    expect(deprecatedApp(c, 'other')).toBeNull();
    expect(c.passwordResetIntervalMs).toBe(90 * 60_000);

    // notifications
    expect(c.notifications.fcm).toMatchObject({ url: 'http://127.0.0.1:6666/', projectId: 'hearth-push', tokenUrl: 'http://127.0.0.1:9/token' });
    expect(c.notifications.fcm?.credentials?.type).toBe('service_account');
    expect(c.notifications.apns).toMatchObject({ url: 'http://127.0.0.1:7777/', keyId: 'ABC', teamId: 'TEAM123456', topic: 'io.example.app' });
    expect(c.notifications.apns?.privateKey).toContain('-----BEGIN PRIVATE KEY-----');

    // feature flags
    expect(c.featureFlags.default).toEqual({
      'cozy.oauthclients.max': [{ ratio: 1, value: 5 }],
      'ui.new': [
        { ratio: 0.25, value: true },
        { ratio: 0.75, value: false },
      ],
    });
    expect(c.featureFlags.contexts.beta).toEqual({ 'cozy.oauthclients.max': [{ ratio: 1, value: 50 }] });
  });

  it('a context falls back to default; OIDC and skip_certification do not', () => {
    const c = loadConfig({ file, cwd: CWD, env: {} });
    expect(contextConfig(c, 'unknown').name).toBe('default');
    expect(contextConfig(c, undefined).onboardedRedirection).toBe('home/intro');
    expect(contextConfig(c, '').name).toBe('default');
    expect(oidcConfig(c, 'unknown')).toBeNull();
    expect(oidcConfig(c, undefined)).toBeNull();
    expect(skipCertification(c, 'unknown')).toBe(false);
    const empty = load();
    expect(contextConfig(empty, 'x')).toMatchObject({ name: 'default', features: {}, raw: {}, managerUrl: null });
    expect(clouderyConfig(empty, 'x')).toBeNull();
  });

  it('reads disable_password_authentication from authentication.<ctx> too', () => {
    const c = load({}, 'authentication:\n  corp:\n    disable_password_authentication: true\n');
    expect(contextConfig(c, 'corp').disablePasswordAuthentication).toBe(true);
    expect(contextConfig(c, 'other').disablePasswordAuthentication).toBe(false);
  });

  it('accepts registries as a bare list and an empty file', () => {
    expect(load({}, 'registries:\n  - http://127.0.0.1:1/\n').registries).toEqual({ default: ['http://127.0.0.1:1/'] });
    expect(load({}, '').subdomains).toBe('nested');
    expect(load({}, '# only a comment\n').contexts).toEqual({});
  });

  it('describeConfig is redacted', () => {
    const c = loadConfig({
      env: {
        HEARTH_CONFIG: file,
        HEARTH_ADMIN_PASSPHRASE: 'TopSecretAdmin',
        HEARTH_DATABASE_URL: 'postgres://hearth:TopSecretDb@db/hearth',
        HEARTH_SMTP_URL: 'smtp://u:TopSecretSmtp@mail:25',
        HEARTH_REDIS_URL: 'redis://:TopSecretRedis@redis:6379',
        HEARTH_AMQP_URL: 'amqp://u:TopSecretAmqp@rabbit',
      },
      cwd: CWD,
    });
    const text = JSON.stringify(describeConfig(c));
    expect(text).not.toMatch(/TopSecret/);
    expect(text).not.toContain('PRIVATE-FCM');
    expect(text).not.toContain(c.flagship.playIntegrityDecryptionKeys[0]!);
    expect(text).not.toContain('BEGIN PRIVATE KEY');
    expect(text).toContain('postgres://hearth:***@db/hearth');
    expect(text).toContain('https://idp.example.net/token');
    expect(text).toContain(APPLE_APP_ATTESTATION_ROOT_CA_SHA256);
    const dev = JSON.stringify(describeConfig(load()));
    expect(dev).toContain('development default');
  });
});

describe('loadConfig: YAML errors', () => {
  it('names unknown top-level keys, pointing to the variable when Hearth reads it from the environment', () => {
    const { byPath } = errorsOf(() => load({}, 'host: 0.0.0.0\nfoo: 1\nsubdomains: nested\n'));
    expect(Object.keys(byPath).sort()).toEqual(['foo', 'host']);
    expect(byPath.host).toContain('HEARTH_HOST');
    expect(byPath.foo).toContain('unknown top-level key');
  });

  it('names every bad key with its path, all at once', () => {
    const yaml = `
subdomains: sideways
contexts:
  default:
    features: 42
    help_link: not-a-url
    enable_premium_links: perhaps
  beta:
    features:
      - ok
      - [a, b]
      - {a: 1, b: 2}
  broken: [1, 2]
authentication:
  corp:
    oidc:
      client_secret: 12345
      authorize_url: idp/authorize
      tokn_url: https://x
    saml: {}
flagship:
  apk_certificate_digests: [short]
  play_integrity_decryption_keys: [AAAA]
  play_integrity_verification_keys: [bm90IGEga2V5]
  apple_app_ids: [io.cozy.flagship.mobile]
  apple_app_attest_root_ca: /nonexistent/root.pem
  apple_app_attest_environment: staging
  contexts:
    beta:
      skip_certification: sure
  unknown_key: 1
clouderies:
  default:
    api:
      url: https://manager.example.net/
registries:
  beta: [ftp://registry]
deprecated_apps:
  apps:
    - name: Only a name
password_reset_interval: 15 minutes
notifications:
  apns:
    key_id: ABC
    private_key: |
      -----BEGIN PRIVATE KEY-----
      bm90IGEga2V5
      -----END PRIVATE KEY-----
  huawei: {}
feature_flags:
  default:
    too.much: [{ratio: 0.8, value: 1}, {ratio: 0.5, value: 2}]
    bad.rule: [1, 2]
  contexts:
    beta:
      neg: [{ratio: -1, value: x}]
`;
    const { err, byPath } = errorsOf(() => load({}, yaml));
    const expected = [
      'subdomains',
      'contexts.default.features',
      'contexts.default.help_link',
      'contexts.default.enable_premium_links',
      'contexts.beta.features[1]',
      'contexts.beta.features[2]',
      'contexts.broken',
      'authentication.corp.oidc.client_secret',
      'authentication.corp.oidc.authorize_url',
      'authentication.corp.oidc.tokn_url',
      'authentication.corp.saml',
      'flagship.apk_certificate_digests[0]',
      'flagship.play_integrity_decryption_keys[0]',
      'flagship.play_integrity_verification_keys[0]',
      'flagship.apple_app_ids[0]',
      'flagship.apple_app_attest_root_ca',
      'flagship.apple_app_attest_environment',
      'flagship.contexts.beta.skip_certification',
      'flagship.unknown_key',
      'clouderies.default.api.token',
      'registries.beta[0]',
      'deprecated_apps.apps[0].software_id',
      'password_reset_interval',
      'notifications.apns.team_id',
      'notifications.apns.private_key',
      'notifications.huawei',
      'feature_flags.default["too.much"]',
      'feature_flags.default["bad.rule"][0]',
      'feature_flags.default["bad.rule"][1]',
      'feature_flags.contexts.beta.neg[0].ratio',
    ];
    expect(Object.keys(byPath).sort()).toEqual([...expected].sort());
    for (const p of expected) expect(err.message).toContain(`  - ${p}: `);
    // The secret of a mistyped key is not echoed, nor any rejected value.
    expect(err.message).not.toContain('12345');
    expect(err.message).not.toContain('bm90IGEga2V5');
    expect(err.message).not.toContain('sideways');
  });

  it('reports YAML syntax errors by position, without quoting the line', () => {
    const { err, byPath } = errorsOf(() => load({}, 'authentication:\n  corp:\n    oidc:\n      client_secret: "TopSecretUnclosed\n'));
    expect(Object.keys(byPath)).toEqual(['yaml']);
    expect(err.message).toMatch(/YAML syntax error at line \d+, column \d+/);
    expect(err.message).not.toContain('TopSecret');
    const dup = errorsOf(() => load({}, 'subdomains: flat\nsubdomains: nested\n'));
    expect(dup.err.message).toContain('DUPLICATE_KEY');
    expect(errorsOf(() => load({}, '- a\n- b\n')).byPath.yaml).toContain('must be a map');
  });

  it('names HEARTH_CONFIG when the file cannot be read', () => {
    const { byPath } = errorsOf(() => load({ HEARTH_CONFIG: '/nonexistent/hearth.yaml' }));
    expect(byPath.HEARTH_CONFIG).toContain('ENOENT');
    expect(errorsOf(() => load({}, undefined, { file: '/nonexistent/x.yaml' })).byPath['config file']).toContain('ENOENT');
  });

  it('reports environment and file problems together', () => {
    const { byPath } = errorsOf(() => load({ HEARTH_PORT: 'x' }, 'subdomains: 3\n'));
    expect(Object.keys(byPath).sort()).toEqual(['HEARTH_PORT', 'subdomains']);
  });
});

describe('the embedded Apple App Attestation Root CA', () => {
  it('is the genuine, self-signed certificate', () => {
    const c = new X509Certificate(APPLE_APP_ATTESTATION_ROOT_CA_PEM);
    expect(c.subject).toContain('CN=Apple App Attestation Root CA');
    expect(c.fingerprint256).toBe(APPLE_APP_ATTESTATION_ROOT_CA_SHA256);
    expect(c.serialNumber).toBe('0BF3BE0EF1CDD2E0FB8C6E721F621798');
    expect(c.verify(c.publicKey)).toBe(true);
    expect(c.checkIssued(c)).toBe(true);
    expect(new Date(c.validTo).getUTCFullYear()).toBe(2045);
  });
});
