import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { hashPassword } from '../../runtime/src/auth/password-hash.ts';
import { freePort, randomPassiveStart } from './bridge.ts';
import { TEST_CREDENTIALS, type TestS3 } from './s3-server.ts';
import { makeCertificate } from './tls-fixture.ts';

/**
 * The built bridge (runtime/dist/main.js, what the container runs) in a child
 * process, against a test S3 server: its memory, its S3 client and its signals are
 * its own. One user, `user`/`pass`, home `home/`, unless `users` says otherwise.
 */
export interface ChildBridge {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** The implicit-FTPS port, with `tls`. */
  readonly implicitPort: number | undefined;
  /** The users file it watches (FTP_USERS_FILE): a test may rewrite it. */
  readonly usersFile: string;
  /** Everything it wrote on stdout so far (JSON log lines). */
  stdout(): string;
  /** The log lines parsed. */
  logs(): Array<Record<string, unknown>>;
  /** SIGKILL, if still running. */
  kill(): void;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN = join(ROOT, 'runtime', 'dist', 'main.js');

export interface ChildBridgeUser {
  readonly username: string;
  readonly password: string;
  /** @default `${username}/` */
  readonly home?: string;
  readonly tlsSessionReuse?: 'required' | 'optional';
  readonly tlsCloseNotify?: 'required' | 'optional';
  /** A hash of `password` made already (hundreds of users can share one); default: a cheap one (logN 10). */
  readonly passwordHash?: string;
}

export const CHILD_USER: ChildBridgeUser = { username: 'user', password: 'pass', home: 'home/' };

export async function startChildBridge(options: {
  /** A test S3 server, or any endpoint and bucket (the discard endpoint, say). */
  readonly s3: Pick<TestS3, 'endpoint' | 'bucket'>;
  /** A temporary folder for the users file (and the certificate, with `tls`). */
  readonly dir: string;
  readonly env?: Record<string, string>;
  /** @default [CHILD_USER] */
  readonly users?: readonly ChildBridgeUser[];
  /** A self-signed certificate: explicit FTPS on the control port, implicit FTPS on a port of its own. */
  readonly tls?: boolean;
  /** The Node.js binary to run it on; default: this process's. */
  readonly node?: string;
}): Promise<ChildBridge> {
  const { s3, dir } = options;
  const usersFile = join(dir, 'users.json');
  const users = await Promise.all(
    (options.users ?? [CHILD_USER]).map(async (user) => ({
      username: user.username,
      passwordHash: user.passwordHash ?? (await hashPassword(user.password, { parameters: { logN: 10, r: 8, p: 1 } })),
      home: user.home ?? `${user.username}/`,
      ...(user.tlsSessionReuse ? { tlsSessionReuse: user.tlsSessionReuse } : {}),
      ...(user.tlsCloseNotify ? { tlsCloseNotify: user.tlsCloseNotify } : {}),
    })),
  );
  await writeFile(usersFile, JSON.stringify({ users }));
  const tlsEnv: Record<string, string> = {};
  if (options.tls) {
    const certificate = await makeCertificate();
    tlsEnv.FTP_TLS_CERT_FILE = join(dir, 'cert.pem');
    tlsEnv.FTP_TLS_KEY_FILE = join(dir, 'key.pem');
    await writeFile(tlsEnv.FTP_TLS_CERT_FILE, certificate.cert);
    await writeFile(tlsEnv.FTP_TLS_KEY_FILE, certificate.key);
  }
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const first = randomPassiveStart();
    const implicitPort = options.tls ? await freePort() : 0;
    if ([port, implicitPort].some((taken) => taken >= first && taken <= first + 9)) continue;
    const child = spawn(options.node ?? process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        FTP_LISTEN_ADDRESS: '127.0.0.1',
        FTP_PORT: String(port),
        FTPS_IMPLICIT_PORT: String(implicitPort),
        FTP_PASSIVE_PORTS: `${first}-${first + 9}`,
        HEALTH_PORT: '0',
        FTP_USERS_FILE: usersFile,
        FTP_LOGIN_FAILURE_DELAY_MS: '0',
        S3_BUCKET: s3.bucket,
        S3_ENDPOINT: s3.endpoint,
        S3_CHECKSUM: 'when_required',
        // fauxqs takes at most about 11 MiB per request body.
        S3_PART_SIZE_MIB: '5',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        ...tlsEnv,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let exited = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.resume();
    child.once('exit', () => (exited = true));
    for (let wait = 0; wait < 150 && !exited && !stdout.includes('"listening"'); wait++) await delay(100);
    if (stdout.includes('"event":"listening"') && child.pid !== undefined) {
      return {
        process: child,
        pid: child.pid,
        port,
        implicitPort: options.tls ? implicitPort : undefined,
        usersFile,
        stdout: () => stdout,
        logs: () => jsonLines(stdout),
        kill: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        },
      };
    }
    child.kill('SIGKILL');
    // A port another test took meanwhile (start-failure.ts words it "already in use").
    if (attempt < 5 && /already in use|EADDRINUSE/i.test(stdout)) continue;
    throw new Error(`the bridge did not start: ${stdout}`);
  }
}

/** The JSON log lines in a process's output (other lines are skipped). */
export function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** VmRSS or VmHWM of a process, in MiB. */
export async function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (match?.[1] === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** VmRSS once it has stopped moving (two samples 250 ms apart within 1 MiB), or after 5 s. */
export async function settledRss(pid: number): Promise<number> {
  let previous = await memoryMiB(pid, 'VmRSS');
  for (let sample = 0; sample < 20; sample++) {
    await delay(250);
    const now = await memoryMiB(pid, 'VmRSS');
    if (Math.abs(now - previous) < 1) return now;
    previous = now;
  }
  return previous;
}

/** Starts VmHWM afresh from the current RSS (Linux's clear_refs), so it tells the peak of what follows. */
export async function resetPeakMemory(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}
