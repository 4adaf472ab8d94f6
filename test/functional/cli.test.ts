import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hashPassword, verifyPassword } from '../../runtime/src/auth/password-hash.ts';
import { configVariables } from '../../runtime/src/config.ts';
import { freePort, randomPassiveStart } from '../support/bridge.ts';
import { startChildBridge } from '../support/child-bridge.ts';
import { RawFtp } from '../support/raw-ftp.ts';
import { pendingMultipartUploads, startTestS3, TEST_CREDENTIALS } from '../support/s3-server.ts';
import { skipWithout } from '../support/required-tool.ts';
import { waitUntil } from '../support/wait-until.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'runtime', 'dist', 'main.js');

function run(args: string[], options: { env?: Record<string, string>; input?: string; cwd?: string; main?: string } = {}) {
  return spawnSync(process.execPath, [options.main ?? MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 30_000,
    cwd: options.cwd ?? ROOT,
  });
}

describe('command line', () => {
  test('--help lists every configuration variable with its default', () => {
    const result = run(['--help']);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /Usage: node runtime\/dist\/main\.js/);
    assert.match(result.stdout, /hash-password/);
    for (const variable of configVariables()) assert.ok(result.stdout.includes(variable.name), `--help mentions ${variable.name}`);
  });

  const badValues: Array<[Record<string, string>, string]> = [
    [{ FTP_USERS_FILE: '/u.json' }, 'S3_BUCKET'],
    [{ S3_BUCKET: 'bucket' }, 'FTP_USERS_FILE'],
    [{ S3_BUCKET: 'bucket', FTP_USERS_FILE: '/u.json', FTP_PORT: 'twenty-one' }, 'FTP_PORT'],
    [{ S3_BUCKET: 'bucket', FTP_USERS_FILE: '/u.json', FTP_PASSIVE_PORTS: '30099-30000' }, 'FTP_PASSIVE_PORTS'],
    [{ S3_BUCKET: 'bucket', FTP_USERS_FILE: '/u.json', FTP_TLS_MODE: 'required' }, 'FTP_TLS_MODE'],
    [{ S3_BUCKET: 'bucket', FTP_USERS_FILE: '/does/not/exist.json' }, 'FTP_USERS_FILE'],
  ];
  for (const [env, variable] of badValues) {
    test(`a bad ${variable} exits with status 2 and one line naming it`, () => {
      const result = run([], { env: { FTP_PORT: '62121', HEALTH_PORT: '0', FTPS_IMPLICIT_PORT: '0', FTP_PASSIVE_PORTS: '62200-62210', ...env } });
      assert.equal(result.status, 2, result.stderr);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, new RegExp(`^ftp-s3-bridge: ${variable}: `));
      assert.ok(!result.stdout.includes('"stack"'), `no stack trace in the log: ${result.stdout}`);
    });
  }

  test('an unknown argument exits with status 2 and the usage', () => {
    const result = run(['serve-please']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown argument/);
  });

  test('hash-password reads the password on stdin and prints a verifiable hash', async () => {
    const result = run(['hash-password'], { input: 'correct horse\n' });
    assert.equal(result.status, 0, result.stderr);
    const hash = result.stdout.trim();
    assert.match(hash, /^\$scrypt\$/);
    assert.ok(await verifyPassword('correct horse', hash));
    assert.equal(await verifyPassword('correct horse\n', hash), false, 'one trailing newline is not part of the password');
    assert.equal(run(['hash-password'], { input: '' }).status, 2, 'an empty password is refused');
  });

  test('hash-password --help prints its usage and exits 0; other arguments are a usage error', () => {
    const help = run(['hash-password', '--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: node runtime\/dist\/main\.js hash-password\n/);
    const extra = run(['hash-password', 'secret']);
    assert.equal(extra.status, 2);
    assert.match(extra.stderr, /hash-password takes no arguments/);
  });
});

describe('signals', () => {
  test('a second SIGTERM aborts the running upload at once, logs forced-exit and leaves no multipart upload', async (t) => {
    const s3 = await startTestS3();
    const dir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-signals-'));
    const bridge = await startChildBridge({ s3, dir, env: { FTP_SHUTDOWN_GRACE_SECONDS: '120' } });
    t.after(async () => {
      bridge.kill();
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
    });
    // 'close', not 'exit': the log lines written last must have been read.
    const exited = new Promise<number | null>((resolve) => bridge.process.once('close', resolve));
    const ftp = await RawFtp.login(bridge.port, 'user', 'pass');
    const data = await ftp.passive();
    data.on('error', () => undefined);
    await ftp.command('STOR cut-off.bin', 150);
    // Past the 5 MiB first part: a multipart upload in S3 now.
    data.write(Buffer.alloc(6 * 1024 * 1024, 1));
    await waitUntil('the multipart upload', async () => (await pendingMultipartUploads(s3)).length === 1);

    bridge.process.kill('SIGTERM');
    await waitUntil('the graceful stop', () => bridge.logs().some((line) => line.event === 'shutdown-started'));
    bridge.process.kill('SIGTERM');
    assert.equal(await exited, 130);
    const forced = bridge.logs().find((line) => line.event === 'forced-exit');
    assert.equal(forced?.transfersNotAborted, 0, JSON.stringify(forced));
    assert.ok(bridge.logs().some((line) => line.event === 'transfer' && line.path === '/cut-off.bin' && line.outcome === 'aborted'));
    // Aborted, or kept as a pending upload its partner can continue (docs/resumable-uploads.md).
    const kept = new Set(bridge.logs().filter((line) => line.event === 'upload-kept').map((line) => String(line.uploadId)));
    assert.deepEqual((await pendingMultipartUploads(s3)).filter((id) => !kept.has(id)), []);
    data.destroy();
    await ftp.close().catch(() => undefined);
  });
});

async function curl(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('curl', ['-sS', '--max-time', '20', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

describe('the container entry point with production dependencies only', () => {
  test('installs with npm ci --omit=dev, serves curl, logs JSON lines, stops cleanly on SIGTERM', { skip: skipWithout('curl') }, async (t) => {
    const app = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-image-'));
    const s3 = await startTestS3();
    t.after(async () => {
      await s3.stop();
      await rm(app, { recursive: true, force: true });
    });
    // What the Dockerfile copies, and how it installs.
    await cp(join(ROOT, 'package.json'), join(app, 'package.json'));
    await cp(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
    await cp(join(ROOT, 'runtime', 'dist'), join(app, 'runtime', 'dist'), { recursive: true });
    await rm(join(app, 'runtime', 'dist', 'local'), { recursive: true, force: true });
    await rm(join(app, 'runtime', 'dist', 'local-stack.js'), { force: true });
    const install = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(install.status, 0, install.stderr);
    const installed = JSON.parse(await readFile(join(app, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    for (const devOnly of ['fauxqs', 'aws-cdk-lib', 'typescript', 'basic-ftp']) {
      assert.ok(!(`node_modules/${devOnly}` in installed.packages), `${devOnly} is not in the image`);
    }

    await writeFile(
      join(app, 'users.json'),
      JSON.stringify({ users: [{ username: 'img', passwordHash: await hashPassword('img-pass', { parameters: { logN: 10, r: 8, p: 1 } }), home: 'img/' }] }),
    );
    const port = await freePort();
    const first = randomPassiveStart();
    const child = spawn(process.execPath, ['runtime/dist/main.js'], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        FTP_LISTEN_ADDRESS: '127.0.0.1',
        FTP_PORT: String(port),
        FTPS_IMPLICIT_PORT: '0',
        FTP_PASSIVE_PORTS: `${first}-${first + 4}`,
        HEALTH_PORT: '0',
        FTP_USERS_FILE: join(app, 'users.json'),
        S3_BUCKET: s3.bucket,
        S3_ENDPOINT: s3.endpoint,
        S3_CHECKSUM: 'when_required',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    t.after(() => child.kill('SIGKILL'));
    await waitUntil('the image to listen', () => stdout.includes('"event":"listening"'));

    // curl runs asynchronously: the S3 server lives in this process and must keep serving.
    const url = `ftp://img:img-pass@127.0.0.1:${port}/`;
    const upload = await curl(['-T', '-', `${url}from-curl.txt`], 'via the image');
    assert.equal(upload.code, 0, upload.stderr);
    const download = await curl([`${url}from-curl.txt`]);
    assert.equal(download.stdout, 'via the image');

    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(lines.some((line) => line.event === 'transfer' && line.command === 'STOR' && line.outcome === 'ok'));
    assert.ok(lines.some((line) => line.event === 'shutdown-complete'));
    assert.ok(!stdout.includes('img-pass'), 'the password is never logged');
  });
});
