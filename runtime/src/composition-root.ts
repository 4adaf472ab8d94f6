import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { LoginGuard } from './auth/login-guard.ts';
import { UserAuthenticator, UsersDocumentError } from './auth/user-authenticator.ts';
import { ConfigError, type Config } from './config.ts';
import { HealthServer } from './health-server.ts';
import { ConnectionLimits } from './protocol/connection-limits.ts';
import { FtpServer } from './protocol/ftp-server.ts';
import { PassivePortPool } from './protocol/passive-ports.ts';
import { TlsCredentials } from './sources/tls-credentials.ts';
import { UserAllowance } from './protocol/user-allowance.ts';
import { createS3Client } from './storage/s3/s3-client.ts';
import { GIB, MIB } from './storage/s3/part-size-plan.ts';
import { S3ObjectStore } from './storage/s3/s3-object-store.ts';
import { UploadBufferPool } from './storage/upload-buffer-pool.ts';
import type { UsersTable } from './sources/users-table.ts';
import { WatchedDocument } from './sources/watched-document.ts';

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
    const s3Client = dependencies.s3Client ?? createS3Client(config.s3, { maxSockets: s3SocketsFor(config.maxConnections) });
    if (!dependencies.s3Client) cleanups.push(() => s3Client.destroy());
    const needsSecrets = config.users.kind === 'secret' || config.tlsCredentials?.kind === 'secret';
    const secretsClient = dependencies.secretsClient ?? (needsSecrets ? new SecretsManagerClient({}) : undefined);
    if (secretsClient && !dependencies.secretsClient) cleanups.push(() => secretsClient.destroy());

    const store = new S3ObjectStore({
      client: s3Client,
      bucket: config.s3.bucket,
      prefix: config.s3.prefix,
      partSizeBytes: config.s3.partSizeBytes,
      buffers: new UploadBufferPool({
        capacityBytes: config.uploadBuffer.bytes,
        shareBytes: Math.floor((config.uploadBuffer.bytes * config.uploadBufferSharePercent) / 100),
      }),
      uploadStallMs: config.uploadStallMs,
      ...(dependencies.readReleaseMs === undefined ? {} : { readReleaseMs: dependencies.readReleaseMs }),
      renameMaxObjects: config.renameMaxObjects,
      listClientTimes: config.listClientTimes,
      // A store that needs when_required refuses checksum headers it did not ask for.
      storeChecksums: config.s3.checksum !== 'when_required',
      percentCopy: config.percentCopy,
      logger,
    });

    let usersTable: UsersTable | undefined;
    if (config.users.kind === 'table') {
      // Loaded only here: a bridge whose users are in a file or secret never loads the DynamoDB SDK.
      const [{ newDynamoClient }, { UsersTable }] = await Promise.all([import('./sources/aws-clients.ts'), import('./sources/users-table.ts')]);
      const dynamoClient = newDynamoClient(config.dynamoEndpoint);
      cleanups.push(() => dynamoClient.destroy());
      // A local DynamoDB (DYNAMODB_ENDPOINT) gets its table created; on AWS the CDK app owns it.
      usersTable = new UsersTable({ client: dynamoClient, tableName: config.users.tableName, createIfMissing: config.dynamoEndpoint !== undefined });
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
        }),
        newTlsContext: () => tls?.newContext(),
        allowances: {
          checksumReadBytes: new UserAllowance({ name: 'checksum-read-bytes', limit: config.checksumReadBytesPerHour, windowMs: HOUR_MS }),
          metadataRewrites: new UserAllowance({ name: 'metadata-rewrites', limit: config.timeChangesPerHour, windowMs: HOUR_MS }),
          renamedObjects: new UserAllowance({ name: 'renamed-objects', limit: config.renameObjectsPerHour, windowMs: HOUR_MS }),
          readBackBytes: new UserAllowance({ name: 'read-back-bytes', limit: config.readBackBytesPerHour, windowMs: HOUR_MS }),
        },
        logger,
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
      largestFileGiB: Math.round((store.maxFileBytes / GIB) * 10) / 10,
    });
    let stopping: Promise<void> | undefined;
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

/** The window of the per-user allowances (FTP_CHECKSUM_READ_MIB_PER_HOUR, FTP_TIME_CHANGES_PER_HOUR). */
const HOUR_MS = 3_600_000;
