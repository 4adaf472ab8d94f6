import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { hashPassword } from '../../runtime/src/auth/password-hash.ts';
import { freePort } from './bridge.ts';
import { TEST_CREDENTIALS, type TestS3 } from './s3-server.ts';

/**
 * The built bridge (runtime/dist/main.js, what the container runs) in a child
 * process, against a test S3 server: its memory, its S3 client and its signals are
 * its own. One user, `user`/`pass`, home `home/`.
 */
export interface ChildBridge {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** Everything it wrote on stdout so far (JSON log lines). */
  stdout(): string;
  /** The log lines parsed. */
  logs(): Array<Record<string, unknown>>;
  /** SIGKILL, if still running. */
  kill(): void;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN = join(ROOT, 'runtime', 'dist', 'main.js');

export async function startChildBridge(options: {
  /** A test S3 server, or any endpoint and bucket (the discard endpoint, say). */
  readonly s3: Pick<TestS3, 'endpoint' | 'bucket'>;
  /** A temporary folder for the users file. */
  readonly dir: string;
  readonly env?: Record<string, string>;
}): Promise<ChildBridge> {
  const { s3, dir } = options;
  const usersFile = join(dir, 'users.json');
  const passwordHash = await hashPassword('pass', { parameters: { logN: 10, r: 8, p: 1 } });
  await writeFile(usersFile, JSON.stringify({ users: [{ username: 'user', passwordHash, home: 'home/' }] }));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const first = 20000 + Math.floor(Math.random() * 2000) * 10;
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        FTP_LISTEN_ADDRESS: '127.0.0.1',
        FTP_PORT: String(port),
        FTPS_IMPLICIT_PORT: '0',
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
        stdout: () => stdout,
        logs: () => jsonLines(stdout),
        kill: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        },
      };
    }
    child.kill('SIGKILL');
    if (attempt < 5 && /passive port/i.test(stdout)) continue;
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
