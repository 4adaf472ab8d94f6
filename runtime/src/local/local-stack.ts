/**
 * `npm start`: builds runtime/dist, then runs the bridge and an embedded
 * S3-compatible server (fauxqs, a dev dependency) and an embedded DynamoDB for the
 * shared state (dynalite, a dev dependency), all on 127.0.0.1, with a demo user
 * and a self-signed certificate made on first start, under `.local/` at the
 * repository root. The bridge is a child process running the same
 * `runtime/dist/main.js` the container runs; this file runs from source (Node strips
 * the types), so it can build first.
 *
 * Lifetimes: the bridge runs in a process group of its own, so a Ctrl-C reaches it
 * once, through this process; it watches an IPC channel to this process and stops when
 * that closes; this process stops when its parent (npm) goes away. fauxqs and dynalite
 * run in this process and end with it.
 *
 * A development tool: the production build (runtime/tsconfig.json) leaves local/ out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FauxqsServer } from 'fauxqs';
import { generate } from 'selfsigned';
import { hashPassword } from '../auth/password-hash.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { readContainerMemoryLimit } from '../container-memory-limit.ts';
import { describeListenFailure } from '../start-failure.ts';
import {
  bridgeEnvironment,
  fixedVariables,
  LOCAL_BUCKET,
  LOCAL_STATE_TABLE,
  LocalStackSettingError,
  localDefaults,
  localStackPlace,
  type LocalStackPlace,
} from './bridge-environment.ts';
import { startLoopbackDynalite } from './loopback-dynalite.ts';
import { startLoopbackFauxqs } from './loopback-fauxqs.ts';
import { removeUnrecordedUploads } from './unrecorded-uploads.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const DEMO = { username: 'demo', password: 'demo', home: 'partners/demo/' };
/** How often the build reports that it is still running, and this process checks its parent. */
const BUILD_PROGRESS_MS = 5000;
const PARENT_CHECK_MS = 500;
/** Signals this soon after the one forwarded are that one again (npm passes each on). */
const SAME_CTRL_C_MS = 1000;

/** Built from the tables in bridge-environment.ts, so it cannot drift from them. */
function usage(): string {
  const place = { dir: '.local', s3Port: 4566, dynamoPort: 0 };
  const fixed = Object.keys(fixedVariables(place));
  const defaults = Object.entries(localDefaults(place)).map(([name, value]) => `  ${name.padEnd(28)}${value}`);
  return `Usage: npm start [-- --no-build]

Builds runtime/dist (unless --no-build), then runs the bridge, an embedded S3 server and an
embedded DynamoDB (the shared state of partner limits), everything on 127.0.0.1. Every configuration variable of the bridge
(npx node runtime/dist/main.js --help) passes through, except these, which the local
stack sets itself:
  ${fixed.join(' ')}
Its own defaults, which the environment may change:
${defaults.join('\n')}

  LOCAL_STACK_DIR             folder for users, certificate and the S3 store (default .local)
  LOCAL_STACK_S3_PORT         port of the embedded S3 server (default 4566; 0 = any free port)

Ctrl-C stops gracefully; a second Ctrl-C (a second or more later) aborts running transfers.
`;
}

/** The one line a person sees when the stack cannot start; no stack trace. */
class LocalStackFailure extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

async function main(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage());
    return 0;
  }
  const unknown = args.filter((arg) => arg !== '--no-build');
  if (unknown.length > 0) throw new LocalStackFailure(`unknown argument ${JSON.stringify(unknown[0])}\n${usage()}`, 2);

  const place = readPlace();
  // Before the build, so a bad value costs no waiting: the bridge's own rules and words.
  validate(place);
  if (!args.includes('--no-build')) await build();
  await prepareFiles(place);

  const s3 = await startS3(place);
  s3.createBucket(LOCAL_BUCKET);
  // The shared state (partner limits, lockouts) in an embedded DynamoDB, as S3 is in fauxqs.
  const dynamo = await startLoopbackDynalite();
  const { env, overridden } = bridgeEnvironment(process.env, { ...place, s3Port: s3.port, dynamoPort: dynamo.port });
  const unrecorded = await removeUnrecordedUploads({
    multipartDir: join(place.dir, 's3', '_multipart'),
    journalFile: env['FTP_PENDING_UPLOADS_FILE'] ?? '',
    endpoint: `http://127.0.0.1:${s3.port}`,
  });
  if (unrecorded > 0) say(`removed ${unrecorded} multipart upload(s) in ${join(place.dir, 's3', '_multipart')} that no pending upload records`);
  if (overridden.length > 0) {
    say(`the local stack sets ${overridden.join(', ')} itself; the values in your environment are not used`);
  }
  const bridge = spawn(process.execPath, [join(ROOT, 'runtime', 'dist', 'main.js')], {
    // Its own process group: a terminal's Ctrl-C reaches it only as this process forwards it.
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env,
  });
  bridge.on('message', (message: ListeningMessage) => {
    if (message.event === 'listening') process.stderr.write(banner({ env, place, s3Port: s3.port, dynamoPort: dynamo.port, ports: message }));
  });
  const exitCode = await superviseBridge(bridge, Number(env['FTP_SHUTDOWN_GRACE_SECONDS']));
  await dynamo.stop();
  await s3.stop();
  return exitCode;
}

function readPlace(): LocalStackPlace {
  try {
    const place = localStackPlace(process.env, join(ROOT, '.local'));
    return { ...place, dir: resolve(place.dir) };
  } catch (error) {
    if (error instanceof LocalStackSettingError) throw new LocalStackFailure(error.message, 2);
    throw error;
  }
}

function validate(place: LocalStackPlace): void {
  try {
    loadConfig(bridgeEnvironment(process.env, place).env, { memoryLimitBytes: readContainerMemoryLimit() });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Exactly the line the bridge would print.
    process.stderr.write(`ftp-s3-bridge: ${error.message}\n`);
    throw new LocalStackFailure('', 2);
  }
}

/** tsc over runtime/, saying what it does while it runs (10-20 s on a small machine). */
async function build(): Promise<void> {
  const started = Date.now();
  say('building runtime/dist (tsc) …');
  const tsc = spawn(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'runtime', 'tsconfig.json')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  tsc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  tsc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const progress = setInterval(() => say(`  still building (${seconds(started)})`), BUILD_PROGRESS_MS);
  const code = await new Promise<number | null>((resolve) => {
    tsc.once('error', () => resolve(null));
    tsc.once('close', resolve);
  });
  clearInterval(progress);
  if (code !== 0) {
    process.stderr.write(output);
    throw new LocalStackFailure('the build failed (tsc output above)');
  }
  say(`built in ${seconds(started)}`);
}

async function prepareFiles(place: LocalStackPlace): Promise<void> {
  await mkdir(join(place.dir, 's3'), { recursive: true });
  const defaults = localDefaults(place);
  const usersFile = defaults['FTP_USERS_FILE']!;
  const certFile = defaults['FTP_TLS_CERT_FILE']!;
  const keyFile = defaults['FTP_TLS_KEY_FILE']!;
  if (!existsSync(usersFile)) {
    const passwordHash = await hashPassword(DEMO.password);
    const users = { users: [{ username: DEMO.username, passwordHash, home: DEMO.home }] };
    await writeFile(usersFile, `${JSON.stringify(users, null, 2)}\n`);
  }
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    await mkdir(join(place.dir, 'tls'), { recursive: true });
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      curve: 'P-256',
      notAfterDate: new Date(Date.now() + 825 * 24 * 3600 * 1000),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    });
    await writeFile(certFile, pems.cert);
    await writeFile(keyFile, pems.private, { mode: 0o600 });
  }
}

async function startS3(place: LocalStackPlace): Promise<FauxqsServer> {
  try {
    return await startLoopbackFauxqs({ port: place.s3Port, logger: false, s3StorageDir: join(place.dir, 's3') });
  } catch (error) {
    const owner = { variable: 'LOCAL_STACK_S3_PORT', purpose: 'the embedded S3 server' };
    const problem = describeListenFailure(error, () => owner, '127.0.0.1');
    if (problem !== undefined) throw new LocalStackFailure(problem.message);
    throw error;
  }
}

/**
 * Forwards signals to the bridge (the first stops it gracefully, the second aborts
 * its transfers), stops it when this process's parent goes away, and resolves with
 * its exit status.
 */
async function superviseBridge(bridge: ChildProcess, graceSeconds: number): Promise<number> {
  let forwarded = 0;
  let lastForwardedAt = -Infinity;
  const forward = (signal: NodeJS.Signals): void => {
    if (bridge.exitCode !== null || bridge.signalCode !== null || forwarded >= 2) return;
    // One Ctrl-C reaches this process twice under npm start: from the terminal, and again
    // from npm, which passes on what it gets to the script it runs.
    if (Date.now() - lastForwardedAt < SAME_CTRL_C_MS) return;
    lastForwardedAt = Date.now();
    forwarded += 1;
    if (forwarded === 1) {
      say(`stopping: running transfers may finish for up to ${graceSeconds} s; Ctrl-C again aborts them`);
    } else {
      say('aborting running transfers');
    }
    bridge.kill(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, forward);
  // npm killed (or its terminal closed): no signal comes, but the parent changes.
  const parent = process.ppid;
  const parentCheck = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(parentCheck);
    if (forwarded > 0) return;
    say('the process that started the local stack (npm) is gone');
    forward('SIGTERM');
  }, PARENT_CHECK_MS);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    bridge.once('error', () => resolve([1, null]));
    bridge.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  });
  clearInterval(parentCheck);
  for (const name of signals) process.off(name, forward);
  if (signal !== null) say(`the bridge ended by ${signal}`);
  return code ?? 1;
}

/** What the bridge sends over IPC once it listens (cli/serve-command.ts). */
interface ListeningMessage {
  readonly event?: string;
  readonly controlPort?: number;
  readonly implicitTlsPort?: number;
  readonly healthPort?: number;
  readonly passivePorts?: readonly [number, number];
}

/** How to connect, with the ports the bridge really listens on. */
function banner(options: {
  readonly env: Readonly<Record<string, string>>;
  readonly place: LocalStackPlace;
  readonly s3Port: number;
  readonly dynamoPort: number;
  readonly ports: ListeningMessage;
}): string {
  const { env, place, s3Port, dynamoPort, ports } = options;
  const show = (path: string): string => {
    const fromHere = relative(process.cwd(), path);
    return fromHere.startsWith('..') ? path : fromHere;
  };
  const usersFile = env['FTP_USERS_FILE']!;
  const demo = usersFile === localDefaults(place)['FTP_USERS_FILE'];
  const login = demo ? `${DEMO.username}:${DEMO.password}@` : '';
  const ftp = `ftp://${login}127.0.0.1:${ports.controlPort}/`;
  const store = join(place.dir, 's3');
  const objects = join(store, 'buckets', LOCAL_BUCKET, 'objects');
  const rows: Array<[string, string]> = [
    ['FTP (explicit FTPS optional)', ftp],
    ...(ports.implicitTlsPort ? [['implicit FTPS', `ftps://${login}127.0.0.1:${ports.implicitTlsPort}/   (self-signed certificate)`] as [string, string]] : []),
    ['passive ports', `${ports.passivePorts?.[0]}-${ports.passivePorts?.[1]}`],
    [
      'users',
      demo
        ? `${DEMO.username} / ${DEMO.password}, home ${DEMO.home}   (more: npx node runtime/dist/main.js users add NAME --home PREFIX --file ${show(usersFile)}; docs/partners.md)`
        : show(usersFile),
    ],
    ['embedded S3', `http://127.0.0.1:${s3Port}  bucket "${LOCAL_BUCKET}"`],
    ['embedded DynamoDB', `http://127.0.0.1:${dynamoPort}  table "${LOCAL_STATE_TABLE}" (partner limits, lockouts; in memory)`],
    ['files land in', `${show(objects)}/  (NAME.data and NAME.meta.json; unfinished uploads in ${show(join(store, '_multipart'))}/)`],
    ...(ports.healthPort ? [['health check', `http://127.0.0.1:${ports.healthPort}/health`] as [string, string]] : []),
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return `
ftp-s3-bridge local stack
${rows.map(([label, value]) => `  ${label.padEnd(width)}${value}`).join('\n')}

  try:  curl -T README.md ${ftp}
        curl ${ftp}
        curl --ssl-reqd -k ${ftp}README.md
  Ctrl-C stops everything.

`;
}

function say(line: string): void {
  process.stderr.write(`local stack: ${line}\n`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof LocalStackFailure) {
      if (error.message !== '') say(error.message);
      process.exit(error.exitCode);
    }
    process.stderr.write(`local stack: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
