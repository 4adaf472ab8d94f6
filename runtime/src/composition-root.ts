import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { LoginGuard } from './auth/login-guard.ts';
import { UserAuthenticator, UsersDocumentError } from './auth/user-authenticator.ts';
import { ConfigError, type Config } from './config.ts';
import { withDeadline } from './deadline.ts';
import type { UploadEventPublisher } from './events/upload-event-publisher.ts';
import { HealthServer } from './health-server.ts';
import type { LogEventTap } from './metrics/log-event-tap.ts';
import { RuntimeMetrics } from './metrics/runtime-metrics.ts';
import { ConnectionLimits } from './protocol/connection-limits.ts';
import { FtpServer } from './protocol/ftp-server.ts';
import { PassivePortPool } from './protocol/passive-ports.ts';
import { TlsCredentials } from './sources/tls-credentials.ts';
import { UserAllowance } from './protocol/user-allowance.ts';
import { createS3Client } from './storage/s3/s3-client.ts';
import { GIB, MIB } from './storage/s3/part-size-plan.ts';
import { S3ObjectStore } from './storage/s3/s3-object-store.ts';
import type { ObjectStore } from './storage/object-store.ts';
import { UploadBufferPool } from './storage/upload-buffer-pool.ts';
import type { UsersTable } from './sources/users-table.ts';
import { WatchedDocument } from './sources/watched-document.ts';
import { measureHome } from './protocol/partner-quota.ts';
import { SharedLoginFailures } from './state/login-failures.ts';
import { ProcessState } from './state/process-state.ts';
import { QuotaLedger } from './state/quota-ledger.ts';
import { SessionLeases } from './state/session-leases.ts';
import type { SharedState } from './state/shared-state.ts';

/**
 * The composition root: the only place that turns configuration into a logger, an
 * S3 store, an authenticator, TLS credentials and listeners.
 */
export interface RunningBridge {
  readonly controlPort: number;
  readonly implicitTlsPort: number | undefined;
  readonly healthPort: number | undefined;
  readonly passivePorts: readonly number[];
  /** Graceful stop: drain sessions for up to FTP_SHUTDOWN_GRACE_SECONDS, then close everything. */
  stop(): Promise<void>;
  /** During stop(): ends the grace period now, so running transfers are aborted at once. */
  endGrace(): void;
  /** Transfers that stop() cut off and whose abort in S3 has not finished yet. */
  readonly abortingTransfers: number;
}

export interface BridgeDependencies {
  readonly logger: Logger;
  /** Replaces the client built from the configuration (tests pass one with test credentials). */
  readonly s3Client?: S3Client;
  /**
   * How long a download left unread keeps its S3 connection (see S3ObjectStoreOptions);
   * for a replaced client whose socket timeout is shorter than the default one's.
   */
  readonly readReleaseMs?: number;
  readonly secretsClient?: SecretsManagerClient;
  /**
   * Replaces the S3 store built from the configuration (tests run the protocol on the
   * memory store); no S3 client is made then.
   */
  readonly store?: ObjectStore;
  /** Replaces the EventBridge client for upload events (tests pass one for a loopback endpoint). */
  readonly eventBridgeClient?: EventBridgeClient;
  /** Where the logger hands its events for metrics (tappedLogger); without it, no metrics. */
  readonly tap?: LogEventTap;
  /** Replaces the client built for FTP_STATE_TABLE (tests point it at dynalite). */
  readonly dynamoClient?: DynamoDBClient;
}

/** S3 connections the pool allows: two per FTP connection the bridge accepts, and some for housekeeping. */
export function s3SocketsFor(maxConnections: number): number {
  return maxConnections * 2 + 16;
}

export async function startBridge(config: Config, dependencies: BridgeDependencies): Promise<RunningBridge> {
  const { logger } = dependencies;
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanUp = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    // A download holds its S3 connection while its client reads (20 s at most unread), and an
    // upload may have a part and a copy in flight: a pool smaller than the sessions can
    // need makes the ones past it wait for a socket until the SDK gives up (451).
    const s3Client = dependencies.store ? undefined : (dependencies.s3Client ?? createS3Client(config.s3, { maxSockets: s3SocketsFor(config.maxConnections) }));
    if (s3Client && !dependencies.s3Client) cleanups.push(() => s3Client.destroy());
    const needsSecrets = config.users.kind === 'secret' || config.tlsCredentials?.kind === 'secret';
    const secretsClient = dependencies.secretsClient ?? (needsSecrets ? new SecretsManagerClient({}) : undefined);
    if (secretsClient && !dependencies.secretsClient) cleanups.push(() => secretsClient.destroy());

    const buffers = new UploadBufferPool({
      capacityBytes: config.uploadBuffer.bytes,
      shareBytes: Math.floor((config.uploadBuffer.bytes * config.uploadBufferSharePercent) / 100),
    });
    const store: ObjectStore = dependencies.store ?? new S3ObjectStore({
      client: s3Client!,
      bucket: config.s3.bucket,
      prefix: config.s3.prefix,
      partSizeBytes: config.s3.partSizeBytes,
      buffers,
      uploadStallMs: config.uploadStallMs,
      keepInterrupted:
        config.pendingUploadMs === 0 ? undefined : { expiryMs: config.pendingUploadMs, journalFile: config.pendingUploadsFile },
      ...(dependencies.readReleaseMs === undefined ? {} : { readReleaseMs: dependencies.readReleaseMs }),
      renameMaxObjects: config.renameMaxObjects,
      listClientTimes: config.listClientTimes,
      // A store that needs when_required refuses checksum headers it did not ask for.
      storeChecksums: config.s3.checksum !== 'when_required',
      percentCopy: config.percentCopy,
      logger,
    });

    const state = await openSharedState(config, dependencies, cleanups);
    const sharedFailures = state.scope === 'shared' ? new SharedLoginFailures({ state }) : undefined;

    let usersTable: UsersTable | undefined;
    if (config.users.kind === 'table') {
      // Loaded only here: a bridge whose users are in a file or secret never loads the DynamoDB SDK.
      const [{ newDynamoClient }, { UsersTable }] = await Promise.all([import('./sources/aws-clients.ts'), import('./sources/users-table.ts')]);
      const dynamoClient = newDynamoClient(config.state.endpoint);
      cleanups.push(() => dynamoClient.destroy());
      // A local DynamoDB (DYNAMODB_ENDPOINT) gets its table created; on AWS the CDK app owns it.
      usersTable = new UsersTable({ client: dynamoClient, tableName: config.users.tableName, createIfMissing: config.state.endpoint !== undefined });
    }
    const usersDocument = new WatchedDocument({
      source: config.users,
      intervalMs: config.reloadIntervalMs,
      logger,
      ...(secretsClient ? { secretsClient } : {}),
      ...(usersTable ? { usersTable } : {}),
    });
    cleanups.push(() => usersDocument.close());
    let authenticator: UserAuthenticator;
    try {
      authenticator = await UserAuthenticator.create({
        document: usersDocument,
        guard: new LoginGuard({
          failureDelayMs: config.loginFailureDelayMs,
          maxFailures: config.lockoutFailures,
          lockoutMs: config.lockoutMs,
          logger,
          ...(sharedFailures ? { shared: sharedFailures } : {}),
        }),
        logger,
        // A check answered later than this is of little use to a client that must log in within the timeout.
        maxVerificationWaitMs: config.loginTimeoutMs / 2,
      });
    } catch (error) {
      if (!(error instanceof UsersDocumentError)) throw error;
      const variable = ({ file: 'FTP_USERS_FILE', secret: 'FTP_USERS_SECRET_ID', table: 'FTP_USERS_TABLE' } as const)[config.users.kind];
      throw new ConfigError({ variable, problem: error.message });
    }
    cleanups.push(() => authenticator.close());

    let tls: TlsCredentials | undefined;
    if (config.tlsCredentials && config.tlsMode !== 'off') {
      try {
        tls = await TlsCredentials.load({
          source: config.tlsCredentials,
          intervalMs: config.reloadIntervalMs,
          logger,
          ...(secretsClient ? { secretsClient } : {}),
        });
      } catch (error) {
        const variable = config.tlsCredentials.kind === 'files' ? 'FTP_TLS_CERT_FILE' : 'FTP_TLS_SECRET_ID';
        throw new ConfigError({ variable, problem: (error as Error).message });
      }
      cleanups.push(() => tls?.close());
    }

    const passivePorts = await PassivePortPool.open({
      host: config.listenAddress,
      first: config.passivePorts.first,
      last: config.passivePorts.last,
      logger,
    });
    cleanups.push(() => passivePorts.close());

    // Upload events (FTP_UPLOAD_EVENTS_BUS, docs/audit-and-events.md).
    let uploadEvents: UploadEventPublisher | undefined;
    if (config.uploadEventsBus !== undefined) {
      // Loaded only here, as the DynamoDB pieces are: a bridge without upload events never
      // loads the EventBridge SDK (the idle memory the memory-bound test holds to).
      const [{ EventBridgeClient }, { UploadEventPublisher }] = await Promise.all([
        import('@aws-sdk/client-eventbridge'),
        import('./events/upload-event-publisher.ts'),
      ]);
      const client = dependencies.eventBridgeClient ?? new EventBridgeClient({});
      if (!dependencies.eventBridgeClient) cleanups.push(() => client.destroy());
      const publisher = new UploadEventPublisher({ client, eventBusName: config.uploadEventsBus, serverId: config.metrics?.shard ?? 'local', logger });
      // Runs after the server's shutdown: what the last uploads queued is still sent (bounded).
      cleanups.push(() => withDeadline(publisher.settled(), UPLOAD_EVENTS_FLUSH_MS, () => undefined));
      uploadEvents = publisher;
    }

    const server = new FtpServer({
      listenAddress: config.listenAddress,
      controlPort: config.controlPort,
      implicitTlsPort: config.implicitTlsPort,
      logger,
      services: {
        store,
        authenticator,
        passivePorts,
        connections: new ConnectionLimits({
          maxConnections: config.maxConnections,
          maxPerAddress: config.maxConnectionsPerAddress,
          leases: new SessionLeases({
            state,
            ttlMs: config.sessionLeaseMs,
            onRenewFailure: (error, username) =>
              logger.warn({ event: 'shared-state-error', use: 'session-lease', user: username, err: error }, 'session lease not renewed'),
          }),
        }),
        uploadLeases: new SessionLeases({
          state,
          kind: 'upload',
          ttlMs: config.sessionLeaseMs,
          onRenewFailure: (error, path) =>
            logger.warn({ event: 'shared-state-error', use: 'upload-lease', key: path, err: error }, 'upload lease not renewed'),
        }),
        quota: new QuotaLedger({
          state,
          reconcileMs: config.quotaReconcileMs,
          measure: (home) => measureHome(store, home),
          onReconcileFailure: (error, username) =>
            logger.warn({ event: 'shared-state-error', use: 'quota-reconcile', user: username, err: error }, 'quota reconcile failed; the old count stays'),
        }),
        newTlsContext: () => tls?.newContext(),
        allowances: {
          checksumReadBytes: new UserAllowance({ name: 'checksum-read-bytes', limit: config.checksumReadBytesPerHour, windowMs: HOUR_MS }),
          metadataRewrites: new UserAllowance({ name: 'metadata-rewrites', limit: config.timeChangesPerHour, windowMs: HOUR_MS }),
          renamedObjects: new UserAllowance({ name: 'renamed-objects', limit: config.renameObjectsPerHour, windowMs: HOUR_MS }),
          readBackBytes: new UserAllowance({ name: 'read-back-bytes', limit: config.readBackBytesPerHour, windowMs: HOUR_MS }),
        },
        logger,
        ...(uploadEvents === undefined ? {} : { uploadOutcomes: uploadEvents }),
        settings: {
          tlsMode: config.tlsMode,
          activeMode: config.activeMode,
          passiveAddress: config.passiveAddress,
          dataConnectionTimeoutMs: config.dataConnectionTimeoutMs,
          loginTimeoutMs: config.loginTimeoutMs,
          idleTimeoutMs: config.idleTimeoutMs,
          tlsHandshakeTimeoutMs: config.tlsHandshakeTimeoutMs,
          tlsSessionReuse: config.tlsSessionReuse,
          tlsCloseNotify: config.tlsCloseNotify,
        },
      },
    });
    cleanups.push(() => server.shutdown(0));
    const ports = await server.listen();

    // Runtime metrics (FTP_METRICS_NAMESPACE, docs/metrics.md).
    if (config.metrics !== undefined && dependencies.tap !== undefined) {
      const metrics = new RuntimeMetrics({
        ...config.metrics,
        write: (record) => logger.info({ event: 'metrics', ...record }),
        gauges: () => {
          const pool = buffers.stats();
          return {
            ConcurrentSessions: server.sessionCount,
            UploadBufferInUse: pool.inUseBytes,
            UploadBufferWaiting: pool.waiting,
            CertificateDaysLeft: tls?.daysLeft(),
          };
        },
      });
      const unsubscribe = dependencies.tap.subscribe((fields) => metrics.observe(fields));
      metrics.start();
      // Runs before the server's own cleanup, after a graceful stop: the last interval's figures are written.
      cleanups.push(() => {
        unsubscribe();
        metrics.close();
      });
    }

    let healthPort: number | undefined;
    if (config.healthPort > 0) {
      const health = new HealthServer({ isServing: () => !server.draining });
      healthPort = await health.listen(config.listenAddress, config.healthPort);
      cleanups.push(() => health.close());
    }

    logger.info({
      event: 'listening',
      controlPort: ports.controlPort,
      implicitTlsPort: ports.implicitTlsPort,
      passivePorts: `${config.passivePorts.first}-${config.passivePorts.last}`,
      passiveAddress: config.passiveAddress ?? '(control connection address)',
      tlsMode: config.tlsMode,
      activeMode: config.activeMode,
      bucket: config.s3.bucket,
      prefix: config.s3.prefix,
      healthPort,
      uploadBufferMiB: config.uploadBuffer.bytes / MIB,
      uploadBufferFrom: config.uploadBuffer.source,
      largestFileGiB: Math.round((store.capabilities.maxFileBytes / GIB) * 10) / 10,
      // 'task': no FTP_STATE_TABLE, so partner limits and lockouts hold per task.
      limitsScope: state.scope,
      stateTable: config.state.table,
    });
    let stopping: Promise<void> | undefined;
    // Once started: reports (and tidies) the uploads kept pending by earlier runs, in the background; it never throws.
    const sweeping = store instanceof S3ObjectStore ? store.sweepPendingUploads() : Promise.resolve();
    cleanups.push(() => sweeping);
    return {
      ...ports,
      healthPort,
      passivePorts: passivePorts.ports,
      // Drain first, while the health check still answers (503) and the store still works.
      stop: () => (stopping ??= server.shutdown(config.shutdownGraceMs).then(cleanUp)),
      endGrace: () => server.endGrace(),
      get abortingTransfers() {
        return server.settlingTransfers;
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** At stop, how long the upload events still queued may take to reach EventBridge. */
const UPLOAD_EVENTS_FLUSH_MS = 3000;
/**
 * The state every task shares: the FTP_STATE_TABLE table (created when missing, only with
 * a DYNAMODB_ENDPOINT override: on AWS the CDK app owns it), else this process's memory.
 */
async function openSharedState(
  config: Config,
  dependencies: BridgeDependencies,
  cleanups: Array<() => Promise<void> | void>,
): Promise<SharedState> {
  const { table, endpoint } = config.state;
  if (table === undefined) {
    const state = new ProcessState();
    cleanups.push(() => state.close());
    return state;
  }
  // Loaded only with a table: a bridge whose state stays in process never loads the DynamoDB SDK.
  const [{ DynamoDBClient }, { DynamoState }] = await Promise.all([import('@aws-sdk/client-dynamodb'), import('./state/dynamo-state.ts')]);
  let client = dependencies.dynamoClient;
  if (client === undefined) {
    const region = config.s3.region ?? (endpoint !== undefined ? 'us-east-1' : undefined);
    const built = new DynamoDBClient({
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(region === undefined ? {} : { region }),
      // A login waits on the table: an unreachable one must fail in seconds (then the limits
      // fall back as docs/partner-limits.md says), not hang towards the login timeout.
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 2000, requestTimeout: 3000 },
    });
    cleanups.push(() => built.destroy());
    client = built;
  }
  if (endpoint !== undefined) {
    try {
      await DynamoState.ensureTable(client, table);
    } catch (error) {
      throw new ConfigError({ variable: 'DYNAMODB_ENDPOINT', problem: `cannot create or reach table ${table}: ${(error as Error).message}` });
    }
  }
  return new DynamoState({ client, table });
}

/** The window of the per-user allowances (FTP_CHECKSUM_READ_MIB_PER_HOUR, FTP_TIME_CHANGES_PER_HOUR). */
const HOUR_MS = 3_600_000;
