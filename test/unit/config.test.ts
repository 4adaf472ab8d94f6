import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, configHelp, configVariables, loadConfig } from '../../runtime/src/config.ts';
import { normaliseRootPath } from '../../runtime/src/storage/store-path.ts';

/** The least a valid environment needs. */
const MINIMAL = { S3_BUCKET: 'bucket', FTP_USERS_FILE: '/etc/ftp/users.json' } as const;
const TLS_FILES = { FTP_TLS_CERT_FILE: '/tls/cert.pem', FTP_TLS_KEY_FILE: '/tls/key.pem' } as const;

function load(env: Record<string, string>) {
  return loadConfig({ ...MINIMAL, ...env });
}

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  test('a minimal environment gives the documented defaults', () => {
    assert.deepEqual(loadConfig(MINIMAL), {
      listenAddress: '0.0.0.0',
      controlPort: 21,
      implicitTlsPort: 0, // 990 by default, but off while TLS is off
      passivePorts: { first: 30000, last: 30099 },
      passiveAddress: undefined,
      activeMode: false,
      tlsMode: 'off',
      tlsSessionReuse: 'required',
      tlsCloseNotify: 'required',
      tlsHandshakeTimeoutMs: 10_000,
      tlsCredentials: undefined,
      users: { kind: 'file', path: '/etc/ftp/users.json' },
      s3: {
        bucket: 'bucket',
        prefix: '',
        endpoint: undefined,
        forcePathStyle: false,
        region: undefined,
        checksum: 'when_supported',
        partSizeBytes: 8 * 1024 * 1024,
      },
      percentCopy: 'detect',
      uploadBuffer: { bytes: 256 * 1024 * 1024, source: 'fixed default' },
      uploadBufferSharePercent: 50,
      uploadStallMs: 30_000,
      pendingUploadMs: 24 * 3_600_000,
      pendingUploadsFile: undefined,
      dataConnectionTimeoutMs: 30_000,
      loginTimeoutMs: 60_000,
      idleTimeoutMs: 900_000,
      loginFailureDelayMs: 1000,
      lockoutFailures: 5,
      lockoutMs: 900_000,
      renameMaxObjects: 1000,
      checksumReadBytesPerHour: 4096 * 1024 * 1024,
      timeChangesPerHour: 3600,
      renameObjectsPerHour: 10000,
      readBackBytesPerHour: 4096 * 1024 * 1024,
      listClientTimes: true,
      maxConnections: 500,
      maxConnectionsPerAddress: 20,
      state: { table: undefined, endpoint: undefined },
      sessionLeaseMs: 60_000,
      quotaReconcileMs: 300_000,
      healthPort: 8080,
      shutdownGraceMs: 100_000,
      reloadIntervalMs: 10_000,
      logLevel: 'info',
      metrics: undefined,
      uploadEventsBus: undefined,
    });
  });

  test('with TLS credentials, TLS is optional and implicit FTPS listens on 990', () => {
    const config = load(TLS_FILES);
    assert.equal(config.tlsMode, 'optional');
    assert.equal(config.implicitTlsPort, 990);
    assert.deepEqual(config.tlsCredentials, { kind: 'files', certFile: '/tls/cert.pem', keyFile: '/tls/key.pem' });
  });

  test('empty values count as unset', () => {
    const config = load({ FTP_PORT: '', FTP_PASSIVE_ADDRESS: '', S3_PREFIX: '', AWS_REGION: '' });
    assert.equal(config.controlPort, 21);
    assert.equal(config.passiveAddress, undefined);
  });
});

describe('loadConfig happy paths, one per variable', () => {
  const cases: ReadonlyArray<{
    readonly env: Record<string, string>;
    readonly pick: (config: ReturnType<typeof loadConfig>) => unknown;
    readonly expected: unknown;
  }> = [
    { env: { FTP_LISTEN_ADDRESS: '127.0.0.1' }, pick: (c) => c.listenAddress, expected: '127.0.0.1' },
    { env: { FTP_LISTEN_ADDRESS: '::' }, pick: (c) => c.listenAddress, expected: '::' },
    { env: { FTP_PORT: '2121' }, pick: (c) => c.controlPort, expected: 2121 },
    { env: { ...TLS_FILES, FTPS_IMPLICIT_PORT: '2990' }, pick: (c) => c.implicitTlsPort, expected: 2990 },
    { env: { ...TLS_FILES, FTPS_IMPLICIT_PORT: '0' }, pick: (c) => c.implicitTlsPort, expected: 0 },
    { env: { FTPS_IMPLICIT_PORT: '0' }, pick: (c) => c.implicitTlsPort, expected: 0 },
    { env: { FTP_PASSIVE_PORTS: '40000-40002' }, pick: (c) => c.passivePorts, expected: { first: 40000, last: 40002 } },
    { env: { FTP_PASSIVE_PORTS: '40000' }, pick: (c) => c.passivePorts, expected: { first: 40000, last: 40000 } },
    { env: { FTP_PASSIVE_ADDRESS: '198.51.100.7' }, pick: (c) => c.passiveAddress, expected: '198.51.100.7' },
    { env: { FTP_ACTIVE_MODE: 'on' }, pick: (c) => c.activeMode, expected: true },
    { env: { FTP_ACTIVE_MODE: 'TRUE' }, pick: (c) => c.activeMode, expected: true },
    { env: { FTP_ACTIVE_MODE: '1' }, pick: (c) => c.activeMode, expected: true },
    { env: { FTP_ACTIVE_MODE: 'false' }, pick: (c) => c.activeMode, expected: false },
    { env: { FTP_ACTIVE_MODE: '0' }, pick: (c) => c.activeMode, expected: false },
    { env: { ...TLS_FILES, FTP_TLS_MODE: 'required' }, pick: (c) => c.tlsMode, expected: 'required' },
    { env: { ...TLS_FILES, FTP_TLS_MODE: 'off' }, pick: (c) => [c.tlsMode, c.tlsCredentials, c.implicitTlsPort], expected: ['off', undefined, 0] },
    { env: { FTP_TLS_MODE: 'off' }, pick: (c) => c.tlsMode, expected: 'off' },
    {
      env: { FTP_TLS_SECRET_ID: 'ftp/tls' },
      pick: (c) => [c.tlsMode, c.tlsCredentials],
      expected: ['optional', { kind: 'secret', secretId: 'ftp/tls' }],
    },
    {
      env: { FTP_USERS_FILE: '', FTP_USERS_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/users-AbCdEf' },
      pick: (c) => c.users,
      expected: { kind: 'secret', secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/users-AbCdEf' },
    },
    { env: { FTP_USERS_FILE: '', FTP_USERS_TABLE: 'ftp-users' }, pick: (c) => c.users, expected: { kind: 'table', tableName: 'ftp-users' } },
    { env: { DYNAMODB_ENDPOINT: 'http://127.0.0.1:4567' }, pick: (c) => c.state.endpoint, expected: 'http://127.0.0.1:4567' },
    { env: { S3_BUCKET: 'my.bucket-1' }, pick: (c) => c.s3.bucket, expected: 'my.bucket-1' },
    { env: { S3_PREFIX: '/ftp/root/' }, pick: (c) => c.s3.prefix, expected: 'ftp/root' },
    { env: { S3_PREFIX: 'a//b' }, pick: (c) => c.s3.prefix, expected: 'a/b' },
    { env: { S3_PREFIX: '/' }, pick: (c) => c.s3.prefix, expected: '' },
    {
      env: { S3_ENDPOINT: 'http://127.0.0.1:9000' },
      pick: (c) => [c.s3.endpoint, c.s3.forcePathStyle],
      expected: ['http://127.0.0.1:9000', true],
    },
    { env: { S3_ENDPOINT: 'https://s3.example.com', S3_FORCE_PATH_STYLE: 'false' }, pick: (c) => c.s3.forcePathStyle, expected: false },
    { env: { S3_FORCE_PATH_STYLE: 'true' }, pick: (c) => c.s3.forcePathStyle, expected: true },
    { env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1' }, pick: (c) => c.s3.region, expected: 'eu-west-1' },
    { env: { AWS_DEFAULT_REGION: 'us-east-2' }, pick: (c) => c.s3.region, expected: 'us-east-2' },
    { env: { S3_CHECKSUM: 'when_required' }, pick: (c) => c.s3.checksum, expected: 'when_required' },
    { env: { S3_PART_SIZE_MIB: '5' }, pick: (c) => c.s3.partSizeBytes, expected: 5 * 1024 * 1024 },
    { env: { S3_PART_SIZE_MIB: '5120' }, pick: (c) => c.s3.partSizeBytes, expected: 5120 * 1024 * 1024 },
    {
      env: { FTP_UPLOAD_BUFFER_MIB: '32' },
      pick: (c) => c.uploadBuffer,
      expected: { bytes: 32 * 1024 * 1024, source: 'FTP_UPLOAD_BUFFER_MIB' },
    },
    { env: { FTP_UPLOAD_BUFFER_SHARE_PERCENT: '100' }, pick: (c) => c.uploadBufferSharePercent, expected: 100 },
    { env: { FTP_UPLOAD_STALL_SECONDS: '5' }, pick: (c) => c.uploadStallMs, expected: 5000 },
    { env: { FTP_PENDING_UPLOAD_HOURS: '0.5' }, pick: (c) => c.pendingUploadMs, expected: 1_800_000 },
    { env: { FTP_PENDING_UPLOADS_FILE: '/tmp/pending.json' }, pick: (c) => c.pendingUploadsFile, expected: '/tmp/pending.json' },
    { env: { FTP_DATA_TIMEOUT_SECONDS: '0.2' }, pick: (c) => c.dataConnectionTimeoutMs, expected: 200 },
    { env: { FTP_LOGIN_TIMEOUT_SECONDS: '1.5' }, pick: (c) => c.loginTimeoutMs, expected: 1500 },
    { env: { FTP_IDLE_TIMEOUT_SECONDS: '3600' }, pick: (c) => c.idleTimeoutMs, expected: 3_600_000 },
    { env: { FTP_LOGIN_FAILURE_DELAY_MS: '0' }, pick: (c) => c.loginFailureDelayMs, expected: 0 },
    { env: { FTP_LOCKOUT_FAILURES: '0' }, pick: (c) => c.lockoutFailures, expected: 0 },
    { env: { FTP_LOCKOUT_FAILURES: '3' }, pick: (c) => c.lockoutFailures, expected: 3 },
    { env: { FTP_LOCKOUT_SECONDS: '60' }, pick: (c) => c.lockoutMs, expected: 60_000 },
    { env: { FTP_RENAME_MAX_OBJECTS: '5' }, pick: (c) => c.renameMaxObjects, expected: 5 },
    { env: { FTP_LIST_CLIENT_TIMES: 'off' }, pick: (c) => c.listClientTimes, expected: false },
    { env: { S3_COPY_PERCENT_NAMES: 'Read-Back' }, pick: (c) => c.percentCopy, expected: 'read-back' },
    { env: { FTP_CHECKSUM_READ_MIB_PER_HOUR: '0' }, pick: (c) => c.checksumReadBytesPerHour, expected: 0 },
    { env: { FTP_TIME_CHANGES_PER_HOUR: '10' }, pick: (c) => c.timeChangesPerHour, expected: 10 },
    { env: { FTP_RENAME_OBJECTS_PER_HOUR: '0' }, pick: (c) => c.renameObjectsPerHour, expected: 0 },
    { env: { FTP_READ_BACK_MIB_PER_HOUR: '2' }, pick: (c) => c.readBackBytesPerHour, expected: 2 * 1024 * 1024 },
    { env: { FTP_MAX_CONNECTIONS: '2' }, pick: (c) => c.maxConnections, expected: 2 },
    { env: { FTP_MAX_CONNECTIONS_PER_ADDRESS: '3' }, pick: (c) => c.maxConnectionsPerAddress, expected: 3 },
    { env: { FTP_TLS_SESSION_REUSE: 'optional' }, pick: (c) => c.tlsSessionReuse, expected: 'optional' },
    { env: { FTP_TLS_CLOSE_NOTIFY: 'optional' }, pick: (c) => c.tlsCloseNotify, expected: 'optional' },
    { env: { FTP_TLS_HANDSHAKE_TIMEOUT_SECONDS: '2.5' }, pick: (c) => c.tlsHandshakeTimeoutMs, expected: 2500 },
    { env: { FTP_STATE_TABLE: 'ftp-state' }, pick: (c) => c.state.table, expected: 'ftp-state' },
    { env: { DYNAMODB_ENDPOINT: 'http://127.0.0.1:4567' }, pick: (c) => c.state.endpoint, expected: 'http://127.0.0.1:4567' },
    { env: { FTP_SESSION_LEASE_SECONDS: '30' }, pick: (c) => c.sessionLeaseMs, expected: 30_000 },
    { env: { FTP_QUOTA_RECONCILE_SECONDS: '600' }, pick: (c) => c.quotaReconcileMs, expected: 600_000 },
    { env: { HEALTH_PORT: '0' }, pick: (c) => c.healthPort, expected: 0 },
    { env: { HEALTH_PORT: '9090' }, pick: (c) => c.healthPort, expected: 9090 },
    { env: { FTP_SHUTDOWN_GRACE_SECONDS: '0' }, pick: (c) => c.shutdownGraceMs, expected: 0 },
    { env: { FTP_SHUTDOWN_GRACE_SECONDS: '2.5' }, pick: (c) => c.shutdownGraceMs, expected: 2500 },
    { env: { FTP_RELOAD_SECONDS: '0.05' }, pick: (c) => c.reloadIntervalMs, expected: 50 },
    { env: { FTP_METRICS_NAMESPACE: 'FtpS3Bridge/prod' }, pick: (c) => c.metrics, expected: { namespace: 'FtpS3Bridge/prod', shard: 'local', intervalMs: 60_000 } },
    {
      env: { FTP_METRICS_NAMESPACE: 'Ftp', FTP_METRICS_SHARD: 'shard-2', FTP_METRICS_INTERVAL_SECONDS: '10' },
      pick: (c) => c.metrics,
      expected: { namespace: 'Ftp', shard: 'shard-2', intervalMs: 10_000 },
    },
    { env: { FTP_METRICS_SHARD: 'shard-1' }, pick: (c) => c.metrics, expected: undefined },
    { env: { FTP_METRICS_INTERVAL_SECONDS: '30' }, pick: (c) => c.metrics, expected: undefined },
    { env: { FTP_UPLOAD_EVENTS_BUS: 'default' }, pick: (c) => c.uploadEventsBus, expected: 'default' },
    { env: { LOG_LEVEL: 'debug' }, pick: (c) => c.logLevel, expected: 'debug' },
    { env: { LOG_LEVEL: 'silent' }, pick: (c) => c.logLevel, expected: 'silent' },
  ];
  for (const { env, pick, expected } of cases) {
    test(JSON.stringify(env), () => {
      assert.deepEqual(pick(load(env)), expected);
    });
  }

  test('every variable in the table has at least one happy-path case above', () => {
    const covered = new Set(cases.flatMap((c) => Object.keys(c.env)));
    for (const { name } of configVariables()) assert.ok(covered.has(name), `${name} has no happy-path case`);
  });
});

describe('loadConfig bad values name the variable', () => {
  const cases: ReadonlyArray<readonly [env: NodeJS.ProcessEnv, variable: string]> = [
    [{ ...MINIMAL, FTP_LISTEN_ADDRESS: 'localhost' }, 'FTP_LISTEN_ADDRESS'],
    [{ ...MINIMAL, FTP_PORT: '0' }, 'FTP_PORT'],
    [{ ...MINIMAL, FTP_PORT: '65536' }, 'FTP_PORT'],
    [{ ...MINIMAL, FTP_PORT: '21.5' }, 'FTP_PORT'],
    [{ ...MINIMAL, FTP_PORT: '-1' }, 'FTP_PORT'],
    [{ ...MINIMAL, FTP_PORT: ' 21' }, 'FTP_PORT'],
    [{ ...MINIMAL, FTP_PORT: '0x15' }, 'FTP_PORT'],
    [{ ...MINIMAL, FTPS_IMPLICIT_PORT: 'ninety' }, 'FTPS_IMPLICIT_PORT'],
    [{ ...MINIMAL, FTPS_IMPLICIT_PORT: '990' }, 'FTPS_IMPLICIT_PORT'], // explicitly on, but no TLS
    [{ ...MINIMAL, ...TLS_FILES, FTPS_IMPLICIT_PORT: '21' }, 'FTPS_IMPLICIT_PORT'],
    [{ ...MINIMAL, FTP_PASSIVE_PORTS: 'abc' }, 'FTP_PASSIVE_PORTS'],
    [{ ...MINIMAL, FTP_PASSIVE_PORTS: '30099-30000' }, 'FTP_PASSIVE_PORTS'],
    [{ ...MINIMAL, FTP_PASSIVE_PORTS: '1000-1100' }, 'FTP_PASSIVE_PORTS'],
    [{ ...MINIMAL, FTP_PASSIVE_PORTS: '65000-70000' }, 'FTP_PASSIVE_PORTS'],
    [{ ...MINIMAL, FTP_PASSIVE_PORTS: '30000-' }, 'FTP_PASSIVE_PORTS'],
    [{ ...MINIMAL, FTP_PORT: '30050' }, 'FTP_PASSIVE_PORTS'],
    [{ ...MINIMAL, ...TLS_FILES, FTPS_IMPLICIT_PORT: '30000' }, 'FTP_PASSIVE_PORTS'],
    [{ ...MINIMAL, HEALTH_PORT: '30099' }, 'FTP_PASSIVE_PORTS'],
    [{ ...MINIMAL, FTP_PASSIVE_ADDRESS: '2001:db8::1' }, 'FTP_PASSIVE_ADDRESS'],
    [{ ...MINIMAL, FTP_PASSIVE_ADDRESS: 'ftp.example.com' }, 'FTP_PASSIVE_ADDRESS'],
    [{ ...MINIMAL, FTP_ACTIVE_MODE: 'maybe' }, 'FTP_ACTIVE_MODE'],
    [{ ...MINIMAL, FTP_TLS_MODE: 'always' }, 'FTP_TLS_MODE'],
    [{ ...MINIMAL, FTP_TLS_MODE: 'optional' }, 'FTP_TLS_MODE'],
    [{ ...MINIMAL, FTP_TLS_MODE: 'required' }, 'FTP_TLS_MODE'],
    [{ ...MINIMAL, FTP_TLS_CERT_FILE: '/tls/cert.pem' }, 'FTP_TLS_KEY_FILE'],
    [{ ...MINIMAL, FTP_TLS_KEY_FILE: '/tls/key.pem' }, 'FTP_TLS_CERT_FILE'],
    [{ ...MINIMAL, FTP_TLS_CERT_FILE: '/tls/a\nb' }, 'FTP_TLS_CERT_FILE'],
    [{ ...MINIMAL, ...TLS_FILES, FTP_TLS_SECRET_ID: 'ftp/tls' }, 'FTP_TLS_SECRET_ID'],
    [{ ...MINIMAL, FTP_TLS_SECRET_ID: 'has space' }, 'FTP_TLS_SECRET_ID'],
    [{ S3_BUCKET: 'bucket' }, 'FTP_USERS_FILE'],
    [{ ...MINIMAL, FTP_USERS_SECRET_ID: 'ftp/users' }, 'FTP_USERS_SECRET_ID'],
    [{ S3_BUCKET: 'bucket', FTP_USERS_SECRET_ID: 'bad secret' }, 'FTP_USERS_SECRET_ID'],
    [{ ...MINIMAL, FTP_USERS_TABLE: 'ftp-users' }, 'FTP_USERS_TABLE'],
    [{ S3_BUCKET: 'bucket', FTP_USERS_SECRET_ID: 'ftp/users', FTP_USERS_TABLE: 'ftp-users' }, 'FTP_USERS_TABLE'],
    [{ S3_BUCKET: 'bucket', FTP_USERS_TABLE: 'no spaces please' }, 'FTP_USERS_TABLE'],
    [{ ...MINIMAL, DYNAMODB_ENDPOINT: '127.0.0.1:4567' }, 'DYNAMODB_ENDPOINT'],
    [{ FTP_USERS_FILE: '/u.json' }, 'S3_BUCKET'],
    [{ ...MINIMAL, S3_BUCKET: 'no/slash' }, 'S3_BUCKET'],
    [{ ...MINIMAL, S3_PREFIX: 'a/../b' }, 'S3_PREFIX'],
    [{ ...MINIMAL, S3_PREFIX: './a' }, 'S3_PREFIX'],
    [{ ...MINIMAL, S3_PREFIX: 'a\u0000b' }, 'S3_PREFIX'],
    [{ ...MINIMAL, S3_PREFIX: 'a\\b' }, 'S3_PREFIX'],
    [{ ...MINIMAL, S3_ENDPOINT: '127.0.0.1:9000' }, 'S3_ENDPOINT'],
    [{ ...MINIMAL, S3_ENDPOINT: 'ftp://example.com' }, 'S3_ENDPOINT'],
    [{ ...MINIMAL, S3_FORCE_PATH_STYLE: 'sometimes' }, 'S3_FORCE_PATH_STYLE'],
    [{ ...MINIMAL, AWS_REGION: 'eu west 1' }, 'AWS_REGION'],
    [{ ...MINIMAL, AWS_DEFAULT_REGION: 'eu/west' }, 'AWS_DEFAULT_REGION'],
    [{ ...MINIMAL, S3_CHECKSUM: 'never' }, 'S3_CHECKSUM'],
    [{ ...MINIMAL, S3_PART_SIZE_MIB: '4' }, 'S3_PART_SIZE_MIB'],
    [{ ...MINIMAL, S3_PART_SIZE_MIB: '5121' }, 'S3_PART_SIZE_MIB'],
    [{ ...MINIMAL, FTP_UPLOAD_BUFFER_MIB: '4' }, 'FTP_UPLOAD_BUFFER_MIB'],
    [{ ...MINIMAL, FTP_UPLOAD_BUFFER_MIB: 'lots' }, 'FTP_UPLOAD_BUFFER_MIB'],
    [{ ...MINIMAL, FTP_UPLOAD_BUFFER_MIB: '16', S3_PART_SIZE_MIB: '32' }, 'FTP_UPLOAD_BUFFER_MIB'],
    [{ ...MINIMAL, FTP_UPLOAD_BUFFER_SHARE_PERCENT: '0' }, 'FTP_UPLOAD_BUFFER_SHARE_PERCENT'],
    [{ ...MINIMAL, FTP_UPLOAD_BUFFER_SHARE_PERCENT: '101' }, 'FTP_UPLOAD_BUFFER_SHARE_PERCENT'],
    [{ ...MINIMAL, FTP_UPLOAD_STALL_SECONDS: '0' }, 'FTP_UPLOAD_STALL_SECONDS'],
    [{ ...MINIMAL, FTP_PENDING_UPLOAD_HOURS: '721' }, 'FTP_PENDING_UPLOAD_HOURS'],
    [{ ...MINIMAL, FTP_PENDING_UPLOAD_HOURS: '-1' }, 'FTP_PENDING_UPLOAD_HOURS'],
    [{ ...MINIMAL, FTP_DATA_TIMEOUT_SECONDS: '0' }, 'FTP_DATA_TIMEOUT_SECONDS'],
    [{ ...MINIMAL, FTP_DATA_TIMEOUT_SECONDS: '1e3' }, 'FTP_DATA_TIMEOUT_SECONDS'],
    [{ ...MINIMAL, FTP_LOGIN_TIMEOUT_SECONDS: '-5' }, 'FTP_LOGIN_TIMEOUT_SECONDS'],
    [{ ...MINIMAL, FTP_IDLE_TIMEOUT_SECONDS: '3000000' }, 'FTP_IDLE_TIMEOUT_SECONDS'],
    [{ ...MINIMAL, FTP_LOGIN_FAILURE_DELAY_MS: '60001' }, 'FTP_LOGIN_FAILURE_DELAY_MS'],
    [{ ...MINIMAL, FTP_LOGIN_FAILURE_DELAY_MS: '0.5' }, 'FTP_LOGIN_FAILURE_DELAY_MS'],
    [{ ...MINIMAL, FTP_LOCKOUT_FAILURES: 'five' }, 'FTP_LOCKOUT_FAILURES'],
    [{ ...MINIMAL, FTP_LOCKOUT_SECONDS: '0' }, 'FTP_LOCKOUT_SECONDS'],
    [{ ...MINIMAL, FTP_RENAME_MAX_OBJECTS: '0' }, 'FTP_RENAME_MAX_OBJECTS'],
    [{ ...MINIMAL, FTP_LIST_CLIENT_TIMES: 'sometimes' }, 'FTP_LIST_CLIENT_TIMES'],
    [{ ...MINIMAL, S3_COPY_PERCENT_NAMES: 'guess' }, 'S3_COPY_PERCENT_NAMES'],
    [{ ...MINIMAL, FTP_CHECKSUM_READ_MIB_PER_HOUR: '-1' }, 'FTP_CHECKSUM_READ_MIB_PER_HOUR'],
    [{ ...MINIMAL, FTP_TIME_CHANGES_PER_HOUR: 'many' }, 'FTP_TIME_CHANGES_PER_HOUR'],
    [{ ...MINIMAL, FTP_RENAME_OBJECTS_PER_HOUR: '-1' }, 'FTP_RENAME_OBJECTS_PER_HOUR'],
    [{ ...MINIMAL, FTP_MAX_CONNECTIONS: '0' }, 'FTP_MAX_CONNECTIONS'],
    [{ ...MINIMAL, FTP_MAX_CONNECTIONS_PER_ADDRESS: '0' }, 'FTP_MAX_CONNECTIONS_PER_ADDRESS'],
    [{ ...MINIMAL, FTP_TLS_SESSION_REUSE: 'sometimes' }, 'FTP_TLS_SESSION_REUSE'],
    [{ ...MINIMAL, FTP_TLS_CLOSE_NOTIFY: 'never' }, 'FTP_TLS_CLOSE_NOTIFY'],
    [{ ...MINIMAL, FTP_TLS_HANDSHAKE_TIMEOUT_SECONDS: '0' }, 'FTP_TLS_HANDSHAKE_TIMEOUT_SECONDS'],
    [{ ...MINIMAL, FTP_STATE_TABLE: 'no spaces' }, 'FTP_STATE_TABLE'],
    [{ ...MINIMAL, DYNAMODB_ENDPOINT: 'localhost:8000' }, 'DYNAMODB_ENDPOINT'],
    [{ ...MINIMAL, FTP_SESSION_LEASE_SECONDS: '0' }, 'FTP_SESSION_LEASE_SECONDS'],
    [{ ...MINIMAL, HEALTH_PORT: '70000' }, 'HEALTH_PORT'],
    [{ ...MINIMAL, HEALTH_PORT: '21' }, 'HEALTH_PORT'],
    [{ ...MINIMAL, ...TLS_FILES, HEALTH_PORT: '990' }, 'HEALTH_PORT'],
    [{ ...MINIMAL, FTP_SHUTDOWN_GRACE_SECONDS: 'soon' }, 'FTP_SHUTDOWN_GRACE_SECONDS'],
    [{ ...MINIMAL, FTP_RELOAD_SECONDS: '0' }, 'FTP_RELOAD_SECONDS'],
    [{ ...MINIMAL, FTP_METRICS_NAMESPACE: 'AWS/ECS' }, 'FTP_METRICS_NAMESPACE'],
    [{ ...MINIMAL, FTP_METRICS_NAMESPACE: 'a{b}' }, 'FTP_METRICS_NAMESPACE'],
    [{ ...MINIMAL, FTP_METRICS_SHARD: 'shard 1' }, 'FTP_METRICS_SHARD'],
    [{ ...MINIMAL, FTP_METRICS_INTERVAL_SECONDS: '0' }, 'FTP_METRICS_INTERVAL_SECONDS'],
    [{ ...MINIMAL, FTP_UPLOAD_EVENTS_BUS: 'my bus' }, 'FTP_UPLOAD_EVENTS_BUS'],
    [{ ...MINIMAL, FTP_RELOAD_SECONDS: '0.0001' }, 'FTP_RELOAD_SECONDS'],
    [{ ...MINIMAL, LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
  ];
  for (const [env, variable] of cases) {
    test(`${variable} ← ${JSON.stringify(env)}`, () => {
      const error = configError(env);
      assert.equal(error.variable, variable);
      assert.ok(error.message.startsWith(`${variable}: `), error.message);
      assert.doesNotMatch(error.message, /\n/);
    });
  }

  test('the message is one line naming the variable, the expectation and the value', () => {
    const error = configError({ ...MINIMAL, FTP_PASSIVE_PORTS: 'abc' });
    assert.equal(error.message, 'FTP_PASSIVE_PORTS: expected a range like 30000-30099, got "abc"');
    assert.equal(error.name, 'ConfigError');
  });

  test('values with newlines and long values stay on one line', () => {
    const error = configError({ ...MINIMAL, FTP_PORT: `2\n1${'9'.repeat(200)}` });
    assert.doesNotMatch(error.message, /\n/);
    assert.ok(error.message.length < 200, error.message);
  });

  test('passive range clash names the clashing port', () => {
    assert.equal(
      configError({ ...MINIMAL, FTP_PORT: '30050' }).message,
      'FTP_PASSIVE_PORTS: 30000-30099 contains FTP_PORT (30050)',
    );
  });

  test('the first bad variable in table order is the one reported', () => {
    assert.equal(configError({ ...MINIMAL, FTP_PORT: 'x', LOG_LEVEL: 'y' }).variable, 'FTP_PORT');
  });
});

describe('FTP_UPLOAD_BUFFER_MIB', () => {
  const MIB = 1024 * 1024;
  const budget = (env: Record<string, string>, memoryLimitBytes?: number) =>
    loadConfig({ ...MINIMAL, ...env }, { memoryLimitBytes }).uploadBuffer;

  test('defaults to half the container memory limit when one is visible', () => {
    assert.deepEqual(budget({}, 1024 * MIB), { bytes: 512 * MIB, source: 'container memory limit' });
    assert.deepEqual(budget({}, 3 * 1024 * MIB + 1), { bytes: 1536 * MIB, source: 'container memory limit' });
  });

  test('defaults to 256 MiB when no limit is visible', () => {
    assert.deepEqual(budget({}), { bytes: 256 * MIB, source: 'fixed default' });
  });

  test('a default never drops below one first part', () => {
    assert.equal(budget({}, 10 * MIB).bytes, 8 * MIB);
    assert.equal(budget({ S3_PART_SIZE_MIB: '512' }).bytes, 512 * MIB);
  });

  test('the setting wins over the memory limit', () => {
    assert.deepEqual(budget({ FTP_UPLOAD_BUFFER_MIB: '40' }, 1024 * MIB), { bytes: 40 * MIB, source: 'FTP_UPLOAD_BUFFER_MIB' });
  });

  test('a setting below the first part size names both variables', () => {
    assert.equal(
      configError({ ...MINIMAL, FTP_UPLOAD_BUFFER_MIB: '6' }).message,
      'FTP_UPLOAD_BUFFER_MIB: 6 is less than S3_PART_SIZE_MIB (8); an upload needs one part buffer',
    );
  });
});

describe('normaliseRootPath', () => {
  test('strips and collapses slashes', () => {
    assert.equal(normaliseRootPath('/partners/acme/'), 'partners/acme');
    assert.equal(normaliseRootPath('partners//acme'), 'partners/acme');
    assert.equal(normaliseRootPath('/'), '');
    assert.equal(normaliseRootPath(''), '');
    assert.equal(normaliseRootPath('..a/b..'), '..a/b..');
  });
  test('refuses escapes', () => {
    for (const bad of ['..', 'a/..', 'a/./b', 'a\u0000', 'a\\b', 'x'.repeat(513)]) {
      assert.throws(() => normaliseRootPath(bad), Error, bad);
    }
  });
});

describe('configHelp', () => {
  const help = configHelp();

  test('lists every variable with its default and description', () => {
    const variables = configVariables();
    assert.equal(variables.length, 56);
    for (const { name, defaultText, description } of variables) {
      assert.match(help, new RegExp(`^  ${name}  \\(default: ${escapeRegExp(defaultText)}\\)$`, 'm'), name);
      assert.ok(help.includes(description), name);
      assert.doesNotMatch(description, /\n/, name);
    }
  });

  test('mentions every variable that loadConfig reads', () => {
    for (const name of [
      'FTP_LISTEN_ADDRESS', 'FTP_PORT', 'FTPS_IMPLICIT_PORT', 'FTP_PASSIVE_PORTS', 'FTP_PASSIVE_ADDRESS',
      'FTP_ACTIVE_MODE', 'FTP_TLS_MODE', 'FTP_TLS_SESSION_REUSE', 'FTP_TLS_CLOSE_NOTIFY', 'FTP_TLS_HANDSHAKE_TIMEOUT_SECONDS', 'FTP_TLS_CERT_FILE', 'FTP_TLS_KEY_FILE', 'FTP_TLS_SECRET_ID',
      'FTP_USERS_FILE', 'FTP_USERS_SECRET_ID', 'FTP_USERS_TABLE', 'DYNAMODB_ENDPOINT', 'S3_BUCKET', 'S3_PREFIX', 'S3_ENDPOINT', 'S3_FORCE_PATH_STYLE',
      'AWS_REGION', 'AWS_DEFAULT_REGION', 'S3_CHECKSUM', 'S3_PART_SIZE_MIB', 'FTP_UPLOAD_BUFFER_MIB', 'FTP_UPLOAD_BUFFER_SHARE_PERCENT',
      'FTP_UPLOAD_STALL_SECONDS', 'FTP_PENDING_UPLOAD_HOURS', 'FTP_PENDING_UPLOADS_FILE', 'FTP_DATA_TIMEOUT_SECONDS',
      'FTP_LOGIN_TIMEOUT_SECONDS', 'FTP_IDLE_TIMEOUT_SECONDS', 'FTP_LOGIN_FAILURE_DELAY_MS',
      'FTP_LOCKOUT_FAILURES', 'FTP_LOCKOUT_SECONDS', 'FTP_RENAME_MAX_OBJECTS', 'FTP_LIST_CLIENT_TIMES', 'FTP_MAX_CONNECTIONS',
      'S3_COPY_PERCENT_NAMES', 'FTP_CHECKSUM_READ_MIB_PER_HOUR', 'FTP_TIME_CHANGES_PER_HOUR', 'FTP_RENAME_OBJECTS_PER_HOUR', 'FTP_READ_BACK_MIB_PER_HOUR',
      'FTP_MAX_CONNECTIONS_PER_ADDRESS', 'HEALTH_PORT', 'FTP_SHUTDOWN_GRACE_SECONDS', 'FTP_RELOAD_SECONDS', 'LOG_LEVEL',
      'FTP_METRICS_NAMESPACE', 'FTP_METRICS_SHARD', 'FTP_METRICS_INTERVAL_SECONDS', 'FTP_UPLOAD_EVENTS_BUS',
      'FTP_STATE_TABLE', 'DYNAMODB_ENDPOINT', 'FTP_SESSION_LEASE_SECONDS', 'FTP_QUOTA_RECONCILE_SECONDS',
    ]) {
      assert.match(help, new RegExp(`^  ${name}  `, 'm'), name);
    }
  });

  test('says PASV needs IPv4 and that S3-compatible stores may need when_required', () => {
    assert.match(help, /PASV can only carry IPv4/);
    assert.match(help, /S3-compatible stores need when_required/);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
