import { isIP, isIPv4 } from 'node:net';
import { CONTAINER_VARIABLES, LOG_LEVELS, portClashes, uploadBufferMiBForMemory, type ContainerVariable, type ListenerPort, type LogLevel } from './container-environment.ts';
import type { TlsCredentialsSource } from './sources/tls-credentials.ts';
import type { PercentCopyMode } from './storage/s3/copy-source.ts';
import type { ChecksumMode, S3Settings } from './storage/s3/s3-client.ts';
import * as shared from './settings/validators.ts';
import {
  TLS_CLOSE_NOTIFY_MODES,
  TLS_MODES,
  TLS_SESSION_REUSE_MODES,
  type TlsCloseNotify,
  type TlsMode,
  type TlsSessionReuse,
} from './tls-policy.ts';
import type { DocumentSource } from './sources/watched-document.ts';

/**
 * The bridge's whole configuration, read from environment variables only here.
 * (Contract: the parser below the types is implemented against it.)
 */

/** The process-wide budget of upload part buffers, and where its size came from (for the start log). */
export interface UploadBufferSetting {
  readonly bytes: number;
  readonly source: 'FTP_UPLOAD_BUFFER_MIB' | 'container memory limit' | 'fixed default';
}

/** What loadConfig needs to know about the machine; the composition root reads it. */
export interface HostFacts {
  /** The container's memory limit, if one is visible (see container-memory-limit.ts). */
  readonly memoryLimitBytes?: number | undefined;
}

const MIB = 1024 * 1024;
/** FTP_UPLOAD_BUFFER_MIB when no memory limit is visible. */
export const FIXED_UPLOAD_BUFFER_MIB = 256;

export interface Config {
  readonly listenAddress: string;
  readonly controlPort: number;
  /** 0 = off. */
  readonly implicitTlsPort: number;
  readonly passivePorts: { readonly first: number; readonly last: number };
  /** Address advertised in PASV/EPSV; undefined = the control connection's local address. */
  readonly passiveAddress: string | undefined;
  readonly activeMode: boolean;
  readonly tlsMode: TlsMode;
  readonly tlsSessionReuse: TlsSessionReuse;
  readonly tlsCloseNotify: TlsCloseNotify;
  readonly tlsHandshakeTimeoutMs: number;
  readonly tlsCredentials: TlsCredentialsSource | undefined;
  readonly users: DocumentSource;
  readonly s3: S3Settings;
  /** How APPE and resumes keep the start of a '%' name (S3_COPY_PERCENT_NAMES). */
  readonly percentCopy: PercentCopyMode;
  readonly uploadBuffer: UploadBufferSetting;
  /** Most of the upload buffer budget one user, or one client address, holds: a percentage. */
  readonly uploadBufferSharePercent: number;
  /** An upload holding a part buffer fails after this long waiting for its client with too little progress. */
  readonly uploadStallMs: number;
  /** How long an interrupted upload stays pending (FTP_PENDING_UPLOAD_HOURS); 0: none is kept. */
  readonly pendingUploadMs: number;
  /** FTP_PENDING_UPLOADS_FILE: where pending uploads are recorded when S3 cannot list them. */
  readonly pendingUploadsFile: string | undefined;
  readonly dataConnectionTimeoutMs: number;
  readonly loginTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly loginFailureDelayMs: number;
  readonly lockoutFailures: number;
  readonly lockoutMs: number;
  readonly renameMaxObjects: number;
  /** Bytes per user per hour read to compute checksums. */
  readonly checksumReadBytesPerHour: number;
  /** Metadata rewrites (time changes) per user per hour. */
  readonly timeChangesPerHour: number;
  readonly renameObjectsPerHour: number;
  readonly readBackBytesPerHour: number;
  /** LIST and MLSD read each file's client-set time (a HeadObject per file version not seen yet). */
  readonly listClientTimes: boolean;
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  /**
   * Where the state shared by every task lives (table undefined = in this process), and the
   * DynamoDB endpoint of every table the bridge reads, users table included (undefined = AWS).
   */
  readonly state: { readonly table: string | undefined; readonly endpoint: string | undefined };
  /** A partner session's lease on its maxSessions place lapses this long after its last renewal. */
  readonly sessionLeaseMs: number;
  /** A partner's quota count older than this is corrected by listing its home. */
  readonly quotaReconcileMs: number;
  /** 0 = off. */
  readonly healthPort: number;
  readonly shutdownGraceMs: number;
  readonly reloadIntervalMs: number;
  readonly logLevel: LogLevel;
  /** Runtime metrics in the embedded metric format; undefined = off. */
  readonly metrics: { readonly namespace: string; readonly shard: string; readonly intervalMs: number } | undefined;
  /** EventBridge bus for upload events; undefined = off. */
  readonly uploadEventsBus: string | undefined;
}

// ---------------------------------------------------------------------------
// Parsing. One table below describes every variable: its default (as text, so the
// same string feeds both the parser and --help), a one-line description and a parser.
// Cross-variable rules (port clashes, TLS, users source) run after every single
// value has parsed, in a fixed order, so the first problem reported is stable.
// ---------------------------------------------------------------------------

/** A bad configuration value; `message` is one line: `VARIABLE: problem`. */
export class ConfigError extends Error {
  readonly variable: string;

  constructor(options: { readonly variable: string; readonly problem: string }) {
    super(`${options.variable}: ${oneLine(options.problem)}`);
    this.name = 'ConfigError';
    this.variable = options.variable;
  }
}

/** One row of the variable table, as --help and docs/configuration.md show it. */
export interface ConfigVariable {
  readonly name: string;
  /** The default as shown to people: a value, 'unset', 'empty', 'required' or a rule. */
  readonly defaultText: string;
  readonly description: string;
}

/** Thrown by parsers; loadConfig turns it into a ConfigError naming the variable. */
class ValueProblem extends Error {}

interface VariableSpec<T> {
  readonly defaultText: string;
  readonly description: string;
  /** `raw` is undefined when the variable is unset or empty. */
  readonly read: (raw: string | undefined) => T;
}

type Parser<T> = (raw: string) => T;

/** A parser from a validator shared with the CDK app (runtime/src/settings/validators.ts). */
function checked<T>(validator: shared.Validator<T>): Parser<T> {
  return (raw) => {
    const result = validator(raw);
    if (!result.ok) throw new ValueProblem(result.problem);
    return result.value;
  };
}

function withDefault<T>(options: {
  readonly value: string;
  readonly description: string;
  readonly parse: Parser<T>;
}): VariableSpec<T> {
  return {
    defaultText: options.value,
    description: options.description,
    read: (raw) => options.parse(raw ?? options.value),
  };
}

function optional<T>(options: {
  readonly defaultText?: string;
  readonly description: string;
  readonly parse: Parser<T>;
}): VariableSpec<T | undefined> {
  return {
    defaultText: options.defaultText ?? 'unset',
    description: options.description,
    read: (raw) => (raw === undefined ? undefined : options.parse(raw)),
  };
}

function required<T>(options: { readonly description: string; readonly parse: Parser<T> }): VariableSpec<T> {
  return {
    defaultText: 'required',
    description: options.description,
    read: (raw) => {
      if (raw === undefined) throw new ValueProblem('is required');
      return options.parse(raw);
    },
  };
}

// --- parsers ---------------------------------------------------------------

function quoted(raw: string): string {
  const shown = raw.length > 80 ? `${raw.slice(0, 77)}...` : raw;
  return JSON.stringify(shown);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

function integer(options: { readonly min: number; readonly max: number; readonly note?: string }): Parser<number> {
  return checked(shared.wholeNumber(options));
}

function port(options: { readonly allowZero: boolean }): Parser<number> {
  return checked(shared.port(options));
}

/** Seconds (decimals allowed) to whole milliseconds. */
function seconds(options: { readonly allowZero: boolean }): Parser<number> {
  return checked(shared.durationSeconds(options));
}

function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return checked(shared.oneOf(values));
}

const flag: Parser<boolean> = checked(shared.flag);

function ipAddress(raw: string): string {
  if (isIP(raw) === 0) throw new ValueProblem(`expected an IPv4 or IPv6 address, got ${quoted(raw)}`);
  return raw;
}

function ipv4Address(raw: string): string {
  if (!isIPv4(raw)) {
    throw new ValueProblem(`expected an IPv4 address (PASV replies can only carry IPv4), got ${quoted(raw)}`);
  }
  return raw;
}

function passivePortRange(raw: string): { readonly first: number; readonly last: number } {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(raw);
  if (match === null) throw new ValueProblem(`expected a range like 30000-30099, got ${quoted(raw)}`);
  const first = Number(match[1]);
  const last = Number(match[2] ?? match[1]);
  if (first < 1024 || last > 65535) {
    throw new ValueProblem(`ports must be from 1024 to 65535, got ${quoted(raw)}`);
  }
  if (first > last) throw new ValueProblem(`first port ${first} is greater than last port ${last}`);
  return { first, last };
}

function pathText(what: string): Parser<string> {
  return (raw) => {
    if (/[\u0000-\u001f\u007f]/.test(raw)) throw new ValueProblem(`${what} contains control characters`);
    return raw;
  };
}

/** Secret names and ARNs: letters, digits and /_+=.@:- (what Secrets Manager allows). */
function secretId(raw: string): string {
  if (!/^[A-Za-z0-9/_+=.@:-]{1,2048}$/.test(raw)) {
    throw new ValueProblem(`expected a Secrets Manager secret name or ARN, got ${quoted(raw)}`);
  }
  return raw;
}

/** CloudWatch namespaces: 1-255 of letters, digits and . - _ / # : and space, not starting with "AWS/". */
function metricsNamespace(raw: string): string {
  if (!/^[A-Za-z0-9.\-_/#: ]{1,255}$/.test(raw) || raw.startsWith('AWS/')) {
    throw new ValueProblem(`expected a CloudWatch namespace (letters, digits and . - _ / # :, not AWS/...), got ${quoted(raw)}`);
  }
  return raw;
}

function dimensionValue(raw: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(raw)) throw new ValueProblem(`expected 1-64 letters, digits, '.', '_' or '-', got ${quoted(raw)}`);
  return raw;
}

/** Event bus names and ARNs (EventBridge allows letters, digits and . - _ / in names). */
function eventBusName(raw: string): string {
  if (!/^[A-Za-z0-9._\-/:]{1,1600}$/.test(raw)) throw new ValueProblem(`expected an EventBridge bus name or ARN, got ${quoted(raw)}`);
  return raw;
}

const bucketName: Parser<string> = checked(shared.bucketName);

const USERS_REQUIRED = 'unset; one of FTP_USERS_FILE, FTP_USERS_SECRET_ID, FTP_USERS_TABLE is required';

/** DynamoDB table names: 3 to 255 of letters, digits, _ . - */
function tableName(raw: string): string {
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(raw)) throw new ValueProblem(`expected a DynamoDB table name (3 to 255 of letters, digits, _ . -), got ${quoted(raw)}`);
  return raw;
}

function endpointUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValueProblem(`expected an http:// or https:// URL, got ${quoted(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValueProblem(`expected an http:// or https:// URL, got ${quoted(raw)}`);
  }
  return raw;
}

function regionName(raw: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw)) throw new ValueProblem(`expected a region name like eu-west-1, got ${quoted(raw)}`);
  return raw;
}

const storePrefix: Parser<string> = checked(shared.keyPrefix);

const CHECKSUM_MODES: readonly ChecksumMode[] = ['when_supported', 'when_required'];
const PERCENT_COPY_MODES: readonly PercentCopyMode[] = ['detect', 'copy', 'read-back'];

// --- the table -------------------------------------------------------------

const VARIABLES = {
  FTP_LISTEN_ADDRESS: withDefault({
    value: '0.0.0.0',
    description: 'Address the FTP and implicit FTPS listeners bind to (IPv4 or IPv6 literal; :: for every address).',
    parse: ipAddress,
  }),
  FTP_PORT: withDefault({ value: '21', description: 'FTP control port (explicit FTPS via AUTH TLS on the same port).', parse: port({ allowZero: false }) }),
  FTPS_IMPLICIT_PORT: withDefault({
    value: '990',
    description: 'Implicit FTPS port (TLS from the first byte); 0 = off. Off by itself when TLS is off.',
    parse: port({ allowZero: true }),
  }),
  FTP_PASSIVE_PORTS: withDefault({
    value: '30000-30099',
    description: 'Passive data port range first-last (1024-65535); must not contain FTP_PORT, FTPS_IMPLICIT_PORT or HEALTH_PORT.',
    parse: passivePortRange,
  }),
  FTP_PASSIVE_ADDRESS: optional({
    defaultText: "the control connection's local address",
    description: 'IPv4 address announced in PASV/EPSV replies, e.g. the public address of a load balancer (PASV can only carry IPv4).',
    parse: ipv4Address,
  }),
  FTP_ACTIVE_MODE: withDefault({
    value: 'off',
    description: "on|off: allow PORT/EPRT (active mode), only towards the client's own address and ports >= 1024.",
    parse: flag,
  }),
  FTP_TLS_MODE: optional({
    defaultText: 'optional if TLS credentials are set, else off',
    description: 'off|optional|required; required refuses login before AUTH TLS and transfers without PROT P.',
    parse: oneOf(TLS_MODES),
  }),
  FTP_TLS_SESSION_REUSE: withDefault({
    value: 'required',
    description:
      "required|optional: a PROT P data connection must resume its control connection's TLS session (as vsftpd's require_ssl_reuse), so no other connection from the same address can take it; a user's tlsSessionReuse overrides it.",
    parse: oneOf(TLS_SESSION_REUSE_MODES),
  }),
  FTP_TLS_CLOSE_NOTIFY: withDefault({
    value: 'required',
    description:
      "required|optional: a PROT P upload is committed only if it ended with the client's TLS close_notify (as vsftpd's strict_ssl_read_eof); optional also commits one that ended in a clean FIN without it (never a reset), for clients that never send it; a user's tlsCloseNotify overrides it.",
    parse: oneOf(TLS_CLOSE_NOTIFY_MODES),
  }),
  FTP_TLS_HANDSHAKE_TIMEOUT_SECONDS: withDefault({
    value: '10',
    description: 'Deadline of every TLS handshake (implicit FTPS, AUTH TLS, PROT P data connections).',
    parse: seconds({ allowZero: false }),
  }),
  FTP_TLS_CERT_FILE: optional({
    description: 'PEM certificate chain file for FTPS (together with FTP_TLS_KEY_FILE); re-read when it changes.',
    parse: pathText('the path'),
  }),
  FTP_TLS_KEY_FILE: optional({
    description: 'PEM private key file for FTPS (together with FTP_TLS_CERT_FILE); re-read when it changes.',
    parse: pathText('the path'),
  }),
  FTP_TLS_SECRET_ID: optional({
    description: 'Secrets Manager secret with JSON {"certificate": PEM, "privateKey": PEM}; instead of the two files.',
    parse: secretId,
  }),
  FTP_USERS_FILE: optional({
    defaultText: USERS_REQUIRED,
    description: 'Users JSON file ({"users": [...]}); re-read when it changes.',
    parse: pathText('the path'),
  }),
  FTP_USERS_SECRET_ID: optional({
    defaultText: USERS_REQUIRED,
    description: 'Secrets Manager secret holding the users JSON; re-read when a new version appears.',
    parse: secretId,
  }),
  FTP_USERS_TABLE: optional({
    defaultText: USERS_REQUIRED,
    description: 'DynamoDB table of users, one item per partner (docs/partners.md); read again every FTP_RELOAD_SECONDS (one Scan).',
    parse: tableName,
  }),
  S3_BUCKET: required({ description: 'Bucket that holds every file.', parse: bucketName }),
  S3_PREFIX: withDefault({
    value: '',
    description: "Root prefix inside the bucket (e.g. ftp/); users' homes are below it. Slashes at either end are ignored.",
    parse: storePrefix,
  }),
  S3_ENDPOINT: optional({
    defaultText: 'unset = AWS S3',
    description: 'Endpoint URL of an S3-compatible store, e.g. http://127.0.0.1:9000.',
    parse: endpointUrl,
  }),
  S3_FORCE_PATH_STYLE: optional({
    defaultText: 'true if S3_ENDPOINT is set, else false',
    description: 'true|false: address buckets as endpoint/bucket/key instead of bucket.endpoint/key.',
    parse: flag,
  }),
  AWS_REGION: optional({
    defaultText: 'AWS_DEFAULT_REGION, else the SDK default',
    description: 'AWS region of the bucket and secrets; credentials come from the standard AWS chain.',
    parse: regionName,
  }),
  AWS_DEFAULT_REGION: optional({ description: 'Used when AWS_REGION is unset.', parse: regionName }),
  S3_CHECKSUM: withDefault({
    value: 'when_supported',
    description: 'when_supported|when_required: when to send checksums on uploads; some S3-compatible stores need when_required, which also stores no checksum with uploads (HASH then reads the file).',
    parse: oneOf(CHECKSUM_MODES),
  }),
  S3_COPY_PERCENT_NAMES: withDefault({
    value: 'detect',
    description:
      "detect|copy|read-back: how APPE and REST+STOR keep the start (5 MiB or more) of a file whose name holds '%': copy = inside S3 (UploadPartCopy, right on AWS S3); read-back = through the bridge, for stores that decode the copy source twice (Ceph RGW); detect = a probe with scratch objects, once per task, the first time it matters.",
    parse: oneOf(PERCENT_COPY_MODES),
  }),
  S3_PART_SIZE_MIB: withDefault({
    value: '8',
    description: 'First multipart upload part size in MiB (5-5120).',
    parse: integer({ min: 5, max: 5120 }),
  }),
  FTP_UPLOAD_BUFFER_MIB: optional({
    defaultText: `half the container memory limit if one is visible, else ${FIXED_UPLOAD_BUFFER_MIB}; at least S3_PART_SIZE_MIB`,
    description:
      'Memory in MiB that all uploads together may hold in part buffers (at least S3_PART_SIZE_MIB); uploads wait for room, and it sets the largest file accepted (see Memory).',
    parse: integer({ min: 5, max: 4_194_304 }),
  }),
  FTP_UPLOAD_BUFFER_SHARE_PERCENT: withDefault({
    value: '50',
    description:
      'Most of FTP_UPLOAD_BUFFER_MIB one user, or one client address, holds for parts being filled (1-100); one holding nothing may always take one part, and a second for parallel parts while nobody waits.',
    parse: integer({ min: 1, max: 100 }),
  }),
  FTP_UPLOAD_STALL_SECONDS: withDefault({
    value: '30',
    description:
      'An upload holding a part buffer that waits this long for its client with less than 1 KiB per second arriving fails (426) and gives the buffer back; nothing is stored.',
    parse: seconds({ allowZero: false }),
  }),
  FTP_PENDING_UPLOAD_HOURS: withDefault({
    value: '24',
    description:
      'How long an interrupted upload stays pending, in hours (0-720, decimals allowed): its whole parts are kept, invisible, for the partner to continue with REST; then discarded. 0 keeps nothing. The CDK app sets the bucket lifecycle rule from the same figure.',
    parse: checked(shared.durationHours({ maxHours: 720 })),
  }),
  FTP_PENDING_UPLOADS_FILE: optional({
    defaultText: 'unset: S3 says (ListMultipartUploads, ListParts)',
    description:
      'A file recording pending uploads, for an S3 server that answers neither ListMultipartUploads nor ListParts (the local stack sets it); one bridge process only.',
    parse: pathText('the path'),
  }),
  FTP_DATA_TIMEOUT_SECONDS: withDefault({
    value: '30',
    description: 'How long a data connection may take to arrive before the transfer fails.',
    parse: seconds({ allowZero: false }),
  }),
  FTP_LOGIN_TIMEOUT_SECONDS: withDefault({
    value: '60',
    description: 'Time from connecting to a successful login before the connection is closed.',
    parse: seconds({ allowZero: false }),
  }),
  FTP_IDLE_TIMEOUT_SECONDS: withDefault({
    value: '900',
    description: 'Idle timeout of a control connection (no command and no transfer running), and of a data connection on which no byte moves.',
    parse: seconds({ allowZero: false }),
  }),
  FTP_LOGIN_FAILURE_DELAY_MS: withDefault({
    value: '1000',
    description: 'A failed login is answered this many milliseconds after PASS arrived (0-60000).',
    parse: integer({ min: 0, max: 60_000 }),
  }),
  FTP_LOCKOUT_FAILURES: withDefault({
    value: '5',
    description: 'Failed logins from one address (IPv6: one /64) within FTP_LOCKOUT_SECONDS that lock it out; 0 = never.',
    parse: integer({ min: 0, max: 1_000_000 }),
  }),
  FTP_LOCKOUT_SECONDS: withDefault({
    value: '900',
    description: 'Window for counting failures, and how long a locked-out address stays locked.',
    parse: seconds({ allowZero: false }),
  }),
  FTP_RENAME_MAX_OBJECTS: withDefault({
    value: '1000',
    description: 'Largest number of objects a folder rename (RNFR/RNTO) may copy; larger folders are refused.',
    parse: integer({ min: 1, max: 100_000_000 }),
  }),
  FTP_CHECKSUM_READ_MIB_PER_HOUR: withDefault({
    value: '4096',
    description:
      'MiB of file bytes a user (all their sessions on a task) may have read per hour to compute checksums (HASH, XSHA1, XMD5, XCRC ...) that S3 does not keep and the task has not computed yet; past it 450. 0 = stored and already computed checksums only.',
    parse: integer({ min: 0, max: 1_000_000_000 }),
  }),
  FTP_TIME_CHANGES_PER_HOUR: withDefault({
    value: '3600',
    description:
      'MFMT/MFF/SITE UTIME a user may make per hour that change a time (each is a copy of the object inside S3, a new version and an "Object Created" event); setting the time a file has costs none. Past it 450.',
    parse: integer({ min: 0, max: 1_000_000_000 }),
  }),
  FTP_READ_BACK_MIB_PER_HOUR: withDefault({
    value: '4096',
    description:
      "MiB a user (all their sessions on a task) may have read back per hour for resumes and appends whose kept start S3 cannot copy (under 5 MiB; '%' names on stores that copy them wrong): each is read from S3 and uploaded again. Past it 450.",
    parse: integer({ min: 0, max: 1_000_000_000 }),
  }),
  FTP_RENAME_OBJECTS_PER_HOUR: withDefault({
    value: '10000',
    description:
      'Objects a user may have copied by renames (RNFR/RNTO) per hour: a rename copies every object it moves inside S3 (a new object and an "Object Created" event each). A folder rename past what is left is refused whole, with 450.',
    parse: integer({ min: 0, max: 1_000_000_000 }),
  }),
  FTP_LIST_CLIENT_TIMES: withDefault({
    value: 'on',
    description:
      'on|off: LIST and MLSD show the times clients set (MFMT), at one S3 HeadObject per file a task has not listed before; off: S3\'s LastModified, no HeadObject (MDTM and MLST still show them).',
    parse: flag,
  }),
  FTP_MAX_CONNECTIONS: withDefault({
    value: '500',
    description:
      'Most client connections held at once, control and data together, TLS handshakes included; a new control connection past it gets 421.',
    parse: integer({ min: 1, max: 1_000_000 }),
  }),
  FTP_MAX_CONNECTIONS_PER_ADDRESS: withDefault({
    value: '20',
    description: 'The same limit per client address (IPv6: per /64), so one address cannot take every slot.',
    parse: integer({ min: 1, max: 1_000_000 }),
  }),
  FTP_STATE_TABLE: optional({
    defaultText: 'unset = per-task limits',
    description:
      'DynamoDB table of the state every task shares: partner session leases, quota counts, lockout counts. Unset: kept in each task, so partner limits and lockouts hold per task and a restart forgets them.',
    parse: tableName,
  }),
  DYNAMODB_ENDPOINT: optional({
    defaultText: 'unset = AWS DynamoDB',
    description: 'Endpoint URL of a DynamoDB-compatible server (dynalite locally), e.g. http://127.0.0.1:4567; with it the bridge creates FTP_STATE_TABLE and FTP_USERS_TABLE if missing.',
    parse: endpointUrl,
  }),
  FTP_SESSION_LEASE_SECONDS: withDefault({
    value: '60',
    description:
      "How long a partner's session holds its place under maxSessions, and a continuing upload its pending upload, without renewal (renewed every third of it): a killed task's sessions and continuations free them within this time.",
    parse: seconds({ allowZero: false }),
  }),
  FTP_QUOTA_RECONCILE_SECONDS: withDefault({
    value: '300',
    description:
      "How often a partner's home is listed again to correct its quota count for what other tools wrote or removed (at most once per partner per interval across tasks, while the partner uploads).",
    parse: seconds({ allowZero: false }),
  }),
  HEALTH_PORT: withDefault({
    value: '8080',
    description: 'HTTP health check port; 0 = off.',
    parse: port({ allowZero: true }),
  }),
  FTP_SHUTDOWN_GRACE_SECONDS: withDefault({
    value: '100',
    description:
      'On SIGTERM, how long running transfers may finish before connections are closed; uploads then cut off are aborted in S3 within 10 s more (Fargate allows 120 s in all).',
    parse: seconds({ allowZero: true }),
  }),
  FTP_RELOAD_SECONDS: withDefault({
    value: '10',
    description: 'How often the users and TLS sources are checked for changes (decimals allowed; each check of a secret is one API call).',
    parse: seconds({ allowZero: false }),
  }),
  FTP_METRICS_NAMESPACE: optional({
    defaultText: 'unset: no metrics',
    description:
      'CloudWatch namespace of the runtime metrics (docs/metrics.md), written as embedded-metric-format lines into the log every FTP_METRICS_INTERVAL_SECONDS.',
    parse: metricsNamespace,
  }),
  FTP_METRICS_SHARD: withDefault({
    value: 'local',
    description: 'The Shard dimension of every metric (the CDK app sets shard-1, shard-2, ...).',
    parse: dimensionValue,
  }),
  FTP_METRICS_INTERVAL_SECONDS: withDefault({
    value: '60',
    description: 'How often the metric lines are written (one set per interval).',
    parse: seconds({ allowZero: false }),
  }),
  FTP_UPLOAD_EVENTS_BUS: optional({
    defaultText: 'unset: no upload events',
    description:
      'EventBridge bus name or ARN that gets an "FTPS Server File Upload Completed" or "...Failed" event per upload (docs/audit-and-events.md); sent in the background, never delaying the reply.',
    parse: eventBusName,
  }),
  LOG_LEVEL: withDefault({
    value: 'info',
    description: `Log level: ${LOG_LEVELS.join('|')}. Logs are JSON lines on stdout.`,
    parse: oneOf(LOG_LEVELS),
  }),
} satisfies Record<string, VariableSpec<unknown>>;

type VariableName = keyof typeof VARIABLES;

// The CDK app writes only variables this table reads (a compile-time check).
CONTAINER_VARIABLES satisfies readonly VariableName[];

const PORT_VARIABLES = { control: 'FTP_PORT', implicitTls: 'FTPS_IMPLICIT_PORT', health: 'HEALTH_PORT' } as const satisfies Record<
  ListenerPort,
  ContainerVariable
>;
type Values = { readonly [K in VariableName]: ReturnType<(typeof VARIABLES)[K]['read']> };

/** Every variable, in --help order. */
export function configVariables(): readonly ConfigVariable[] {
  return (Object.keys(VARIABLES) as VariableName[]).map((name) => ({
    name,
    defaultText: VARIABLES[name].defaultText === '' ? 'empty' : VARIABLES[name].defaultText,
    description: VARIABLES[name].description,
  }));
}

/** The --help text: every variable with its default and a one-line description. */
export function configHelp(): string {
  const lines = ['Configuration comes from environment variables only (empty counts as unset):', ''];
  for (const variable of configVariables()) {
    lines.push(`  ${variable.name}  (default: ${variable.defaultText})`, `      ${variable.description}`);
  }
  return `${lines.join('\n')}\n`;
}

/** An unset or empty variable counts as unset. */
function rawValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

function readValues(env: NodeJS.ProcessEnv): Values {
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(VARIABLES) as VariableName[]) {
    try {
      values[name] = VARIABLES[name].read(rawValue(env, name));
    } catch (error) {
      if (error instanceof ValueProblem) throw new ConfigError({ variable: name, problem: error.message });
      throw error;
    }
  }
  return values as Values;
}

/**
 * Reads and checks the whole configuration. Throws a ConfigError naming the first
 * bad variable (in --help order, then the rules between variables).
 */
export function loadConfig(env: NodeJS.ProcessEnv, host: HostFacts = {}): Config {
  const values = readValues(env);
  const fail = (variable: VariableName, problem: string): never => {
    throw new ConfigError({ variable, problem });
  };

  // TLS credentials: two files, or one secret.
  const certFile = values.FTP_TLS_CERT_FILE;
  const keyFile = values.FTP_TLS_KEY_FILE;
  if (certFile !== undefined && keyFile === undefined) fail('FTP_TLS_KEY_FILE', 'is required when FTP_TLS_CERT_FILE is set');
  if (keyFile !== undefined && certFile === undefined) fail('FTP_TLS_CERT_FILE', 'is required when FTP_TLS_KEY_FILE is set');
  if (values.FTP_TLS_SECRET_ID !== undefined && certFile !== undefined) {
    fail('FTP_TLS_SECRET_ID', 'cannot be combined with FTP_TLS_CERT_FILE and FTP_TLS_KEY_FILE; use one or the other');
  }
  let credentials: TlsCredentialsSource | undefined;
  if (certFile !== undefined && keyFile !== undefined) credentials = { kind: 'files', certFile, keyFile };
  else if (values.FTP_TLS_SECRET_ID !== undefined) credentials = { kind: 'secret', secretId: values.FTP_TLS_SECRET_ID };

  const tlsMode: TlsMode = values.FTP_TLS_MODE ?? (credentials === undefined ? 'off' : 'optional');
  if (tlsMode !== 'off' && credentials === undefined) {
    fail('FTP_TLS_MODE', `"${tlsMode}" needs TLS credentials: set FTP_TLS_CERT_FILE and FTP_TLS_KEY_FILE, or FTP_TLS_SECRET_ID`);
  }
  let implicitTlsPort = values.FTPS_IMPLICIT_PORT;
  if (tlsMode === 'off') {
    if (rawValue(env, 'FTPS_IMPLICIT_PORT') !== undefined && implicitTlsPort !== 0) {
      fail('FTPS_IMPLICIT_PORT', 'implicit FTPS needs TLS: set TLS credentials (and FTP_TLS_MODE not off), or set 0');
    }
    implicitTlsPort = 0;
  }

  // Ports must not collide.
  const controlPort = values.FTP_PORT;
  const healthPort = values.HEALTH_PORT;
  const passive = values.FTP_PASSIVE_PORTS;
  const [clash] = portClashes({ control: controlPort, implicitTls: implicitTlsPort, health: healthPort, passive });
  if (clash?.kind === 'same-port') {
    fail(PORT_VARIABLES[clash.port], `is the same as ${PORT_VARIABLES[clash.sameAs]} (${clash.value})`);
  } else if (clash?.kind === 'in-passive-range') {
    fail('FTP_PASSIVE_PORTS', `${passive.first}-${passive.last} contains ${PORT_VARIABLES[clash.port]} (${clash.value})`);
  }

  // Users: exactly one source.
  let users: DocumentSource;
  const userSources = (['FTP_USERS_FILE', 'FTP_USERS_SECRET_ID', 'FTP_USERS_TABLE'] as const).filter((name) => values[name] !== undefined);
  if (userSources.length > 1) {
    return fail(userSources[1]!, `cannot be combined with ${userSources[0]}; use one of FTP_USERS_FILE, FTP_USERS_SECRET_ID, FTP_USERS_TABLE`);
  } else if (values.FTP_USERS_FILE !== undefined) {
    users = { kind: 'file', path: values.FTP_USERS_FILE };
  } else if (values.FTP_USERS_SECRET_ID !== undefined) {
    users = { kind: 'secret', secretId: values.FTP_USERS_SECRET_ID };
  } else if (values.FTP_USERS_TABLE !== undefined) {
    users = { kind: 'table', tableName: values.FTP_USERS_TABLE };
  } else {
    return fail('FTP_USERS_FILE', 'is required (or FTP_USERS_SECRET_ID, or FTP_USERS_TABLE): where the users come from');
  }

  // Every upload needs room for at least one first part.
  const partMiB = values.S3_PART_SIZE_MIB;
  let uploadBuffer: UploadBufferSetting;
  if (values.FTP_UPLOAD_BUFFER_MIB !== undefined) {
    if (values.FTP_UPLOAD_BUFFER_MIB < partMiB) {
      fail('FTP_UPLOAD_BUFFER_MIB', `${values.FTP_UPLOAD_BUFFER_MIB} is less than S3_PART_SIZE_MIB (${partMiB}); an upload needs one part buffer`);
    }
    uploadBuffer = { bytes: values.FTP_UPLOAD_BUFFER_MIB * MIB, source: 'FTP_UPLOAD_BUFFER_MIB' };
  } else if (host.memoryLimitBytes !== undefined) {
    const mib = Math.max(partMiB, uploadBufferMiBForMemory(host.memoryLimitBytes));
    uploadBuffer = { bytes: mib * MIB, source: 'container memory limit' };
  } else {
    uploadBuffer = { bytes: Math.max(partMiB, FIXED_UPLOAD_BUFFER_MIB) * MIB, source: 'fixed default' };
  }

  return {
    listenAddress: values.FTP_LISTEN_ADDRESS,
    controlPort,
    implicitTlsPort,
    passivePorts: passive,
    passiveAddress: values.FTP_PASSIVE_ADDRESS,
    activeMode: values.FTP_ACTIVE_MODE,
    tlsMode,
    tlsSessionReuse: values.FTP_TLS_SESSION_REUSE,
    tlsCloseNotify: values.FTP_TLS_CLOSE_NOTIFY,
    tlsHandshakeTimeoutMs: values.FTP_TLS_HANDSHAKE_TIMEOUT_SECONDS,
    tlsCredentials: tlsMode === 'off' ? undefined : credentials,
    users,
    s3: {
      bucket: values.S3_BUCKET,
      prefix: values.S3_PREFIX,
      endpoint: values.S3_ENDPOINT,
      forcePathStyle: values.S3_FORCE_PATH_STYLE ?? values.S3_ENDPOINT !== undefined,
      region: values.AWS_REGION ?? values.AWS_DEFAULT_REGION,
      checksum: values.S3_CHECKSUM,
      partSizeBytes: values.S3_PART_SIZE_MIB * 1024 * 1024,
    },
    percentCopy: values.S3_COPY_PERCENT_NAMES,
    uploadBuffer,
    uploadBufferSharePercent: values.FTP_UPLOAD_BUFFER_SHARE_PERCENT,
    uploadStallMs: values.FTP_UPLOAD_STALL_SECONDS,
    pendingUploadMs: values.FTP_PENDING_UPLOAD_HOURS,
    pendingUploadsFile: values.FTP_PENDING_UPLOADS_FILE,
    dataConnectionTimeoutMs: values.FTP_DATA_TIMEOUT_SECONDS,
    loginTimeoutMs: values.FTP_LOGIN_TIMEOUT_SECONDS,
    idleTimeoutMs: values.FTP_IDLE_TIMEOUT_SECONDS,
    loginFailureDelayMs: values.FTP_LOGIN_FAILURE_DELAY_MS,
    lockoutFailures: values.FTP_LOCKOUT_FAILURES,
    lockoutMs: values.FTP_LOCKOUT_SECONDS,
    renameMaxObjects: values.FTP_RENAME_MAX_OBJECTS,
    checksumReadBytesPerHour: values.FTP_CHECKSUM_READ_MIB_PER_HOUR * MIB,
    timeChangesPerHour: values.FTP_TIME_CHANGES_PER_HOUR,
    renameObjectsPerHour: values.FTP_RENAME_OBJECTS_PER_HOUR,
    readBackBytesPerHour: values.FTP_READ_BACK_MIB_PER_HOUR * MIB,
    listClientTimes: values.FTP_LIST_CLIENT_TIMES,
    maxConnections: values.FTP_MAX_CONNECTIONS,
    maxConnectionsPerAddress: values.FTP_MAX_CONNECTIONS_PER_ADDRESS,
    state: { table: values.FTP_STATE_TABLE, endpoint: values.DYNAMODB_ENDPOINT },
    sessionLeaseMs: values.FTP_SESSION_LEASE_SECONDS,
    quotaReconcileMs: values.FTP_QUOTA_RECONCILE_SECONDS,
    healthPort,
    shutdownGraceMs: values.FTP_SHUTDOWN_GRACE_SECONDS,
    reloadIntervalMs: values.FTP_RELOAD_SECONDS,
    logLevel: values.LOG_LEVEL,
    metrics:
      values.FTP_METRICS_NAMESPACE === undefined
        ? undefined
        : { namespace: values.FTP_METRICS_NAMESPACE, shard: values.FTP_METRICS_SHARD, intervalMs: values.FTP_METRICS_INTERVAL_SECONDS },
    uploadEventsBus: values.FTP_UPLOAD_EVENTS_BUS,
  };
}
