import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { hashPassword } from '../../runtime/src/auth/password-hash.ts';
import type { PartnerLimits } from '../../runtime/src/auth/user.ts';
import { loadConfig, type Config } from '../../runtime/src/config.ts';
import { startBridge, type RunningBridge } from '../../runtime/src/composition-root.ts';
import { MemoryObjectStore, type MemoryObjectStoreOptions } from '../../runtime/src/storage/memory/memory-object-store.ts';
import { LogEventTap } from '../../runtime/src/metrics/log-event-tap.ts';
import { captureLogger } from './capture-logger.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { startTestS3, testS3Client, type TestS3 } from './s3-server.ts';
import { makeCertificate } from './tls-fixture.ts';
import { freePortRange } from './ports.ts';

/**
 * The real bridge, in this process, against a real S3-compatible server (or, with
 * `storage: 'memory'`, the memory store: for tests of the protocol alone), with a
 * users file and a self-signed certificate in a temporary folder. Control and
 * implicit-TLS ports are ephemeral; the passive range is a free random slice.
 */
export interface TestUser {
  readonly username: string;
  readonly password: string;
  readonly home?: string;
  readonly permissions?: readonly string[];
  readonly allowFrom?: readonly string[];
  readonly tlsSessionReuse?: 'required' | 'optional';
  readonly tlsCloseNotify?: 'required' | 'optional';
  /** maxSessions, uploadKiBps, downloadKiBps, quotaBytes, quotaFiles: plain fields of the entry. */
  readonly limits?: PartnerLimits;
  /** Other fields of the users entry as written (disabled, expiresAt, limits). */
  readonly fields?: Readonly<Record<string, unknown>>;
}

export interface TestBridge {
  /** The S3 server the bridge stores into; a memory bridge has none (reading it throws). */
  readonly s3: TestS3;
  /** The store of a bridge started with `storage: 'memory'`, for looking at what it holds; else undefined. */
  readonly memoryStore: MemoryObjectStore | undefined;
  readonly config: Config;
  readonly bridge: RunningBridge;
  readonly port: number;
  readonly implicitPort: number;
  readonly dir: string;
  readonly usersFile: string;
  readonly certificate: { cert: string; key: string };
  /** Lines the bridge logged (parsed JSON). */
  readonly logs: Array<Record<string, unknown>>;
  /** The same lines as written. */
  readonly rawLogLines: string[];
  writeUsers(users: readonly TestUser[]): Promise<void>;
  stop(): Promise<void>;
}

/** Test bridges running in this process (the leak check needs to know it is alone). */
let liveBridges = 0;

export const DEFAULT_USER: TestUser = { username: 'alice', password: 'wonderland', home: 'partners/alice/' };

export async function startTestBridge(
  options: {
    env?: Record<string, string>;
    users?: readonly TestUser[];
    s3?: TestS3;
    /** The client the bridge uses (e.g. one pointed at a fault proxy); default: the test server's. */
    s3Client?: S3Client;
    /** For FTP_USERS_SECRET_ID / FTP_TLS_SECRET_ID (see secrets-manager-server.ts). */
    secretsClient?: SecretsManagerClient;
    /** Below the socket timeout of an `s3Client` that has a short one (see BridgeDependencies). */
    readReleaseMs?: number;
    /** Where the bridge stores: an S3 server (`s3`, or one of its own), or a memory store of its own. @default 's3' */
    storage?: 's3' | 'memory';
    /** Limits and powers of the memory store (storage: 'memory'). */
    memoryStore?: MemoryObjectStoreOptions;
    /** For FTP_UPLOAD_EVENTS_BUS (see eventbridge-server.ts). */
    eventBridgeClient?: EventBridgeClient;
    /** For FTP_STATE_TABLE: a client of the test's dynalite (see dynalite.ts). */
    dynamoClient?: DynamoDBClient;
  } = {},
): Promise<TestBridge> {
  // Resources are counted per process: the check is exact only for a bridge that had
  // the process to itself from start to stop.
  const alone = liveBridges === 0;
  const baseline = leakableResources();
  const memoryStore = options.storage === 'memory' ? new MemoryObjectStore(options.memoryStore) : undefined;
  const s3 = memoryStore ? undefined : (options.s3 ?? (await startTestS3()));
  const dir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-test-'));
  const usersFile = join(dir, 'users.json');
  const certificate = await makeCertificate();
  await writeFile(join(dir, 'cert.pem'), certificate.cert);
  await writeFile(join(dir, 'key.pem'), certificate.key);
  // The same password keeps its hash across rewrites: a new salt would be a changed password to a reload.
  const hashes = new Map<string, Promise<string>>();
  const hashOf = (user: TestUser): Promise<string> => {
    const key = JSON.stringify([user.username, user.password]);
    let hash = hashes.get(key);
    if (hash === undefined) {
      hash = hashPassword(user.password, { parameters: { logN: 10, r: 8, p: 1 } });
      hashes.set(key, hash);
    }
    return hash;
  };
  const writeUsers = async (users: readonly TestUser[]): Promise<void> => {
    const records = await Promise.all(
      users.map(async (user) => ({
        username: user.username,
        passwordHash: await hashOf(user),
        home: user.home ?? `partners/${user.username}/`,
        ...(user.permissions ? { permissions: user.permissions } : {}),
        ...(user.allowFrom ? { allowFrom: user.allowFrom } : {}),
        ...(user.tlsSessionReuse ? { tlsSessionReuse: user.tlsSessionReuse } : {}),
        ...(user.tlsCloseNotify ? { tlsCloseNotify: user.tlsCloseNotify } : {}),
        ...user.limits,
        ...user.fields,
      })),
    );
    await writeFile(usersFile, JSON.stringify({ users: records }, null, 2));
  };
  await writeUsers(options.users ?? [DEFAULT_USER]);

  // Tapped as the bridge's own logger is, so FTP_METRICS_NAMESPACE in `env` turns the metric lines on.
  const tap = new LogEventTap();
  const { logger, lines: logs, raw: rawLogLines } = captureLogger('debug', tap);
  for (let attempt = 0; ; attempt++) {
    const implicitPort = await freePort();
    const first = randomPassiveStart();
    if (implicitPort >= first && implicitPort <= first + 9) continue;
    const config: Config = {
      ...loadConfig({
        FTP_LISTEN_ADDRESS: '127.0.0.1',
        FTP_PORT: '2121',
        FTPS_IMPLICIT_PORT: String(implicitPort),
        FTP_PASSIVE_PORTS: `${first}-${first + 9}`,
        FTP_USERS_FILE: usersFile,
        FTP_TLS_CERT_FILE: join(dir, 'cert.pem'),
        FTP_TLS_KEY_FILE: join(dir, 'key.pem'),
        // A memory bridge makes no S3 client; the settings must still be valid.
        S3_BUCKET: s3?.bucket ?? 'memory-store',
        ...(s3 ? { S3_ENDPOINT: s3.endpoint } : {}),
        S3_FORCE_PATH_STYLE: 'true',
        S3_CHECKSUM: 'when_required',
        AWS_REGION: 'us-east-1',
        HEALTH_PORT: '0',
        FTP_LOGIN_FAILURE_DELAY_MS: '50',
        FTP_RELOAD_SECONDS: '0.2',
        FTP_SHUTDOWN_GRACE_SECONDS: '2',
        S3_PART_SIZE_MIB: '5',
        // fauxqs answers neither ListMultipartUploads nor ListParts: pending uploads go in a file, as in the local stack.
        ...(s3 === undefined || s3.external ? {} : { FTP_PENDING_UPLOADS_FILE: join(dir, 'pending-uploads.json') }),
        ...options.env,
      }),
      controlPort: 0,
    };
    try {
      liveBridges += 1;
      const bridge = await startBridge(config, {
        logger,
        ...(memoryStore ? { store: memoryStore } : { s3Client: options.s3Client ?? s3?.client }),
        ...(options.secretsClient ? { secretsClient: options.secretsClient } : {}),
        ...(options.readReleaseMs === undefined ? {} : { readReleaseMs: options.readReleaseMs }),
        ...(options.eventBridgeClient ? { eventBridgeClient: options.eventBridgeClient } : {}),
        tap,
        ...(options.dynamoClient ? { dynamoClient: options.dynamoClient } : {}),
      });
      return {
        get s3(): TestS3 {
          if (s3 === undefined) throw new Error('this test bridge runs on the memory store: it has no S3 server');
          return s3;
        },
        memoryStore,
        config,
        bridge,
        port: bridge.controlPort,
        implicitPort: bridge.implicitTlsPort ?? 0,
        dir,
        usersFile,
        certificate,
        logs,
        rawLogLines,
        writeUsers,
        async stop() {
          await bridge.stop();
          liveBridges -= 1;
          if (!options.s3) await s3?.stop();
          await rm(dir, { recursive: true, force: true });
          if (alone && liveBridges === 0) await expectNoLeaks(baseline);
        },
      };
    } catch (error) {
      liveBridges -= 1;
      if (attempt < 5 && /passive port|already in use|EADDRINUSE/i.test((error as Error).message)) continue;
      if (!options.s3) await s3?.stop();
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }
}

export interface ProxiedTestBridge {
  readonly s3: TestS3;
  readonly proxy: FaultProxy;
  /** The bridge's S3 client, through the proxy. */
  readonly client: S3Client;
  readonly env: TestBridge;
  /** Stops all of it, the test's own S3 clients first (their keep-alive sockets are not the bridge's to close). */
  stop(): Promise<void>;
}

/**
 * A test S3 server, a fault proxy in front of it, and a test bridge whose S3 client
 * goes through the proxy: for tests that count the bridge's requests or make S3 fail.
 */
export async function startProxiedTestBridge(
  options: {
    /** Settings of the bridge's S3 client (retries, timeouts). */
    readonly client?: Omit<S3ClientConfig, 'endpoint'>;
    /** Set up the proxy before the bridge starts. */
    readonly proxy?: (proxy: FaultProxy) => void;
    readonly bridge?: Omit<Parameters<typeof startTestBridge>[0], 's3' | 's3Client'>;
  } = {},
): Promise<ProxiedTestBridge> {
  const s3 = await startTestS3();
  const proxy = await startFaultProxy(s3.endpoint);
  options.proxy?.(proxy);
  const client = testS3Client(proxy.endpoint, options.client);
  const env = await startTestBridge({ ...options.bridge, s3, s3Client: client });
  return {
    s3,
    proxy,
    client,
    env,
    async stop() {
      try {
        client.destroy();
        s3.client.destroy();
        await env.stop();
      } finally {
        await proxy.close();
        await s3.stop();
      }
    },
  };
}

/** A port free right now, below the passive ranges of randomPassiveStart (ports.ts says why not an ephemeral one). */
export async function freePort(): Promise<number> {
  return await freePortRange(1, { from: 10_000, to: 20_000 });
}

/**
 * The first port of a random passive range (room for 10 ports), below Linux's
 * ephemeral range (32768-60999) where outgoing connections hold ports, so tests running
 * side by side rarely pick the same one; a start that finds it taken retries.
 */
export function randomPassiveStart(): number {
  return 20000 + Math.floor(Math.random() * 1200) * 10;
}

/** Sockets, listeners and timers of this process, by kind (what a test bridge must give back). */
function leakableResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TCPSocketWrap' || kind === 'TCPServerWrap' || kind === 'Timeout') counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/**
 * After a stop, every socket, listener and timer the bridge (and its test's clients)
 * opened must be gone; closing sockets takes a tick or two, so this waits briefly.
 */
async function expectNoLeaks(baseline: Map<string, number>): Promise<void> {
  let leaked: string[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    const now = leakableResources();
    leaked = [...now].filter(([kind, count]) => count > (baseline.get(kind) ?? 0)).map(([kind, count]) => `${kind} x${count - (baseline.get(kind) ?? 0)}`);
    if (leaked.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the test bridge left resources behind after stop(): ${leaked.join(', ')}`);
}
