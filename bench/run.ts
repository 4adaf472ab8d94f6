/**
 * `npm run bench`: throughput and memory of the bridge, side by side with the same
 * work done directly against S3, in one run. The bridge runs as its own process
 * (the built entry point, as in the container) so its memory is measured alone;
 * the S3-compatible server (fauxqs) and the clients (curl, the AWS SDK) run here.
 *
 * Prints a table and writes bench/results/bench.json. The figures that matter:
 * the bridge's peak RSS must stay flat as files grow (bounded part buffers), and
 * its throughput should be close to direct S3 access on the same machine ("direct
 * S3" is the bridge's own S3ObjectStore called in this process, so the difference
 * is what FTP, the data connection and TLS cost).
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { hashPassword } from '../runtime/src/auth/password-hash.ts';
import { S3ObjectStore } from '../runtime/src/storage/s3-object-store.ts';
import { startTestS3 } from '../test/helpers/s3-server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MIB = 1024 * 1024;
const SIZES_MIB = (process.env.BENCH_SIZES_MIB ?? '16,128,512').split(',').map(Number);
const LIST_OBJECTS = Number(process.env.BENCH_LIST_OBJECTS ?? 20_000);

interface Row {
  readonly scenario: string;
  readonly path: 'bridge' | 'direct S3';
  readonly mib: number;
  readonly seconds: number;
  readonly mibPerSecond: number;
  /** Peak resident memory of the bridge process during the scenario (bridge rows only). */
  readonly bridgePeakRssMib?: number;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-bench-'));
  const s3 = await startTestS3('bench');
  const rows: Row[] = [];
  let bridge: RunningBridgeProcess | undefined;
  try {
    await writeFile(
      join(work, 'users.json'),
      JSON.stringify({ users: [{ username: 'bench', passwordHash: await hashPassword('bench'), home: 'bench/' }] }),
    );
    bridge = await startBridgeProcess(work, s3.endpoint, s3.bucket);
    // The baseline: the bridge's own uploader in this process, without FTP in between.
    const direct = new S3ObjectStore({ client: s3.client, bucket: s3.bucket, prefix: '' });
    const url = `ftp://bench:bench@127.0.0.1:${bridge.port}`;

    for (const mib of SIZES_MIB) {
      const file = join(work, `payload-${mib}.bin`);
      await pipeline(randomStream(mib * MIB), createWriteStream(file));

      rows.push(await measure(`upload ${mib} MiB`, 'direct S3', mib, () => direct.write(`direct/${mib}.bin`, createReadStream(file))));
      rows.push(await measure(`upload ${mib} MiB`, 'bridge', mib, () => curl(['-T', file, `${url}/${mib}.bin`]), bridge));
      rows.push(await measure(`upload ${mib} MiB (TLS)`, 'bridge', mib, () => curl(['--ssl-reqd', '-k', '-T', file, `${url}/tls-${mib}.bin`]), bridge));

      rows.push(await measure(`download ${mib} MiB`, 'direct S3', mib, async () => {
        const result = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `direct/${mib}.bin` }));
        for await (const chunk of result.Body as Readable) void chunk;
      }));
      rows.push(await measure(`download ${mib} MiB`, 'bridge', mib, () => curl(['-o', '/dev/null', `${url}/${mib}.bin`]), bridge));
      await rm(file);
    }

    for (let index = 0; index < LIST_OBJECTS; index += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, LIST_OBJECTS - index) }, (_, offset) =>
          s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `bench/many/f${index + offset}.txt`, Body: Buffer.alloc(0) })),
        ),
      );
    }
    const listing = join(work, 'listing.txt');
    rows.push(await measure(`LIST ${LIST_OBJECTS} objects`, 'bridge', 0, () => curl(['-o', listing, `${url}/many/`]), bridge));
    const lines = (await readFile(listing, 'utf8')).split(/\r?\n/).filter(Boolean).length;
    if (lines !== LIST_OBJECTS) throw new Error(`listing returned ${lines} lines, expected ${LIST_OBJECTS}`);
  } finally {
    await bridge?.stop();
    await s3.stop();
    await rm(work, { recursive: true, force: true });
  }
  report(rows);
}

interface RunningBridgeProcess {
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

async function startBridgeProcess(work: string, endpoint: string, bucket: string): Promise<RunningBridgeProcess> {
  const { makeCertificate } = await import('../test/helpers/tls-fixture.ts');
  const certificate = await makeCertificate();
  await writeFile(join(work, 'cert.pem'), certificate.cert);
  await writeFile(join(work, 'key.pem'), certificate.key);
  const port = 20000 + Math.floor(Math.random() * 10000);
  const child = spawn(process.execPath, [join(ROOT, 'runtime', 'dist', 'main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      FTP_LISTEN_ADDRESS: '127.0.0.1',
      FTP_PORT: String(port),
      FTPS_IMPLICIT_PORT: '0',
      FTP_PASSIVE_PORTS: `${port + 1}-${port + 10}`,
      HEALTH_PORT: '0',
      FTP_USERS_FILE: join(work, 'users.json'),
      FTP_TLS_CERT_FILE: join(work, 'cert.pem'),
      FTP_TLS_KEY_FILE: join(work, 'key.pem'),
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_CHECKSUM: 'when_required',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await curl([`ftp://bench:bench@127.0.0.1:${port}/`]).then(() => true, () => false))) break;
    await delay(100);
  }
  return {
    port,
    child,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

async function measure(
  scenario: string,
  path: Row['path'],
  mib: number,
  work: () => Promise<unknown>,
  bridge?: RunningBridgeProcess,
): Promise<Row> {
  let peak = 0;
  const sampler = bridge
    ? setInterval(() => void rssMib(bridge.child.pid!).then((rss) => (peak = Math.max(peak, rss))), 20)
    : undefined;
  const started = process.hrtime.bigint();
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (bridge) peak = Math.max(peak, await rssMib(bridge.child.pid!));
  const row: Row = {
    scenario,
    path,
    mib,
    seconds: round(seconds),
    mibPerSecond: mib > 0 ? round(mib / seconds) : 0,
    ...(bridge ? { bridgePeakRssMib: round(peak) } : {}),
  };
  process.stderr.write(`${JSON.stringify(row)}\n`);
  return row;
}

async function rssMib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kib ? Number(kib) / 1024 : 0;
}

async function curl(args: string[]): Promise<void> {
  const child = spawn('curl', ['-sS', '--fail', '--max-time', '600', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`curl ${args.join(' ')} failed (${code}): ${stderr}`);
}

/** Incompressible bytes without generating them all up front. */
function randomStream(bytes: number): Readable {
  const block = Buffer.alloc(MIB);
  for (let index = 0; index < block.length; index += 4) block.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, index);
  let remaining = bytes;
  return new Readable({
    read() {
      if (remaining <= 0) {
        this.push(null);
        return;
      }
      const chunk = Buffer.from(block.subarray(0, Math.min(block.length, remaining)));
      chunk.writeUInt32LE(remaining >>> 0, 0);
      remaining -= chunk.length;
      this.push(chunk);
    },
  });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function report(rows: readonly Row[]): void {
  const header = ['scenario', 'path', 'seconds', 'MiB/s', 'bridge peak RSS (MiB)'];
  const table = rows.map((row) => [
    row.scenario,
    row.path,
    row.seconds.toFixed(2),
    row.mib > 0 ? row.mibPerSecond.toFixed(1) : '-',
    row.bridgePeakRssMib === undefined ? '-' : row.bridgePeakRssMib.toFixed(0),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...table.map((cells) => cells[column]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  process.stdout.write(`${[line(header), line(widths.map((width) => '-'.repeat(width))), ...table.map(line)].join('\n')}\n`);
  const results = join(ROOT, 'bench', 'results');
  void mkdir(results, { recursive: true }).then(() =>
    writeFile(join(results, 'bench.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`),
  );
}

await main();
