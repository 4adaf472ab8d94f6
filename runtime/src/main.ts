#!/usr/bin/env node
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { S3Client } from '@aws-sdk/client-s3';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { LoginGuard } from './auth/login-guard.ts';
import { hashPassword } from './auth/password-hash.ts';
import { UserAuthenticator, UsersDocumentError } from './auth/user-authenticator.ts';
import { ConfigError, configHelp, loadConfig, type Config } from './config.ts';
import { unsupportedNodeVersion } from './node-version.ts';
import { describeStartFailure } from './start-failure.ts';
import { withDeadline } from './deadline.ts';
import { readContainerMemoryLimit } from './container-memory-limit.ts';
import { HealthServer } from './health-server.ts';
import { runProbeCommand } from './probe/probe-command.ts';
import { ConnectionLimits } from './protocol/connection-limits.ts';
import { FtpServer } from './protocol/ftp-server.ts';
import { PassivePortPool } from './protocol/passive-ports.ts';
import { TlsCredentials } from './sources/tls-credentials.ts';
import { UserAllowance } from './protocol/user-allowance.ts';
import { createS3Client } from './storage/s3/s3-client.ts';
import { GIB, MIB } from './storage/s3/part-size-plan.ts';
import { S3ObjectStore } from './storage/s3/s3-object-store.ts';
import { UploadBufferPool } from './storage/upload-buffer-pool.ts';
import { WatchedDocument } from './sources/watched-document.ts';
import { newDynamoClient } from './sources/aws-clients.ts';
import { runUsersCommand } from './users-cli/users-command.ts';

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

    const dynamoClient = config.users.kind === 'table' ? newDynamoClient(config.dynamoEndpoint) : undefined;
    if (dynamoClient) cleanups.push(() => dynamoClient.destroy());
    const usersDocument = new WatchedDocument({
      source: config.users,
      intervalMs: config.reloadIntervalMs,
      logger,
      ...(secretsClient ? { secretsClient } : {}),
      ...(dynamoClient ? { dynamoClient, createMissingTable: config.dynamoEndpoint !== undefined } : {}),
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

const USAGE = `Usage: node runtime/dist/main.js [--help | users SUBCOMMAND | hash-password | probe [options] URL]

  (no arguments)   run the FTP/FTPS server, configured by the environment variables below
  users …          add, change, disable and remove partners (users --help for more)
  hash-password    read a password on standard input, print its passwordHash for the users file
  probe URL        check an FTP/FTPS server step by step as a client would (probe --help for more)
  --help           show this text

SIGTERM or SIGINT (Ctrl-C) stops gracefully (see FTP_SHUTDOWN_GRACE_SECONDS); a second
one ends the grace period: running transfers are aborted at once, the exit waits up to
3 s for S3 to confirm the aborts and logs how many it did not (forced-exit). Started with
an IPC channel (as npm start does), it also stops gracefully when that channel closes.

Exit status: 0 after a clean stop, 2 for a bad configuration value, 1 for other start-up
failures (a port already in use, a Node.js version other than 22 or 24), 130 after a forced exit.
`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, nodeVersion = process.version): Promise<number> {
  const [command, ...rest] = argv;
  const unsupported = unsupportedNodeVersion(nodeVersion);
  if (unsupported !== undefined) {
    // Before anything starts: a start-up failure that is not a configuration value (exit 1).
    process.stderr.write(`ftp-s3-bridge: ${unsupported}\n`);
    return 1;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n${configHelp()}\n`);
    return 0;
  }
  if (command === 'hash-password') {
    if (rest.length > 0) return usageError(`hash-password takes no arguments`);
    const password = await readPassword();
    if (password === '') {
      process.stderr.write('ftp-s3-bridge: hash-password: the password is empty\n');
      return 2;
    }
    process.stdout.write(`${await hashPassword(password)}\n`);
    return 0;
  }
  if (command === 'probe') {
    return await runProbeCommand(rest, { env, stdout: process.stdout, stderr: process.stderr, readPassword });
  }
  if (command === 'users') {
    return await runUsersCommand(rest, { env, stdout: process.stdout, stderr: process.stderr, readPassword, stdinIsTerminal: process.stdin.isTTY === true });
  }
  if (command !== undefined) return usageError(`unknown argument ${JSON.stringify(command)}`);

  let config: Config;
  try {
    config = loadConfig(env, { memoryLimitBytes: readContainerMemoryLimit() });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`ftp-s3-bridge: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'ftp-s3-bridge' }, timestamp: pino.stdTimeFunctions.isoTime });
  let bridge: RunningBridge;
  try {
    bridge = await startBridge(config, { logger });
  } catch (error) {
    const failure = describeStartFailure(error, config);
    // People read stderr; the log line is for machines, with a stack only when it helps.
    logger.fatal(
      { event: 'start-failed', ...(failure.unexpected ? { err: error } : { variable: failure.variable, problem: failure.message }) },
      'the bridge did not start',
    );
    process.stderr.write(`ftp-s3-bridge: ${failure.message}\n`);
    await flushed(logger);
    return failure.exitCode;
  }
  process.send?.({ event: 'listening', ...portsOf(bridge) });
  const code = await stopOnSignal(bridge, logger);
  await flushed(logger);
  return code;
}

/**
 * Resolves once every log line written so far has reached stdout. The caller exits
 * right after: a line still queued behind a full pipe (the log collector reading
 * slowly) would otherwise come out after later ones, or not at all.
 */
async function flushed(logger: Logger): Promise<void> {
  // Bounded: stdout gone for good must not keep the process from exiting.
  await withDeadline(new Promise<void>((resolve) => logger.flush(() => resolve())), 2000, () => undefined);
}

/** A forced exit waits this long for S3 to confirm the aborts of the transfers it cut off. */
const FORCED_EXIT_ABORT_WAIT_MS = 3000;

/**
 * The first SIGTERM or SIGINT stops gracefully. The next ends the grace period: the
 * transfers still running are aborted now, and the exit waits (briefly) for S3 to
 * confirm, then says how many it could not. A supervisor's IPC channel closing (the
 * local stack killed) stops gracefully too.
 */
async function stopOnSignal(bridge: RunningBridge, logger: Logger): Promise<number> {
  return await new Promise<number>((resolve) => {
    let stopping: Promise<void> | undefined;
    let forcing = false;
    const stop = (): void => {
      // A forced exit resolves on its own, once it has logged.
      stopping = bridge.stop().then(() => {
        if (!forcing) resolve(0);
      });
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping === undefined) {
        logger.info({ event: 'signal', signal }, 'stopping gracefully; a second signal aborts running transfers');
        stop();
        return;
      }
      if (forcing) return;
      forcing = true;
      bridge.endGrace();
      void withDeadline(stopping, FORCED_EXIT_ABORT_WAIT_MS, () => undefined).then(() => {
        const notAborted = bridge.abortingTransfers;
        logger.warn(
          { event: 'forced-exit', signal, transfersNotAborted: notAborted },
          notAborted === 0
            ? 'forced exit: running transfers were aborted'
            : 'forced exit: some cut-off uploads may remain as multipart uploads (the bucket lifecycle rule removes them)',
        );
        resolve(130);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    if (process.channel) {
      // The channel alone must not keep the process alive once it has stopped.
      process.channel.unref();
      process.once('disconnect', () => {
        if (stopping !== undefined) return;
        logger.info({ event: 'parent-gone' }, 'the process that started the bridge is gone; stopping gracefully');
        stop();
      });
    }
  });
}

function portsOf(bridge: RunningBridge): Record<string, unknown> {
  const { controlPort, implicitTlsPort, healthPort, passivePorts } = bridge;
  return { controlPort, implicitTlsPort, healthPort, passivePorts: [passivePorts[0], passivePorts.at(-1)] };
}

function usageError(problem: string): number {
  process.stderr.write(`ftp-s3-bridge: ${problem}\n${USAGE}`);
  return 2;
}

/** The password from a pipe, or typed at a terminal without echo; one trailing newline is dropped. */
async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) {
    process.stderr.write('Password: ');
    stdin.setRawMode(true);
    const password = await new Promise<string>((resolve) => {
      let typed = '';
      stdin.on('data', (chunk: Buffer) => {
        for (const char of chunk.toString('utf8')) {
          if (char === '\r' || char === '\n') return resolve(typed);
          if (char === '\u0003') process.exit(130);
          if (char === '\u007f') typed = typed.slice(0, -1);
          else typed += char;
        }
      });
    });
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
    return password;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`ftp-s3-bridge: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
