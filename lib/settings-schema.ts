/**
 * Every setting of the CDK app, each with its kind of value, its default and its meaning:
 * the one place defaults live. The parser (settings.ts), the type `BridgeSettings` and the
 * reference table in docs/deploy.md (`npm run docs`) are all made from this table.
 */
import { z } from 'zod';
import { LOG_LEVELS } from '../runtime/src/container-environment.ts';
import { bucketName, ipv4Cidr, keyPrefix, MAX_TIMER_MS, oneOf, port, wholeNumber, flag } from '../runtime/src/settings/validators.ts';

/** Where the bridge reads its partners (runtime: FTP_USERS_SECRET_ID or FTP_USERS_TABLE). */
export const USERS_STORES = ['secret', 'table'] as const;
import { TLS_MODES } from '../runtime/src/tls-policy.ts';
import { DEFAULT_ALARM_THRESHOLDS, SHARD_DOWN_WINDOW_EXTRA_MINUTES } from './alarm-thresholds.ts';
import { AWS_LIMITS, CONTAINER_PORTS } from './deployment-ports.ts';
import { checked, list, matching, numberIn, optional } from './setting-kinds.ts';

/** Every context key of this app starts with this prefix; unknown keys with it are refused. */
export const SETTINGS_PREFIX = 'bridge:';

/** How tasks in a new VPC reach AWS APIs: interface endpoints (no internet path) or NAT gateways. */
export const EGRESS_MODES = ['endpoints', 'nat'] as const;
export type EgressMode = (typeof EGRESS_MODES)[number];

/** Log retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Fargate task sizes: CPU units → accepted memory in MiB. */
export const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: steps(1024, 4096, 1024),
  1024: steps(2048, 8192, 1024),
  2048: steps(4096, 16384, 1024),
  4096: steps(8192, 30720, 1024),
  8192: steps(16384, 61440, 4096),
  16384: steps(32768, 122880, 8192),
};

function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/**
 * The runtime's defaults of the limits the settings leave unset (runtime/src/config.ts;
 * test/infra/settings.test.ts checks they agree): the rules between settings need them.
 */
export const RUNTIME_DEFAULTS = {
  maxConnections: 500,
  maxConnectionsPerAddress: 20,
  ftpIdleTimeoutSeconds: 900,
  ftpLoginTimeoutSeconds: 60,
  ftpDataTimeoutSeconds: 30,
} as const;

/** One row of the table: the schema that reads the value (defaults included) and what docs/deploy.md says. */
interface SettingRow<S extends z.ZodType> {
  readonly schema: S;
  /** The default as docs/deploy.md shows it. */
  readonly defaultText: string;
  readonly meaning: string;
}

function withDefault<T>(kind: z.ZodType<T>, value: T & {}, meaning: string): SettingRow<z.ZodDefault<z.ZodType<T>>> {
  const text = typeof value === 'string' && value === '' ? '""' : typeof value === 'string' ? value : JSON.stringify(value);
  return { schema: kind.default(value as z.util.NoUndefined<T>), defaultText: `\`${text}\``, meaning };
}

/** A setting that is unset unless given; `unset` says what happens then (e.g. "new VPC"). */
function unsetByDefault<T>(kind: z.ZodType<T | undefined>, unset: string, meaning: string): SettingRow<z.ZodType<T | undefined>> {
  return { schema: kind, defaultText: unset === '' ? '—' : `— (${unset})`, meaning };
}

/** The longest timeout the runtime can wait, in whole seconds. */
const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

/** A runtime limit (1 to `max`) written into the container only when set; unset, the runtime's default applies. */
function runtimeLimit(max: number, name: keyof typeof RUNTIME_DEFAULTS, meaning: string) {
  return unsetByDefault(optional(wholeNumber({ min: 1, max })), `runtime's ${RUNTIME_DEFAULTS[name]}`, meaning);
}

const secretArn = matching(
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/,
  'a complete Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)',
);
const kmsKeyArn = matching(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)');
const domainName = matching(
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
  'a lowercase domain name such as ftp.example.com (no trailing dot)',
);
const subnetId = matching(/^subnet-[0-9a-f]{8,17}$/, 'a subnet id such as subnet-0123456789abcdef0');

export const SETTINGS = {
  stackName: withDefault(
    checked(matching(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a name of letters, digits and hyphens that starts with a letter (at most 128)')),
    'FtpS3Bridge',
    'CloudFormation stack name (deploy several bridges side by side)',
  ),
  allowedCidrs: withDefault(
    list(ipv4Cidr, { min: 1, distinct: 'network' }),
    ['0.0.0.0/0'],
    'IPv4 networks allowed to reach the FTP ports (and, in active mode, to be connected to); comma-separated with `-c`. Each user also has its own `allowFrom` list',
  ),
  shardCount: withDefault(
    checked(wholeNumber({ min: 1, max: AWS_LIMITS.listenersPerLoadBalancer })),
    2,
    'shards = services with one task each, spread round-robin over the AZs',
  ),
  passivePortsPerShard: withDefault(
    checked(wholeNumber({ min: 1, max: AWS_LIMITS.targetGroupsPerService - 1 })),
    3,
    `passive ports per shard: at most 3 with implicit FTPS (${AWS_LIMITS.targetGroupsPerService} target groups per service), 4 without`,
  ),
  firstPassivePort: withDefault(
    checked(wholeNumber({ min: 1024, max: 65535 })),
    30000,
    'start of the passive range; shard *i* owns the *i*-th slice',
  ),
  controlPort: withDefault(checked(port({ allowZero: false })), 21, `public control port (container port ${CONTAINER_PORTS.control})`),
  implicitTlsPort: withDefault(
    checked(port({ allowZero: true })),
    990,
    `public implicit-FTPS port (container port ${CONTAINER_PORTS.implicitTls}); \`0\` turns implicit FTPS off`,
  ),
  activeMode: withDefault(checked(flag), false, 'allow PORT/EPRT: tasks connect out to client ports 1024-65535 (needs `egress=nat`)'),
  tlsMode: withDefault(checked(oneOf(TLS_MODES)), 'required', '`off`, `optional` or `required` (TLS before USER/PASS and for data)'),
  vpcId: unsetByDefault(
    optional(matching(/^vpc-[0-9a-f]{8,17}$/, 'a VPC id such as vpc-0123456789abcdef0')),
    'new VPC',
    'existing VPC; then also `vpcAvailabilityZones`, `vpcPublicSubnetIds`, `vpcTaskSubnetIds`',
  ),
  vpcAvailabilityZones: withDefault(
    list(matching(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'an availability zone name such as eu-west-1a'), { distinct: 'zone' }),
    [],
    'existing VPC: the zones to use (one Elastic IP each)',
  ),
  vpcPublicSubnetIds: withDefault(
    list(subnetId, { distinct: 'subnet' }),
    [],
    'existing VPC: one public subnet per zone, same order (load balancer)',
  ),
  vpcTaskSubnetIds: withDefault(
    list(subnetId, { distinct: 'subnet' }),
    [],
    'existing VPC: one private subnet per zone, same order (tasks; must reach ECR, Logs, Secrets Manager and S3)',
  ),
  maxAzs: withDefault(checked(wholeNumber({ min: 1, max: 6 })), 2, 'new VPC: availability zones (without an account at synth CDK knows 2)'),
  egress: withDefault(
    checked(oneOf(EGRESS_MODES)),
    'endpoints',
    'new VPC: `endpoints` (interface endpoints, no internet path) or `nat` (one NAT gateway per AZ)',
  ),
  elasticIpAllocationIds: withDefault(
    list(matching(/^eipalloc-[0-9a-f]{8,17}$/, 'an Elastic IP allocation ID such as eipalloc-0123456789abcdef0'), { distinct: 'allocation ID' }),
    [],
    'existing Elastic IPs for the load balancer, one per zone in zone order (as Transfer Family\'s AddressAllocationIds); empty: new ones, retained when the stack goes',
  ),
  elasticIpQuota: withDefault(
    checked(wholeNumber({ min: 1, max: 10000 })),
    AWS_LIMITS.elasticIpsPerRegion,
    'Elastic IPs this stack may allocate in its region (the default quota is 5, shared with everything else in the region); raise it with your quota',
  ),
  bucketName: unsetByDefault(
    optional(bucketName),
    'new bucket',
    'existing bucket to serve; enable "Amazon EventBridge notifications" on it for the queue',
  ),
  bucketKmsKeyArn: unsetByDefault(
    optional(kmsKeyArn),
    '',
    'existing bucket encrypted with a customer managed key: the task may use it',
  ),
  bucketVersioning: withDefault(
    checked(flag),
    false,
    'new bucket: keep every version, so deletes and overwrites can be undone (noncurrent versions expire after `bucketNoncurrentVersionDays`)',
  ),
  bucketNoncurrentVersionDays: withDefault(
    checked(wholeNumber({ min: 0, max: 36500 })),
    30,
    'new versioned bucket: days a replaced or deleted version is kept; `0` keeps them forever',
  ),
  bucketPrefix: withDefault(
    checked(keyPrefix),
    '',
    "root key prefix of the bridge in the bucket (`S3_PREFIX`, the same rule); users' homes are below it",
  ),
  usersStore: withDefault(
    checked(oneOf(USERS_STORES)),
    'secret',
    'where the bridge reads partners: `secret` (the users secret, at most 64 KiB: about 250 partners) or `table` (a new DynamoDB users table, one item per partner; docs/partners.md)',
  ),
  usersSecretArn: unsetByDefault(optional(secretArn), 'new secret', 'existing users secret (complete ARN)'),
  tlsSecretArn: unsetByDefault(optional(secretArn), 'new, empty secret', 'existing TLS secret (complete ARN)'),
  usersSecretKmsKeyArn: unsetByDefault(
    optional(kmsKeyArn),
    'AWS managed key',
    'existing users secret encrypted with a customer managed key: the task may decrypt with it (through Secrets Manager only)',
  ),
  tlsSecretKmsKeyArn: unsetByDefault(
    optional(kmsKeyArn),
    'AWS managed key',
    'existing TLS secret encrypted with a customer managed key: the task may decrypt with it (through Secrets Manager only)',
  ),
  taskCpu: withDefault(checked(numberIn(Object.keys(FARGATE_MEMORY).map(Number))), 512, 'task CPU units (Fargate sizes)'),
  taskMemoryMiB: withDefault(checked(wholeNumber({ min: 512, max: 122880 })), 1024, 'task memory, must fit the CPU'),
  uploadBufferMiB: unsetByDefault(
    optional(wholeNumber({ min: 8, max: 4_194_304 })),
    'half of `taskMemoryMiB`',
    'memory all uploads of a task may hold in part buffers (`FTP_UPLOAD_BUFFER_MIB`); it sets the largest file accepted',
  ),
  maxConnections: runtimeLimit(1_000_000, 'maxConnections', 'client connections a task holds at once, control and data (`FTP_MAX_CONNECTIONS`)'),
  maxConnectionsPerAddress: runtimeLimit(1_000_000, 'maxConnectionsPerAddress', 'the same per client address, IPv6 per /64 (`FTP_MAX_CONNECTIONS_PER_ADDRESS`)'),
  ftpIdleTimeoutSeconds: runtimeLimit(
    MAX_TIMER_SECONDS,
    'ftpIdleTimeoutSeconds',
    'idle control connection timeout (`FTP_IDLE_TIMEOUT_SECONDS`); below `idleTimeoutSeconds`, so the task says 421 before the load balancer drops it silently',
  ),
  ftpLoginTimeoutSeconds: runtimeLimit(MAX_TIMER_SECONDS, 'ftpLoginTimeoutSeconds', 'time from connecting to a successful login (`FTP_LOGIN_TIMEOUT_SECONDS`)'),
  ftpDataTimeoutSeconds: runtimeLimit(MAX_TIMER_SECONDS, 'ftpDataTimeoutSeconds', 'time a data connection may take to arrive (`FTP_DATA_TIMEOUT_SECONDS`)'),
  pendingUploadHours: withDefault(
    checked(wholeNumber({ min: 0, max: 720 })),
    24,
    'how long an interrupted upload stays pending for its partner to continue (`FTP_PENDING_UPLOAD_HOURS`); a new bucket aborts incomplete multipart uploads a day or more after it (whole days)',
  ),
  idleTimeoutSeconds: withDefault(
    checked(wholeNumber({ min: 60, max: 6000, note: 'NLB TCP listener limits' })),
    3600,
    'NLB TCP idle timeout (60-6000): a quiet control connection survives long transfers',
  ),
  deregistrationDelaySeconds: withDefault(
    checked(wholeNumber({ min: 0, max: 3600 })),
    10,
    'how long ECS waits after taking a stopping task out of the load balancer before SIGTERM; the task then says 421 to idle sessions at once and lets transfers finish for up to 105 s (docs/deploys.md)',
  ),
  hostedZoneId: unsetByDefault(
    optional(matching(/^Z[A-Z0-9]{1,31}$/, 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ')),
    'no DNS record',
    'Route 53 public hosted zone for the name partners use; then also `hostedZoneName`',
  ),
  hostedZoneName: unsetByDefault(optional(domainName), '', "that hosted zone's domain, such as example.com"),
  dnsName: unsetByDefault(
    optional(domainName),
    '`ftp.` + `hostedZoneName`',
    'the name partners connect to: an alias record (A) in the zone for the load balancer; the TLS certificate must name it',
  ),
  alarmEmail: unsetByDefault(
    optional(matching(/^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/, 'an e-mail address such as ops@example.com')),
    'none',
    'e-mail address subscribed to the new alarm topic (confirm the mail AWS sends)',
  ),
  alarmTopicArn: unsetByDefault(
    optional(matching(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)')),
    'new topic',
    'existing SNS topic the alarms notify instead (your paging or chat topic; its policy must let CloudWatch publish)',
  ),
  alarmShardDownMinutes: withDefault(
    checked(wholeNumber({ min: 6, max: 60 })),
    DEFAULT_ALARM_THRESHOLDS.shardDownMinutes,
    `\`ShardNNotRunning\`: minutes without a running task, out of ${SHARD_DOWN_WINDOW_EXTRA_MINUTES} more, that are not a deploy (a stop-first deploy leaves a shard 3-5 minutes without one)`,
  ),
  alarmFailedTransfers: withDefault(checked(wholeNumber({ min: 1, max: 1_000_000 })), DEFAULT_ALARM_THRESHOLDS.failedTransfers, 'failed transfers in 5 minutes that raise an alarm'),
  alarmFailedLogins: withDefault(checked(wholeNumber({ min: 1, max: 1_000_000 })), DEFAULT_ALARM_THRESHOLDS.failedLogins, 'failed logins in 5 minutes that raise an alarm (password guessing)'),
  alarmDeadLetterMessages: withDefault(
    checked(wholeNumber({ min: 1, max: 1_000_000 })),
    DEFAULT_ALARM_THRESHOLDS.deadLetterMessages,
    'messages in the object-created dead-letter queue that raise an alarm',
  ),
  alarmMemoryPercent: withDefault(
    checked(wholeNumber({ min: 1, max: 100 })),
    DEFAULT_ALARM_THRESHOLDS.memoryPercent,
    "a shard's task memory use, in percent of `taskMemoryMiB`, for 3 minutes out of 5, that raises an alarm",
  ),
  alarmTaskStops: withDefault(
    checked(wholeNumber({ min: 1, max: 1000 })),
    DEFAULT_ALARM_THRESHOLDS.taskStops,
    'tasks stopping on their own (exited, failed to start or failed health checks) in 15 minutes that raise an alarm: a crash loop',
  ),
  alarmCertificateDays: withDefault(
    checked(wholeNumber({ min: 1, max: 365 })),
    DEFAULT_ALARM_THRESHOLDS.certificateDays,
    'days left on the served TLS certificate below which an alarm is raised (TLS on only; renew and update the secret, docs/certificates.md)',
  ),
  logRetentionDays: withDefault(
    checked(numberIn(LOG_RETENTION_DAYS, `a retention CloudWatch Logs accepts (${LOG_RETENTION_DAYS.join(', ')})`)),
    90,
    'CloudWatch Logs retention of the task logs',
  ),
  logLevel: withDefault(checked(oneOf(LOG_LEVELS)), 'info', 'runtime log level'),
};

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

type Shape = { [K in SettingName]: (typeof SETTINGS)[K]['schema'] };

/** Every setting on its own (the rules between settings are added in settings.ts). */
export const settingFields = z.strictObject(
  Object.fromEntries(SETTING_NAMES.map((name) => [name, SETTINGS[name].schema])) as Shape,
);

/** The deployment's settings, as the stack takes them. */
export type BridgeSettings = Readonly<z.output<typeof settingFields>>;
