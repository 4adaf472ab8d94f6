import type { TlsMode } from './tls-policy.ts';

/**
 * The contract between the CDK app and the runtime: the environment a deployed container
 * gets, built from typed settings, and the rules both sides check before anything runs
 * (port clashes, log levels, the upload budget for a task's memory). The CDK app imports
 * this module and nothing else of the runtime's configuration; config.ts parses what
 * `containerEnvironment` writes, and an infra test feeds the synthesized environment
 * through `loadConfig`.
 */

/** LOG_LEVEL values, as pino names them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MIB = 1024 * 1024;

/**
 * The default upload budget with a visible memory limit: half of it. The other half is for
 * what the budget does not count: Node itself (about 60 MiB), sessions and their socket
 * and stream buffers, TLS, downloads, and garbage not yet collected.
 */
export function uploadBufferMiBForMemory(memoryLimitBytes: number): number {
  return Math.floor(memoryLimitBytes / 2 / MIB);
}

/**
 * The shared-state table's layout (FTP_STATE_TABLE): the CDK app creates it so, and the
 * runtime (and a DYNAMODB_ENDPOINT bridge that creates its own) reads and writes it so.
 */
export const STATE_TABLE_LAYOUT = {
  /** The one key: a string partition key. */
  partitionKey: 'pk',
  /** Epoch seconds: DynamoDB's TTL cleanup. */
  ttlAttribute: 'ttl',
} as const;

/** The listening ports of one process; 0 turns a listener off. */
export interface PortLayout {
  readonly control: number;
  readonly implicitTls: number;
  readonly health: number;
  readonly passive: { readonly first: number; readonly last: number };
}

export type ListenerPort = 'control' | 'implicitTls' | 'health';

export type PortClash =
  /** Two listeners on one port; `port` is the later of the two in the order control, implicitTls, health. */
  | { readonly kind: 'same-port'; readonly port: ListenerPort; readonly sameAs: ListenerPort; readonly value: number }
  /** A listener inside the passive range. */
  | { readonly kind: 'in-passive-range'; readonly port: ListenerPort; readonly value: number };

const LISTENERS: readonly ListenerPort[] = ['control', 'implicitTls', 'health'];

/** Every clash in `layout`, same-port clashes first, each in the order of LISTENERS. */
export function portClashes(layout: PortLayout): PortClash[] {
  const clashes: PortClash[] = [];
  const on = LISTENERS.filter((name) => layout[name] !== 0);
  for (const [index, port] of on.entries()) {
    const sameAs = on.slice(0, index).find((earlier) => layout[earlier] === layout[port]);
    if (sameAs !== undefined) clashes.push({ kind: 'same-port', port, sameAs, value: layout[port] });
  }
  for (const port of on) {
    const value = layout[port];
    if (value >= layout.passive.first && value <= layout.passive.last) clashes.push({ kind: 'in-passive-range', port, value });
  }
  return clashes;
}

/** The runtime's limits a deployment may set; each unset one keeps the runtime's default. */
export interface RuntimeLimits {
  /** FTP_MAX_CONNECTIONS. */
  readonly maxConnections?: number;
  /** FTP_MAX_CONNECTIONS_PER_ADDRESS. */
  readonly maxConnectionsPerAddress?: number;
  /** FTP_IDLE_TIMEOUT_SECONDS. */
  readonly idleTimeoutSeconds?: number;
  /** FTP_LOGIN_TIMEOUT_SECONDS. */
  readonly loginTimeoutSeconds?: number;
  /** FTP_DATA_TIMEOUT_SECONDS. */
  readonly dataTimeoutSeconds?: number;
}

/** What every shard of a deployment shares. */
export interface DeploymentEnvironment {
  readonly bucket: string;
  /** '' = the whole bucket. */
  readonly bucketPrefix: string;
  readonly activeMode: boolean;
  readonly tlsMode: TlsMode;
  readonly usersSecretId: string;
  /** The users table; when set the bridge reads partners from it instead of the users secret. */
  readonly usersTableName?: string;
  /** Needed unless tlsMode is off. */
  readonly tlsSecretId: string | undefined;
  readonly logLevel: LogLevel;
  readonly limits?: RuntimeLimits;
  /** FTP_PENDING_UPLOAD_HOURS: the bucket's lifecycle rule follows the same figure. */
  readonly pendingUploadHours?: number;
  /** FTP_METRICS_NAMESPACE: where the runtime's embedded metrics go. @default - no metrics */
  readonly metricsNamespace?: string;
  /** FTP_UPLOAD_EVENTS_BUS: the EventBridge bus of the upload events. @default - no upload events */
  readonly uploadEventsBus?: string;
  /** The shared-state table (FTP_STATE_TABLE). @default - none: partner limits and lockouts per task */
  readonly stateTable?: string;
}

/** What is particular to one shard's container. */
export interface ShardEnvironment {
  readonly ports: PortLayout;
  /** The address PASV announces (the shard's Elastic IP). */
  readonly passiveAddress: string;
  readonly shutdownGraceSeconds: number;
  readonly uploadBufferMiB: number;
  /** FTP_METRICS_SHARD: the Shard dimension (shard-1, ...). */
  readonly metricsShard?: string;
}

/** Every variable containerEnvironment may write; config.ts checks at compile time that it reads each one. */
export const CONTAINER_VARIABLES = [
  'S3_BUCKET',
  'S3_PREFIX',
  'FTP_ACTIVE_MODE',
  'FTP_TLS_MODE',
  'FTP_USERS_SECRET_ID',
  'FTP_USERS_TABLE',
  'FTP_TLS_SECRET_ID',
  'LOG_LEVEL',
  'FTP_PORT',
  'FTPS_IMPLICIT_PORT',
  'HEALTH_PORT',
  'FTP_PASSIVE_PORTS',
  'FTP_PASSIVE_ADDRESS',
  'FTP_SHUTDOWN_GRACE_SECONDS',
  'FTP_UPLOAD_BUFFER_MIB',
  'FTP_MAX_CONNECTIONS',
  'FTP_MAX_CONNECTIONS_PER_ADDRESS',
  'FTP_IDLE_TIMEOUT_SECONDS',
  'FTP_LOGIN_TIMEOUT_SECONDS',
  'FTP_DATA_TIMEOUT_SECONDS',
  'FTP_PENDING_UPLOAD_HOURS',
  'FTP_METRICS_NAMESPACE',
  'FTP_METRICS_SHARD',
  'FTP_UPLOAD_EVENTS_BUS',
  'FTP_STATE_TABLE',
] as const;
export type ContainerVariable = (typeof CONTAINER_VARIABLES)[number];

/** The container environment of one shard: the variables config.ts reads, as it reads them. */
export function containerEnvironment(deployment: DeploymentEnvironment, shard: ShardEnvironment): { readonly [K in ContainerVariable]?: string } {
  const { ports } = shard;
  const limits = deployment.limits ?? {};
  const limit = (name: ContainerVariable, value: number | undefined) => (value === undefined ? {} : { [name]: String(value) });
  return {
    S3_BUCKET: deployment.bucket,
    ...(deployment.bucketPrefix === '' ? {} : { S3_PREFIX: deployment.bucketPrefix }),
    FTP_ACTIVE_MODE: deployment.activeMode ? 'on' : 'off',
    FTP_TLS_MODE: deployment.tlsMode,
    ...(deployment.usersTableName === undefined ? { FTP_USERS_SECRET_ID: deployment.usersSecretId } : { FTP_USERS_TABLE: deployment.usersTableName }),
    ...(deployment.tlsSecretId === undefined ? {} : { FTP_TLS_SECRET_ID: deployment.tlsSecretId }),
    LOG_LEVEL: deployment.logLevel,
    FTP_PORT: String(ports.control),
    FTPS_IMPLICIT_PORT: String(ports.implicitTls),
    HEALTH_PORT: String(ports.health),
    FTP_PASSIVE_PORTS: `${ports.passive.first}-${ports.passive.last}`,
    FTP_PASSIVE_ADDRESS: shard.passiveAddress,
    FTP_SHUTDOWN_GRACE_SECONDS: String(shard.shutdownGraceSeconds),
    // Set, not left to the runtime: Fargate limits the task, and the container's own
    // cgroup may show no limit at all.
    FTP_UPLOAD_BUFFER_MIB: String(shard.uploadBufferMiB),
    ...limit('FTP_MAX_CONNECTIONS', limits.maxConnections),
    ...limit('FTP_MAX_CONNECTIONS_PER_ADDRESS', limits.maxConnectionsPerAddress),
    ...limit('FTP_IDLE_TIMEOUT_SECONDS', limits.idleTimeoutSeconds),
    ...limit('FTP_LOGIN_TIMEOUT_SECONDS', limits.loginTimeoutSeconds),
    ...limit('FTP_DATA_TIMEOUT_SECONDS', limits.dataTimeoutSeconds),
    ...limit('FTP_PENDING_UPLOAD_HOURS', deployment.pendingUploadHours),
    ...(deployment.metricsNamespace === undefined ? {} : { FTP_METRICS_NAMESPACE: deployment.metricsNamespace }),
    ...(shard.metricsShard === undefined ? {} : { FTP_METRICS_SHARD: shard.metricsShard }),
    ...(deployment.uploadEventsBus === undefined ? {} : { FTP_UPLOAD_EVENTS_BUS: deployment.uploadEventsBus }),
    ...(deployment.stateTable === undefined ? {} : { FTP_STATE_TABLE: deployment.stateTable }),
  };
}
