import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePortRange } from '../../test/support/ports.ts';
import { run, stopChild } from '../processes.ts';

/**
 * `rclone mount` of a bucket folder on an S3-compatible endpoint: the classic way to
 * put a stock FTP server in front of S3.
 *
 * The options, and why they are fair to rclone:
 * - --vfs-cache-mode writes: without it rclone cannot take a file written the way
 *   an FTP server writes (uploads fail outright); files are written to a local cache
 *   and uploaded after close.
 * - --vfs-write-back 0s: upload as soon as the file is closed (the default waits 5 s).
 * - --s3-chunk-size 8M, --s3-upload-cutoff 8M, --s3-upload-concurrency 4: the same
 *   part size and parallelism as the bridge (and fauxqs takes no body above 11 MiB).
 * - --use-server-modtime: listings use S3's LastModified instead of a HEAD per object
 *   for rclone's own mtime metadata, which is what makes a LIST of a big folder fast.
 * - --allow-other: vsftpd's anonymous user is not root.
 */
export const RCLONE_MOUNT_OPTIONS = [
  '--vfs-cache-mode',
  'writes',
  '--vfs-write-back',
  '0s',
  '--s3-chunk-size',
  '8M',
  '--s3-upload-cutoff',
  '8M',
  '--s3-upload-concurrency',
  '4',
  '--use-server-modtime',
  '--allow-other',
] as const;

export interface RcloneMount {
  readonly mountPoint: string;
  /** Drops rclone's cached directory listings (vfs/forget), so the next LIST asks S3. */
  forgetListings(): Promise<void>;
  stop(): Promise<void>;
}

export async function mountBucket(options: {
  readonly endpoint: string;
  /** bucket/folder to mount. */
  readonly remotePath: string;
  readonly mountPoint: string;
  readonly work: string;
}): Promise<RcloneMount> {
  const configFile = join(options.work, 'rclone.conf');
  await writeFile(
    configFile,
    [
      '[bench]',
      'type = s3',
      'provider = Other',
      'access_key_id = bench',
      'secret_access_key = bench',
      `endpoint = ${options.endpoint}`,
      'region = us-east-1',
      'force_path_style = true',
      'no_check_bucket = true',
      'list_version = 2',
      '',
    ].join('\n'),
  );
  const cacheDir = join(options.work, 'rclone-cache');
  await mkdir(cacheDir, { recursive: true });
  await mkdir(options.mountPoint, { recursive: true });
  const logFile = join(options.work, 'rclone.log');
  const log = openSync(logFile, 'a');
  // AWS_CA_BUNDLE (set on some machines) makes rclone's S3 client refuse its own HTTP transport.
  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE;
  // The remote control API, on loopback only, for vfs/forget.
  const rcPort = await freePortRange(1);
  const child = spawn(
    'rclone',
    [
      'mount',
      `bench:${options.remotePath}`,
      options.mountPoint,
      '--config',
      configFile,
      '--cache-dir',
      cacheDir,
      '--rc',
      '--rc-addr',
      `127.0.0.1:${rcPort}`,
      '--rc-no-auth',
      ...RCLONE_MOUNT_OPTIONS,
    ],
    { env, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const deadline = Date.now() + 30_000;
  while (!(await isMounted(options.mountPoint))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`rclone mount did not come up:\n${await readFile(logFile, 'utf8').catch(() => '')}`);
    }
    await delay(100);
  }
  return {
    mountPoint: options.mountPoint,
    async forgetListings() {
      const response = await fetch(`http://127.0.0.1:${rcPort}/vfs/forget`, { method: 'POST' });
      if (!response.ok) throw new Error(`rclone vfs/forget: ${response.status} ${await response.text()}`);
    },
    async stop() {
      // The mount can stay busy for a moment after the FTP server's sessions are gone.
      for (let attempt = 0; attempt < 50 && (await isMounted(options.mountPoint)); attempt += 1) {
        await run('fusermount3', ['-u', options.mountPoint]).catch(() => delay(200));
      }
      if (await isMounted(options.mountPoint)) await run('fusermount3', ['-u', '-z', options.mountPoint]);
      await stopChild(child);
    },
  };
}

async function isMounted(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[1] === path);
}
