import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashPassword } from '../../runtime/src/auth/password-hash.ts';
import { makeCertificate } from '../../test/support/tls-fixture.ts';
import { readMemory } from '../process-memory.ts';
import { freePortRange } from '../../test/support/ports.ts';
import { stopChild, waitForFtp } from '../processes.ts';
import { DEFAULT_UPLOAD_BUFFER_MIB } from '../settings.ts';

/**
 * The bridge as it runs in the container: the built entry point (runtime/dist/main.js)
 * in a process of its own, so its memory and CPU are measured alone.
 */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'runtime', 'dist', 'main.js');

export const BRIDGE_USER = 'bench';
export const BRIDGE_PASSWORD = 'bench';
/** The user's home: keys of everything the bench stores through the bridge start with it. */
export const BRIDGE_HOME = 'bench/';

export interface BridgeFiles {
  readonly usersFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly logFile: string;
}

/**
 * Users file and certificate in `work`. The password hash uses a cheap scrypt cost
 * (logN 10): a login at the production cost (logN 15, 32 MiB per verification) would
 * weigh on short runs and on the peak RSS of 100 simultaneous logins, and is not
 * what this bench measures.
 */
export async function prepareBridgeFiles(work: string): Promise<BridgeFiles> {
  const certificate = await makeCertificate();
  const files: BridgeFiles = {
    usersFile: join(work, 'users.json'),
    certFile: join(work, 'cert.pem'),
    keyFile: join(work, 'key.pem'),
    logFile: join(work, 'bridge.log'),
  };
  const passwordHash = await hashPassword(BRIDGE_PASSWORD, { parameters: { logN: 10, r: 8, p: 1 } });
  await writeFile(files.usersFile, JSON.stringify({ users: [{ username: BRIDGE_USER, passwordHash, home: BRIDGE_HOME }] }));
  await writeFile(files.certFile, certificate.cert);
  await writeFile(files.keyFile, certificate.key);
  return files;
}

export interface BridgeOptions {
  readonly files: BridgeFiles;
  readonly endpoint: string;
  readonly bucket: string;
  /** S3_CHECKSUM; unset = the bridge's default (when_supported). */
  readonly checksum?: 'when_required' | 'when_supported';
  /** Passive ports to reserve (one per simultaneous transfer, and some spare). @default 20 */
  readonly passivePorts?: number;
  /** S3_PART_SIZE_MIB; unset = the bridge's default (8). */
  readonly partSizeMib?: number;
  /** FTP_UPLOAD_BUFFER_MIB. @default DEFAULT_UPLOAD_BUFFER_MIB */
  readonly uploadBufferMib?: number;
  /** Write a V8 CPU profile of the whole run into this folder (node --cpu-prof). */
  readonly cpuProfileDir?: string;
  /** S3 credentials. @default bench / bench (fauxqs and the discard endpoint take any) */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** More environment (FTP_LIST_CLIENT_TIMES=off, say). */
  readonly env?: Readonly<Record<string, string>>;
  /** Called with the bridge's pid as soon as it is spawned, before it serves (puts it in a CPU quota). */
  onSpawn?(pid: number): Promise<void>;
}

export interface BridgeProcess {
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** ftp://user:password@127.0.0.1:port */
  readonly url: string;
  /** RSS once it was ready, before any work. */
  readonly startRssMib: number;
  stop(): Promise<void>;
}

export async function startBridge(options: BridgeOptions): Promise<BridgeProcess> {
  // Another program on this shared machine may take a port between the check and the bind.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startBridgeOnce(options);
    } catch (error) {
      if (attempt >= 3 || !(error as Error).message.includes('EADDRINUSE')) throw error;
    }
  }
}

async function startBridgeOnce(options: BridgeOptions): Promise<BridgeProcess> {
  const passiveCount = options.passivePorts ?? 20;
  const port = await freePortRange(passiveCount + 1);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    FTP_LISTEN_ADDRESS: '127.0.0.1',
    FTP_PORT: String(port),
    FTPS_IMPLICIT_PORT: '0',
    FTP_PASSIVE_PORTS: `${port + 1}-${port + passiveCount}`,
    HEALTH_PORT: '0',
    FTP_USERS_FILE: options.files.usersFile,
    FTP_TLS_CERT_FILE: options.files.certFile,
    FTP_TLS_KEY_FILE: options.files.keyFile,
    S3_BUCKET: options.bucket,
    S3_ENDPOINT: options.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: options.credentials?.accessKeyId ?? 'bench',
    AWS_SECRET_ACCESS_KEY: options.credentials?.secretAccessKey ?? 'bench',
    LOG_LEVEL: 'warn',
    FTP_SHUTDOWN_GRACE_SECONDS: '1',
    FTP_UPLOAD_BUFFER_MIB: String(options.uploadBufferMib ?? DEFAULT_UPLOAD_BUFFER_MIB),
    // Every bench client comes from 127.0.0.1: the per-address limit (20 by default,
    // for a partner's address) would turn the concurrency scenarios away.
    FTP_MAX_CONNECTIONS: '5000',
    FTP_MAX_CONNECTIONS_PER_ADDRESS: '5000',
    ...options.env,
  };
  if (options.checksum !== undefined) env.S3_CHECKSUM = options.checksum;
  if (options.partSizeMib !== undefined) env.S3_PART_SIZE_MIB = String(options.partSizeMib);
  const args = options.cpuProfileDir === undefined ? [MAIN] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`, MAIN];
  const log = openSync(options.files.logFile, 'a');
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', log, log] });
  closeSync(log);
  try {
    await options.onSpawn?.(child.pid!);
    await Promise.race([
      waitForFtp(port),
      new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`the bridge exited (${code}) at start`)))),
    ]);
  } catch (error) {
    await stopChild(child);
    const tail = (await readFile(options.files.logFile, 'utf8').catch(() => '')).slice(-2000);
    throw new Error(`${(error as Error).message}\n${tail}`);
  }
  return {
    port,
    pid: child.pid!,
    child,
    url: `ftp://${BRIDGE_USER}:${BRIDGE_PASSWORD}@127.0.0.1:${port}`,
    startRssMib: Math.round((await readMemory(child.pid!)).rssMib),
    stop: () => stopChild(child),
  };
}

