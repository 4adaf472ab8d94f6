import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort, randomPassiveStart } from '../support/bridge.ts';
import { jsonLines } from '../support/child-bridge.ts';
import { RawFtp } from '../support/raw-ftp.ts';
import { waitUntil } from '../support/wait-until.ts';

/**
 * `npm start` as a person meets it: the local stack (runtime/src/local/local-stack.ts)
 * in a process group of its own, as a terminal runs it, with its S3 store in a
 * temporary folder and free ports. runtime/dist is built before the tests run, so
 * the stack is started with --no-build.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOCAL_STACK = join(ROOT, 'runtime', 'src', 'local', 'local-stack.ts');
const BANNER = 'ftp-s3-bridge local stack';

interface LocalStack {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly dir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly ftpPort: number;
  stdout(): string;
  stderr(): string;
  /** The bridge's JSON log lines. */
  logs(): Array<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startLocalStack(
  t: TestContext,
  options: { env?: Record<string, string>; viaNpm?: boolean; expectBanner?: boolean; dir?: string } = {},
): Promise<LocalStack> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-local-')));
  if (options.dir === undefined) t.after(() => rm(dir, { recursive: true, force: true }));
  for (let attempt = 1; ; attempt++) {
    const first = randomPassiveStart();
    const ftpPort = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      LOCAL_STACK_DIR: dir,
      LOCAL_STACK_S3_PORT: '0',
      FTP_PORT: String(ftpPort),
      FTPS_IMPLICIT_PORT: String(await freePort()),
      HEALTH_PORT: String(await freePort()),
      FTP_PASSIVE_PORTS: `${first}-${first + 4}`,
      // fauxqs takes at most about 11 MiB per request body.
      S3_PART_SIZE_MIB: '5',
      ...options.env,
    };
    const [command, args] = options.viaNpm
      ? ['npm', ['start', '--silent', '--', '--no-build']]
      : [process.execPath, [LOCAL_STACK, '--no-build']];
    // detached: a process group of its own, as a shell gives a foreground job.
    const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      // 'close', not 'exit': the lines written last must have been read.
      child.once('close', (code, signal) => resolve({ code, signal })),
    );
    let done = false;
    void exited.then(() => (done = true));
    // The bridge has a process group of its own: a test that fails must not leave it running.
    let processes: number[] = [];
    t.after(async () => {
      for (const pid of processes) if (await isRunning(pid)) process.kill(pid, 'SIGKILL');
      if (!done) {
        process.kill(-child.pid!, 'SIGKILL');
        await exited;
      }
    });
    for (let wait = 0; wait < 300 && !done && !stderr.includes(BANNER); wait++) await delay(100);
    processes = await descendantsOf(child.pid!);
    const stack: LocalStack = {
      process: child,
      pid: child.pid!,
      dir,
      env,
      ftpPort,
      stdout: () => stdout,
      stderr: () => stderr,
      logs: () => jsonLines(stdout),
      exited,
    };
    // A random port or passive range the test did not choose can be taken by another
    // program between the check and the bind: start again with others.
    const taken = /\b([A-Z_]+): .*in use/.exec(stderr)?.[1];
    if (attempt < 4 && taken !== undefined && options.env?.[taken] === undefined) {
      await exited;
      continue;
    }
    if (options.expectBanner === false) return stack;
    if (stderr.includes(BANNER)) return stack;
    throw new Error(`the local stack did not start:\n${stderr}\n${stdout}`);
  }
}

/** The processes whose parent is `pid`. */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}

async function descendantsOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const child of await childrenOf(pid)) found.push(child, ...(await descendantsOf(child)));
  return found;
}

/** Alive and not a zombie. */
async function isRunning(pid: number): Promise<boolean> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text !== undefined && text.slice(text.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** Local addresses of the listening TCP sockets the processes hold (from /proc/net/tcp and tcp6). */
async function listeningAddresses(pids: readonly number[]): Promise<string[]> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(match[1]!);
    }
  }
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is field 1, st field 3 (0A = LISTEN), inode field 9.
      if (fields[3] !== '0A' || !inodes.has(fields[9] ?? '')) continue;
      addresses.push(decodeProcAddress(fields[1]!));
    }
  }
  return addresses;
}

/** `0100007F:1F90` → `127.0.0.1:8080`; IPv6 as groups of hex. */
function decodeProcAddress(text: string): string {
  const [hex, portHex] = text.split(':') as [string, string];
  const port = Number.parseInt(portHex, 16);
  if (hex.length === 8) {
    const bytes = Buffer.from(hex, 'hex').reverse();
    return `${[...bytes].join('.')}:${port}`;
  }
  // Four little-endian 32-bit words.
  const words = hex.match(/.{8}/g)!.map((word) => Buffer.from(word, 'hex').reverse().toString('hex'));
  return `[${words.join('').match(/.{4}/g)!.join(':')}]:${port}`;
}

async function multipartUploads(stack: LocalStack): Promise<string[]> {
  return await readdir(join(stack.dir, 's3', '_multipart')).catch(() => []);
}

async function refusesConnections(port: number): Promise<boolean> {
  const socket = connect({ host: '127.0.0.1', port });
  try {
    await once(socket, 'connect');
    return false;
  } catch {
    return true;
  } finally {
    socket.destroy();
  }
}

describe('the local stack (npm start)', () => {
  test('everything it runs listens on 127.0.0.1 only; the banner shows the ports it was given', async (t) => {
    const stack = await startLocalStack(t, { env: { S3_BUCKET: 'not-this-one' } });
    const pids = [stack.pid, ...(await descendantsOf(stack.pid))];
    assert.equal(pids.length, 2, 'the local stack and the bridge');
    const addresses = await listeningAddresses(pids);
    // S3, DynamoDB (dynalite), FTP, implicit FTPS, health and five passive ports.
    assert.equal(addresses.length, 10, addresses.join(' '));
    for (const address of addresses) assert.match(address, /^127\.0\.0\.1:\d+$/);

    const banner = stack.stderr();
    assert.ok(banner.includes(`ftp://demo:demo@127.0.0.1:${stack.ftpPort}/`), banner);
    assert.ok(banner.includes(`http://127.0.0.1:${stack.env['HEALTH_PORT']}/health`), banner);
    assert.match(banner, /local stack: the local stack sets S3_BUCKET itself/);
    // The shared state runs through the DynamoDB code, against the embedded dynalite.
    assert.match(banner, /embedded DynamoDB +http:\/\/127\.0\.0\.1:\d+ +table "local-state"/);
    assert.match(stack.stdout(), /"event":"listening".*"limitsScope":"shared"/);
    const health = await fetch(`http://127.0.0.1:${stack.env['HEALTH_PORT']}/health`);
    assert.equal(health.status, 200);
  });

  test('one SIGINT to the process group of npm start (a Ctrl-C) is one graceful stop: the running upload finishes, the stuck one is kept or aborted', async (t) => {
    // Through npm: it passes the signal on to the local stack, which the terminal signals too.
    // A grace that a loaded machine cannot run out of while the first upload finishes.
    const stack = await startLocalStack(t, { viaNpm: true, env: { FTP_SHUTDOWN_GRACE_SECONDS: '10' } });
    const finishing = await RawFtp.login(stack.ftpPort, 'demo', 'demo');
    const stuck = await RawFtp.login(stack.ftpPort, 'demo', 'demo');
    const finishingData = await finishing.passive();
    const stuckData = await stuck.passive();
    stuckData.on('error', () => undefined);
    await finishing.command('STOR finished.bin', 150);
    await stuck.command('STOR stuck.bin', 150);
    // Past the 5 MiB first part: both are multipart uploads in fauxqs now.
    const part = Buffer.alloc(6 * 1024 * 1024, 1);
    finishingData.write(part);
    stuckData.write(part);
    await waitUntil('two multipart uploads', async () => (await multipartUploads(stack)).length === 2);

    process.kill(-stack.pid, 'SIGINT');
    await waitUntil('the shutdown to start', () => stack.logs().some((line) => line.event === 'shutdown-started'));
    finishingData.end(Buffer.alloc(1024 * 1024, 2));
    assert.equal((await finishing.read()).code, 226, 'the upload running at Ctrl-C completes');

    assert.deepEqual(await stack.exited, { code: 0, signal: null });
    const logs = stack.logs();
    assert.equal(logs.filter((line) => line.event === 'signal').length, 1, 'the bridge heard one signal');
    assert.ok(!logs.some((line) => line.event === 'forced-exit'));
    assert.ok(logs.some((line) => line.event === 'transfer' && line.path === '/stuck.bin' && line.outcome === 'aborted'));
    // Kept (S3 held a whole part of it: docs/resumable-uploads.md) or aborted.
    const kept = new Set(logs.filter((line) => line.event === 'upload-kept').map((line) => String(line.uploadId)));
    assert.deepEqual((await multipartUploads(stack)).filter((id) => !kept.has(id)), [], 'no multipart upload is left behind that is not resumable');
    const stored = await stat(join(stack.dir, 's3', 'buckets', 'local-bucket', 'objects', 'partners', 'demo', 'finished.bin.data'));
    assert.equal(stored.size, 7 * 1024 * 1024);
    finishingData.destroy();
    stuckData.destroy();
    await finishing.close().catch(() => undefined);
    await stuck.close().catch(() => undefined);
  });

  test('killing npm start with SIGKILL ends the local stack and the bridge', async (t) => {
    const stack = await startLocalStack(t, { viaNpm: true });
    const [localStack] = await childrenOf(stack.pid);
    assert.ok(localStack !== undefined, 'npm runs the local stack');
    const [bridge] = await childrenOf(localStack);
    assert.ok(bridge !== undefined, 'the local stack runs the bridge');
    process.kill(stack.pid, 'SIGKILL');
    await waitUntil('the local stack to end', async () => !(await isRunning(localStack)));
    await waitUntil('the bridge to end', async () => !(await isRunning(bridge)));
    assert.ok(await refusesConnections(stack.ftpPort), 'the FTP port is free again');
  });

  test('after a SIGKILL mid-upload the next start keeps the pending upload, reports it, and removes uploads nothing records', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-local-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const first = await startLocalStack(t, { dir });
    const ftp = await RawFtp.login(first.ftpPort, 'demo', 'demo');
    const data = await ftp.passive();
    data.on('error', () => undefined);
    await ftp.command('STOR cut.bin', 150);
    data.write(Buffer.alloc(11 * 1024 * 1024, 3));
    const journal = join(dir, 'pending-uploads.json');
    const recorded = async (): Promise<Array<{ uploadId: string; parts: unknown[] }>> =>
      ((JSON.parse(await readFile(journal, 'utf8').catch(() => '{}')) as { uploads?: Array<{ uploadId: string; parts: unknown[] }> }).uploads ?? []);
    await waitUntil('a whole part recorded', async () => (await recorded()).some((upload) => upload.parts.length > 0));
    // Both at once, as kill -9 of everything would: the bridge runs in a process group of its own.
    const [bridge] = await childrenOf(first.pid);
    process.kill(bridge!, 'SIGKILL');
    process.kill(-first.pid, 'SIGKILL');
    await first.exited;
    data.destroy();
    await ftp.close().catch(() => undefined);
    const [kept] = await recorded();
    // An upload fauxqs holds that the journal does not record (a bridge killed between the two).
    const stray = join(dir, 's3', '_multipart', 'stray-upload');
    await mkdir(join(stray, 'parts'), { recursive: true });
    await writeFile(join(stray, '.upload.json'), JSON.stringify({ uploadId: 'stray-upload', bucket: 'local-bucket', key: 'partners/demo/stray.bin', metadata: {}, initiated: new Date().toISOString() }));
    assert.deepEqual((await readdir(join(dir, 's3', '_multipart'))).sort(), [kept!.uploadId, 'stray-upload'].sort());

    const second = await startLocalStack(t, { dir });
    await waitUntil('the start report', () => second.logs().some((line) => line.event === 'pending-uploads-found'));
    const found = second.logs().find((line) => line.event === 'pending-uploads-found')!;
    assert.equal(found.uploads, 1, JSON.stringify(found));
    assert.match(second.stderr(), /removed 1 multipart upload\(s\) in .* that no pending upload records/);
    assert.deepEqual(await readdir(join(dir, 's3', '_multipart')), [kept!.uploadId], 'the stray upload is gone, the kept one stays');
    const check = await RawFtp.login(second.ftpPort, 'demo', 'demo');
    assert.equal((await check.command('SIZE cut.bin', 213)).text, String(found.durableBytes));
    await check.close();
    process.kill(-second.pid, 'SIGINT');
    await second.exited;
  });

  test('killing the local stack with SIGKILL ends the bridge', async (t) => {
    const stack = await startLocalStack(t);
    const [bridge] = await childrenOf(stack.pid);
    assert.ok(bridge !== undefined);
    process.kill(stack.pid, 'SIGKILL');
    await waitUntil('the bridge to end', async () => !(await isRunning(bridge)));
    assert.ok(await refusesConnections(stack.ftpPort));
  });

  test('a port in use is named in one line with what it is for and what to do', async (t) => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const taken = String((blocker.address() as { port: number }).port);

    const ftp = await startLocalStack(t, { env: { FTP_PORT: taken }, expectBanner: false });
    assert.equal((await ftp.exited).code, 1);
    assert.deepEqual(
      ftp.stderr().trim().split('\n'),
      [
        `ftp-s3-bridge: FTP_PORT: port ${taken} on 127.0.0.1 (FTP control connections) is already in use by another program ` +
          '(an ftp-s3-bridge or npm start still running?): stop it (ss -ltnp shows which), or set FTP_PORT to a free port',
      ],
    );
    assert.ok(!ftp.stdout().includes('"stack"'), 'the log line has no stack trace');

    const s3 = await startLocalStack(t, { env: { LOCAL_STACK_S3_PORT: taken }, expectBanner: false });
    assert.equal((await s3.exited).code, 1);
    const lines = s3.stderr().trim().split('\n');
    assert.equal(lines.length, 1, s3.stderr());
    assert.match(lines[0]!, new RegExp(`^local stack: LOCAL_STACK_S3_PORT: port ${taken} on 127\\.0\\.0\\.1 \\(the embedded S3 server\\) is already in use .*set LOCAL_STACK_S3_PORT to a free port$`));
  });

  test('the bridge variables pass through, checked as the bridge checks them, before anything starts', async (t) => {
    const bad = await startLocalStack(t, { env: { FTP_PORT: 'abc' }, expectBanner: false });
    assert.equal((await bad.exited).code, 2);
    const lines = bad.stderr().trim().split('\n');
    assert.equal(lines.length, 1, bad.stderr());
    assert.match(lines[0]!, /^ftp-s3-bridge: FTP_PORT: /);
    assert.deepEqual(await readdir(bad.dir), [], 'nothing was started or written');

    const missing = await startLocalStack(t, { env: { FTP_USERS_FILE: join(bad.dir, 'no-such-users.json') }, expectBanner: false });
    assert.equal((await missing.exited).code, 2);
    assert.deepEqual(missing.stderr().trim().split('\n'), [
      `ftp-s3-bridge: FTP_USERS_FILE: cannot read the file ${join(bad.dir, 'no-such-users.json')}: ENOENT: no such file or directory, stat '${join(bad.dir, 'no-such-users.json')}'`,
    ]);
    assert.ok(!missing.stdout().includes('"stack"'), 'the log line has no stack trace');
  });
});
