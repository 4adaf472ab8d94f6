import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_USER, startTestBridge, type TestBridge, type TestUser } from './bridge.ts';
import { RUN_ID } from './run-id.ts';

/**
 * Shared machinery of the interoperability suite: one real bridge per test file,
 * real client processes bounded in time, S3-side checks, and the compatibility
 * matrix (each test file writes results/<client>.json; test/interop/write-matrix.ts merges).
 */

export const INTEROP_DIR = fileURLToPath(new URL('../interop', import.meta.url));
export const RESULTS_DIR = join(INTEROP_DIR, 'results');
export const CLIENTS_DIR = join(INTEROP_DIR, 'clients');

/** In CI (or with INTEROP_REQUIRE_CLIENTS=1) a missing client fails its cases instead of skipping them. */
export const REQUIRE_CLIENTS =
  process.env.INTEROP_REQUIRE_CLIENTS === '1' || (process.env.CI ?? '').toLowerCase() === 'true' || process.env.CI === '1';

export type Mode = 'plain' | 'explicit TLS' | 'implicit TLS';
export const MODES: readonly Mode[] = ['plain', 'explicit TLS', 'implicit TLS'];
export type Status = 'pass' | 'fail' | 'missing';

export interface CaseResult {
  readonly client: string;
  readonly feature: string;
  readonly mode: Mode;
  readonly status: Status;
  readonly ms: number;
  readonly error?: string;
}

export interface ClientResults {
  readonly runId: string;
  readonly client: string;
  readonly version: string | null;
  readonly writtenAt: string;
  readonly cases: CaseResult[];
}

// ---------------------------------------------------------------- processes

export interface RunResult {
  readonly command: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  readonly input?: string | Buffer;
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

const live = new Set<ChildProcess>();
const killGroup = (child: ChildProcess): void => {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
};
process.on('exit', () => {
  for (const child of live) killGroup(child);
});

const MAX_OUTPUT = 4 * 1024 * 1024;

/** Runs a client in its own process group; on timeout the whole group is killed and the result says so. */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', ...options.env },
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outBytes = 0;
  let errBytes = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    if ((outBytes += chunk.length) <= MAX_OUTPUT) out.push(chunk);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    if ((errBytes += chunk.length) <= MAX_OUTPUT) err.push(chunk);
  });
  child.stdin!.on('error', () => {});
  child.stdin!.end(options.input ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('error', (error) => {
      err.push(Buffer.from(`spawn error: ${error.message}\n`));
      resolve([null, null]);
    });
    child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  });
  clearTimeout(timer);
  killGroup(child); // any straggler left in the group
  live.delete(child);
  return {
    command: [command, ...args].join(' '),
    code,
    signal,
    timedOut,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    ms: Date.now() - started,
  };
}

/**
 * The cases a suite script printed, one JSON object per line, by their `case` name
 * (the Python ftplib and Java Commons Net suites report this way).
 */
export function casesByName<T extends { readonly case: string }>(stdout: string): Map<string, T> {
  const cases = new Map<string, T>();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const parsed = JSON.parse(line) as T;
    cases.set(parsed.case, parsed);
  }
  return cases;
}

/** The whole transcript of a run, for assertion messages. */
export function transcript(result: RunResult, max = 12_000): string {
  const clip = (text: string): string => (text.length > max ? `…${text.slice(-max)}` : text);
  return [
    `$ ${result.command}`,
    `exit ${result.code}${result.signal ? ` signal ${result.signal}` : ''}${result.timedOut ? ' (TIMED OUT, killed)' : ''} after ${result.ms} ms`,
    '--- stdout', clip(result.stdout),
    '--- stderr', clip(result.stderr),
  ].join('\n');
}

export class ClientRunError extends Error {
  readonly result: RunResult;
  constructor(message: string, result: RunResult) {
    super(`${message}\n${transcript(result)}`);
    this.result = result;
    this.name = 'ClientRunError';
  }
}

/** Runs and requires exit status 0 (and no timeout). */
export async function runOk(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.timedOut || result.code !== 0) throw new ClientRunError(`${command} failed`, result);
  return result;
}

// ---------------------------------------------------------------- clients

export interface ClientProbe {
  /** Matrix name of the client, e.g. "curl". */
  readonly name: string;
  /** Executable to look for on PATH. */
  readonly executable: string;
  /** How to print a version (first non-empty line is kept). */
  readonly versionArgs: readonly string[];
  /** Debian package, used for the version when the client cannot print one. */
  readonly debianPackage?: string;
  /** A file the client cannot run without (a library jar): absent, the client counts as missing. */
  readonly requiredFile?: string;
}

export interface ClientInfo {
  readonly name: string;
  readonly executable: string;
  readonly path: string | null;
  readonly version: string | null;
}

export function probeClient(probe: ClientProbe): ClientInfo {
  const which = spawnSync('sh', ['-c', `command -v ${probe.executable}`], { encoding: 'utf8' });
  const path = which.status === 0 && (!probe.requiredFile || existsSync(probe.requiredFile)) ? which.stdout.trim() : null;
  if (!path) return { name: probe.name, executable: probe.executable, path: null, version: null };
  const output = spawnSync(path, [...probe.versionArgs], { encoding: 'utf8', timeout: 10_000 });
  let version = `${output.stdout ?? ''}\n${output.stderr ?? ''}`
    .split('\n')
    .map((line) => line.trim())
    .find((line) => /\d+\.\d+/.test(line)) ?? null;
  if (probe.debianPackage) {
    const dpkg = spawnSync('dpkg-query', ['-W', '-f=${Version}', probe.debianPackage], { encoding: 'utf8' });
    if (dpkg.status === 0 && dpkg.stdout.trim()) {
      const debian = `${probe.debianPackage} ${dpkg.stdout.trim()} (Debian)`;
      version = version ? `${version}; ${debian}` : debian;
    }
  }
  return { name: probe.name, executable: probe.executable, path, version };
}

// ---------------------------------------------------------------- the bridge and S3

export const USER: TestUser = DEFAULT_USER;
export const HOME = DEFAULT_USER.home!; // 'partners/alice/'

/** Starts the bridge; with `passivePorts`, uses a wider passive range (retried on a clash). */
export async function startInteropBridge(
  options: { env?: Record<string, string>; passivePorts?: number; users?: readonly TestUser[] } = {},
): Promise<TestBridge> {
  const users = options.users ? { users: options.users } : {};
  if (!options.passivePorts) return await startTestBridge({ env: options.env ?? {}, ...users });
  for (let attempt = 0; ; attempt++) {
    const first = 40000 + Math.floor(Math.random() * 400) * 50;
    try {
      return await startTestBridge({
        env: { ...options.env, FTP_PASSIVE_PORTS: `${first}-${first + options.passivePorts - 1}` },
        ...users,
      });
    } catch (error) {
      if (attempt < 8 && /passive port|EADDRINUSE|address already in use/i.test(String((error as Error).message))) continue;
      throw error;
    }
  }
}

/** The S3 key of an FTP path (absolute, as the user sees it). */
export function keyOf(ftpPath: string): string {
  return HOME + ftpPath.replace(/^\/+/, '');
}

export async function s3Get(env: TestBridge, ftpPath: string): Promise<Buffer | undefined> {
  try {
    const response = await env.s3.client.send(new GetObjectCommand({ Bucket: env.s3.bucket, Key: keyOf(ftpPath) }));
    return Buffer.from(await response.Body!.transformToByteArray());
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
    throw error;
  }
}

export async function s3Put(env: TestBridge, ftpPath: string, body: Buffer | string): Promise<void> {
  await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: keyOf(ftpPath), Body: body }));
}

/** Every key under an FTP folder, relative to it (folder markers end with "/"). */
export async function s3List(env: TestBridge, ftpFolder: string): Promise<Map<string, number>> {
  const prefix = keyOf(ftpFolder.endsWith('/') ? ftpFolder : `${ftpFolder}/`);
  const keys = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await env.s3.client.send(
      new ListObjectsV2Command({ Bucket: env.s3.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) keys.set(item.Key!.slice(prefix.length), item.Size ?? 0);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Requires the object to exist with exactly these bytes. */
export async function assertS3Object(env: TestBridge, ftpPath: string, expected: Buffer): Promise<void> {
  const actual = await s3Get(env, ftpPath);
  if (actual === undefined) throw new Error(`S3: no object ${keyOf(ftpPath)} (expected ${expected.length} bytes)`);
  if (!actual.equals(expected)) {
    throw new Error(
      `S3: object ${keyOf(ftpPath)} differs: ${actual.length} bytes sha256 ${sha256(actual)}, expected ${expected.length} bytes sha256 ${sha256(expected)}`,
    );
  }
}

export async function assertS3Absent(env: TestBridge, ftpPath: string): Promise<void> {
  if ((await s3Get(env, ftpPath)) !== undefined) throw new Error(`S3: object ${keyOf(ftpPath)} should not exist`);
}

// ---------------------------------------------------------------- local files

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes (so a failure is reproducible). */
export function bytes(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export async function tempDir(label: string): Promise<string> {
  return await mkdtemp(join(tmpdir(), `ftp-interop-${label}-`));
}

/** Writes a tree of files: relative path → content. */
export async function writeTree(root: string, files: ReadonlyMap<string, Buffer>): Promise<void> {
  for (const [path, content] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** Every regular file under root: relative path → content. */
export async function readTree(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) files.set(relative(root, full), await readFile(full));
    }
  };
  if ((await stat(root).catch(() => undefined))?.isDirectory()) await walk(root);
  return files;
}

/** Byte-for-byte comparison of two trees; throws naming the first differences. */
export function assertSameTree(actual: ReadonlyMap<string, Buffer>, expected: ReadonlyMap<string, Buffer>, label: string): void {
  const problems: string[] = [];
  for (const [path, content] of expected) {
    const got = actual.get(path);
    if (got === undefined) problems.push(`missing ${JSON.stringify(path)}`);
    else if (!got.equals(content)) problems.push(`differs ${JSON.stringify(path)} (${got.length} vs ${content.length} bytes)`);
  }
  for (const path of actual.keys()) if (!expected.has(path)) problems.push(`unexpected ${JSON.stringify(path)}`);
  if (problems.length > 0) {
    throw new Error(`${label}: ${problems.length} difference(s) out of ${expected.size} files:\n  ${problems.slice(0, 25).join('\n  ')}`);
  }
}

/**
 * The tree the issue asks for: nested folders, 500 small files, names with spaces
 * and UTF-8.
 */
export function sampleTree(count = 500): Map<string, Buffer> {
  const folders = ['', 'alpha', 'alpha/beta', 'alpha/beta/gamma deep', 'with space', 'ünïcödé', 'ünïcödé/日本語', 'mixed name/élan'];
  const names = ['plain', 'with space', 'ünïcödé', 'naïve café', '日本語', 'emoji 🎉'];
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const folder = folders[i % folders.length]!;
    const name = `${names[i % names.length]} ${String(i).padStart(3, '0')}.txt`;
    const content = i % 50 === 0 ? bytes(20_000 + i, i + 7) : Buffer.from(`file ${i} ${name}\n${'x'.repeat(i % 97)}\n`);
    files.set(folder ? `${folder}/${name}` : name, content);
  }
  files.set('alpha/beta/gamma deep/empty.bin', Buffer.alloc(0));
  return files;
}

// ---------------------------------------------------------------- the suite of one client

export interface CaseContext {
  readonly env: TestBridge;
  readonly mode: Mode;
  /** A fresh local scratch folder, removed after the case. */
  readonly work: string;
  /** A remote folder unique to this case, e.g. "/curl-upload-plain" (not created). */
  readonly remote: string;
  log(message: string): void;
}

export interface SuiteOptions {
  readonly probe: ClientProbe;
  /** Extra bridge configuration for this client's file. */
  readonly bridgeEnv?: Record<string, string>;
  /** The bridge's users (default: USER). */
  readonly users?: readonly TestUser[];
  readonly passivePorts?: number;
  /** Other executables this client's cases need (e.g. "ncftpput"). */
  readonly alsoNeeds?: readonly ClientProbe[];
}

let slugCounter = 0;
function slug(text: string): string {
  const base = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
  return `${base}-${++slugCounter}`;
}

export class ClientSuite {
  readonly info: ClientInfo;
  readonly missing: readonly string[];
  readonly results: CaseResult[] = [];
  readonly options: SuiteOptions;
  #env: TestBridge | undefined;

  constructor(options: SuiteOptions) {
    this.options = options;
    this.info = probeClient(options.probe);
    const extra = (options.alsoNeeds ?? []).map(probeClient);
    this.missing = [this.info, ...extra].filter((client) => !client.path).map((client) => client.executable);
    if (this.missing.length > 0) {
      const how = REQUIRE_CLIENTS ? 'its cases FAIL (required in CI)' : 'its cases are skipped';
      console.log(`interop: client ${options.probe.name} is MISSING (${this.missing.join(', ')} not on PATH): ${how}`);
    } else {
      console.log(`interop: ${options.probe.name}: ${this.info.version}`);
    }
    before(async () => {
      if (this.missing.length > 0) return;
      this.#env = await startInteropBridge({
        env: options.bridgeEnv,
        passivePorts: options.passivePorts,
        ...(options.users ? { users: options.users } : {}),
      });
    });
    after(async () => {
      try {
        await this.#env?.stop();
      } finally {
        await this.#writeResultsAndWatch(options);
      }
    });
  }

  /** Records this file's results for the matrix, then makes sure the file ends. */
  async #writeResultsAndWatch(options: SuiteOptions): Promise<void> {
    await mkdir(RESULTS_DIR, { recursive: true });
    const record: ClientResults = {
      runId: RUN_ID,
      client: options.probe.name,
      version: this.info.version,
      writtenAt: new Date().toISOString(),
      cases: this.results,
    };
    await writeFile(join(RESULTS_DIR, `${fileSafe(options.probe.name)}.json`), `${JSON.stringify(record, null, 2)}\n`);
    // The file must end once its tests are done: if the stopped bridge (or anything
    // else) still holds handles after a while, say what they are and fail the file
    // instead of hanging the suite.
    setTimeout(() => {
      console.log(`interop: ${options.probe.name}: process still alive 15 s after the bridge stopped; active resources: ${JSON.stringify(process.getActiveResourcesInfo())}`);
      process.exit(1);
    }, 15_000).unref();
  }

  get env(): TestBridge {
    if (!this.#env) throw new Error('bridge not started');
    return this.#env;
  }

  /** One case: a real client process against the real bridge, recorded in the matrix. */
  case(feature: string, mode: Mode, body: (context: CaseContext) => Promise<void>, options: { timeoutMs?: number } = {}): void {
    const name = `${this.options.probe.name} · ${feature} · ${mode}`;
    const skip = this.missing.length > 0 && !REQUIRE_CLIENTS ? `client missing: ${this.missing.join(', ')} not installed` : false;
    test(name, { skip, timeout: options.timeoutMs ?? 180_000 }, async (t) => {
      const started = Date.now();
      const record = (status: Status, error?: string): void => {
        this.results.push({
          client: this.options.probe.name,
          feature,
          mode,
          status,
          ms: Date.now() - started,
          ...(error ? { error: error.slice(0, 2000) } : {}),
        });
      };
      if (this.missing.length > 0) {
        record('missing');
        throw new Error(`client ${this.options.probe.name} is missing (${this.missing.join(', ')}); CI requires every client`);
      }
      const env = this.env;
      const logStart = env.logs.length;
      const work = await tempDir(slug(this.options.probe.name));
      try {
        await body({ env, mode, work, remote: `/${slug(`${this.options.probe.name} ${feature} ${mode}`)}`, log: (m) => t.diagnostic(m) });
        record('pass');
      } catch (error) {
        record('fail', (error as Error).message);
        const lines = env.logs.slice(logStart).map((line) => JSON.stringify(line));
        console.log(`--- bridge log of failed case "${name}" (${lines.length} lines, last 80):\n${lines.slice(-80).join('\n')}`);
        throw error;
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
    if (skip) this.results.push({ client: this.options.probe.name, feature, mode, status: 'missing', ms: 0 });
  }
}

export function fileSafe(name: string): string {
  return name.replace(/[^a-zA-Z0-9._-]+/g, '_');
}

/** The FTP URL of a path (each segment percent-encoded), with credentials. */
export function ftpUrl(scheme: 'ftp' | 'ftps', port: number, path: string, withCredentials = true): string {
  const encoded = path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
  const auth = withCredentials ? `${USER.username}:${USER.password}@` : '';
  return `${scheme}://${auth}127.0.0.1:${port}${encoded.startsWith('/') ? encoded : `/${encoded}`}`;
}
