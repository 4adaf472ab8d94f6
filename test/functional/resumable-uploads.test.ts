import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startTestBridge, type TestBridge, type TestUser } from '../support/bridge.ts';
import { startDynalite } from '../support/dynalite.ts';
import { DynamoState } from '../../runtime/src/state/dynamo-state.ts';
import { CHILD_USER, startChildBridge, type ChildBridge } from '../support/child-bridge.ts';
import { pendingMultipartUploads, startTestS3, storedBody, type TestS3 } from '../support/s3-server.ts';
import { listOver, RawFtp, uploadOver, writeAll } from '../support/raw-ftp.ts';
import { waitUntil } from '../support/wait-until.ts';

/** Four 5 MiB parts and a bit: the test bridges' parts are 5 MiB. */
const SOURCE_BYTES = 21 * 1024 * 1024 + 12_345;
const MIB = 1024 * 1024;

interface Source {
  readonly path: string;
  readonly bytes: Buffer;
  readonly sha256: string;
}

async function makeSource(t: { after(fn: () => Promise<void>): void }): Promise<Source> {
  const dir = await mkdtemp(join(tmpdir(), 'resume-source-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bytes = randomBytes(SOURCE_BYTES);
  const path = join(dir, 'source.bin');
  await writeFile(path, bytes);
  return { path, bytes, sha256: sha256(bytes) };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A bridge the test reaches: in this process or a child, with the user and home it serves. */
interface Target {
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly home: string;
  readonly s3: TestS3;
  logs(): Array<Record<string, unknown>>;
}

function inProcess(env: TestBridge): Target {
  return { port: env.port, username: 'alice', password: 'wonderland', home: 'partners/alice/', s3: env.s3, logs: () => env.logs };
}

function child(bridge: ChildBridge, s3: TestS3): Target {
  return { port: bridge.port, username: CHILD_USER.username, password: CHILD_USER.password, home: CHILD_USER.home!, s3, logs: () => bridge.logs() };
}

function url(target: Target, name: string): string {
  return `ftp://${target.username}:${target.password}@127.0.0.1:${target.port}/${name}`;
}

const TLS_OPTIONS = ['--ssl-reqd', '--insecure'];

async function run(command: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const process = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  process.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  process.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(process, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

async function sizeOf(target: Target, name: string): Promise<number | undefined> {
  const ftp = await RawFtp.login(target.port, target.username, target.password);
  try {
    const reply = await ftp.command(`SIZE ${name}`);
    return reply.code === 213 ? Number(reply.text.trim()) : undefined;
  } finally {
    await ftp.close();
  }
}

/**
 * A curl upload of `source`, killed (SIGKILL) once the bridge holds two parts of it
 * (SIZE shows an upload's durable length while it runs); resolves with the length
 * the kept upload continues from.
 */
async function interruptedUpload(target: Target, source: Source, name: string, tls: boolean): Promise<number> {
  const before = target.logs().length;
  const curl = spawn('curl', ['-sS', '--limit-rate', '4M', ...(tls ? TLS_OPTIONS : []), '-T', source.path, url(target, name)], { stdio: 'ignore' });
  const exited = once(curl, 'exit');
  try {
    await waitUntil('two parts stored', async () => ((await sizeOf(target, name)) ?? 0) >= 10 * MIB, { intervalMs: 50 });
  } finally {
    curl.kill('SIGKILL');
    await exited;
  }
  let durable = 0;
  await waitUntil('the upload kept', () => {
    const kept = target.logs().slice(before).find((line) => line['event'] === 'upload-kept');
    durable = Number(kept?.['durableBytes'] ?? 0);
    return kept !== undefined;
  });
  assert.ok(durable >= 10 * MIB && durable < SOURCE_BYTES, `durable ${durable}`);
  assert.equal(await sizeOf(target, name), durable, 'SIZE shows the durable length');
  await assertNoObject(target, name);
  return durable;
}

async function assertNoObject(target: Target, name: string): Promise<void> {
  const listed = await target.s3.client.send(new ListObjectsV2Command({ Bucket: target.s3.bucket, Prefix: target.home }));
  assert.deepEqual((listed.Contents ?? []).map((object) => object.Key).filter((key) => key === `${target.home}${name}`), [], 'nothing in S3 before the file is whole');
}

async function assertStored(target: Target, name: string, source: Source): Promise<void> {
  const stored = await storedBody(target.s3, `${target.home}${name}`);
  assert.ok(stored !== undefined, 'the object exists');
  assert.equal(stored.length, source.bytes.length);
  assert.equal(sha256(stored), source.sha256, 'the whole file, every byte in place');
  assert.deepEqual(await pendingMultipartUploads(target.s3), [], 'no multipart upload left');
}

/** curl -C -: SIZE, then the rest only; returns the bytes it sent. */
async function curlContinue(target: Target, source: Source, name: string, tls: boolean): Promise<number> {
  const result = await run('curl', ['-sS', '-C', '-', ...(tls ? TLS_OPTIONS : []), '-T', source.path, '-w', '%{size_upload}', url(target, name)]);
  assert.equal(result.code, 0, result.stderr);
  return Number(result.stdout.trim());
}

describe('resumable uploads', () => {
  for (const tls of [false, true]) {
    test(`${tls ? 'PROT P' : 'plain FTP'}: a killed curl upload continues with curl -C -, sending only the rest`, async (t) => {
      const env = await startTestBridge();
      t.after(() => env.stop());
      const target = inProcess(env);
      const source = await makeSource(t);
      const durable = await interruptedUpload(target, source, 'big.bin', tls);
      const sent = await curlContinue(target, source, 'big.bin', tls);
      assert.equal(sent, SOURCE_BYTES - durable, 'only the bytes after the durable length');
      await assertStored(target, 'big.bin', source);
      assert.ok(env.logs.some((line) => line['event'] === 'upload-resumed' && line['durableBytes'] === durable));
    });
  }

  test('the same after the bridge is killed and restarted on the same store', async (t) => {
    const s3 = await startTestS3();
    t.after(() => s3.stop());
    const dir = await mkdtemp(join(tmpdir(), 'resume-restart-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const env: Record<string, string> = s3.external ? {} : { FTP_PENDING_UPLOADS_FILE: join(dir, 'pending-uploads.json') };
    const source = await makeSource(t);
    for (const tls of [false, true]) {
      const name = tls ? 'restart-tls.bin' : 'restart.bin';
      const first = await startChildBridge({ s3, dir, env, tls });
      let durable: number;
      try {
        durable = await interruptedUpload(child(first, s3), source, name, tls);
      } finally {
        first.kill();
        await once(first.process, 'exit').catch(() => undefined);
      }
      const second = await startChildBridge({ s3, dir, env, tls });
      t.after(() => second.kill());
      const target = child(second, s3);
      assert.equal(await sizeOf(target, name), durable, 'a new process sees the pending upload');
      assert.equal(await curlContinue(target, source, name, tls), SOURCE_BYTES - durable);
      await assertStored(target, name, source);
      second.kill();
    }
  });

  test('lftp put -c and ftplib REST + STOR continue it too', async (t) => {
    const env = await startTestBridge();
    t.after(() => env.stop());
    const target = inProcess(env);
    const source = await makeSource(t);

    let durable = await interruptedUpload(target, source, 'by-lftp.bin', false);
    const lftp = await run('lftp', [
      '-c',
      `set ftp:ssl-allow no; set net:max-retries 1; open -u alice,wonderland -p ${env.port} 127.0.0.1; put -c ${source.path} -o by-lftp.bin`,
    ]);
    assert.equal(lftp.code, 0, lftp.stderr);
    await assertStored(target, 'by-lftp.bin', source);
    assert.equal(lastStore(env)['bytes'], SOURCE_BYTES - durable, 'lftp sent only the rest');

    durable = await interruptedUpload(target, source, 'by-ftplib.bin', false);
    const script = [
      'import ftplib, sys',
      `ftp = ftplib.FTP(); ftp.connect('127.0.0.1', ${env.port}); ftp.login('alice', 'wonderland')`,
      "ftp.voidcmd('TYPE I'); size = ftp.size('by-ftplib.bin')",
      `f = open(${JSON.stringify(source.path)}, 'rb'); f.seek(size)`,
      "ftp.storbinary('STOR by-ftplib.bin', f, rest=size); print(size); ftp.quit()",
    ].join('\n');
    const ftplib = await run('python3', ['-c', script]);
    assert.equal(ftplib.code, 0, ftplib.stderr);
    assert.equal(Number(ftplib.stdout.trim()), durable);
    await assertStored(target, 'by-ftplib.bin', source);
  });

  test('RETR says an upload is in progress, other offsets are refused naming the one that works, DELE discards', async (t) => {
    const env = await startTestBridge();
    t.after(() => env.stop());
    const target = inProcess(env);
    const source = await makeSource(t);
    const durable = await interruptedUpload(target, source, 'pending.bin', false);
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    t.after(() => ftp.close());
    assert.match((await ftp.command('RETR pending.bin', 550)).text, /upload of this file is in progress/);
    assert.match((await ftp.command('MLST pending.bin', 250)).lines.join('\n'), new RegExp(`size=${durable};`));
    const mlsd = await listOver(ftp, 'MLSD', false);
    assert.match(mlsd, new RegExp(`size=${durable};[^\\r\\n]* pending\\.bin`), 'MLSD shows it');
    const list = await listOver(ftp, 'LIST', false);
    assert.match(list, new RegExp(` ${durable} [^\\r\\n]*pending\\.bin`), 'LIST shows it');
    await ftp.command('REST 1000', 350);
    const refused = await ftp.command('STOR pending.bin');
    assert.equal(refused.code, 554);
    assert.match(refused.text, new RegExp(`REST ${durable}`));
    await ftp.command('DELE pending.bin', 250);
    assert.equal(await sizeOf(target, 'pending.bin'), undefined);
    await waitUntil('the multipart upload aborted', async () => (await pendingMultipartUploads(env.s3)).length === 0);
  });

  test('a STOR without REST replaces a pending upload', async (t) => {
    const env = await startTestBridge();
    t.after(() => env.stop());
    const target = inProcess(env);
    const source = await makeSource(t);
    await interruptedUpload(target, source, 'again.bin', false);
    const result = await run('curl', ['-sS', '-T', source.path, '-w', '%{size_upload}', url(target, 'again.bin')]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(Number(result.stdout.trim()), SOURCE_BYTES, 'every byte sent again');
    await assertStored(target, 'again.bin', source);
    assert.ok(env.logs.some((line) => line['event'] === 'upload-replaced'));
  });

  test('an expired pending upload is discarded', async (t) => {
    // 0.003 h: 10.8 s.
    const env = await startTestBridge({ env: { FTP_PENDING_UPLOAD_HOURS: '0.003' } });
    t.after(() => env.stop());
    const target = inProcess(env);
    const source = await makeSource(t);
    await interruptedUpload(target, source, 'old.bin', false);
    await waitUntil('the upload expired', async () => (await sizeOf(target, 'old.bin')) === undefined, { timeoutMs: 20_000, intervalMs: 500 });
    assert.ok(env.logs.some((line) => line['event'] === 'upload-expired'));
    assert.deepEqual(await pendingMultipartUploads(env.s3), []);
    await assertNoObject(target, 'old.bin');
  });
});

describe('pending uploads and the partner limits', () => {
  test('quotaBytes counts pending bytes: AVBL shows less, a file that does not fit gets 552, DELE and completion move them', async (t) => {
    // Room for the cut upload (killed at 10 MiB durable) and less than a part more.
    const QUOTA = 14 * MIB;
    const BIG_QUOTA = 24 * MIB;
    const users: TestUser[] = [
      { username: 'acme', password: 'pw', home: 'partners/acme/', limits: { quotaBytes: QUOTA } },
      { username: 'bigco', password: 'pw', home: 'partners/bigco/', limits: { quotaBytes: BIG_QUOTA } },
    ];
    const env = await startTestBridge({ users });
    t.after(() => env.stop());
    const partner = (user: TestUser): Target => ({ port: env.port, username: user.username, password: user.password, home: user.home!, s3: env.s3, logs: () => env.logs });
    const [acme, bigco] = [partner(users[0]!), partner(users[1]!)];
    const source = await makeSource(t);
    const ftp = await RawFtp.login(env.port, 'acme', 'pw');
    t.after(() => ftp.close());
    const avbl = async (session: RawFtp): Promise<number> => Number((await session.command('AVBL', 213)).text);
    assert.equal(await avbl(ftp), QUOTA);

    // A cut upload keeps its whole parts: they count until the upload ends.
    const durable = await interruptedUpload(acme, source, 'big.bin', false);
    await waitUntil('the pending bytes counted', async () => (await avbl(ftp)) === QUOTA - durable);
    // A file one byte larger than the room left (less than a part: nothing of it can be kept).
    const room = QUOTA - durable;
    assert.ok(room > 0 && room < 5 * MIB, `room ${room}`);
    const data = await ftp.passive();
    data.on('error', () => undefined);
    await ftp.command('TYPE I', 200);
    await ftp.command('STOR other.bin', 150);
    await writeAll(data, Buffer.alloc(room + 1, 7)).catch(() => undefined);
    const refused = await ftp.read();
    assert.equal(refused.code, 552, refused.text);
    assert.equal(await storedBody(env.s3, 'partners/acme/other.bin'), undefined);
    // DELE discards the pending upload and gives its room back.
    assert.equal((await ftp.command('DELE big.bin', 250)).text, 'Pending upload discarded.');
    assert.equal(await avbl(ftp), QUOTA);
    await uploadOver(ftp, 'STOR other.bin', Buffer.alloc(room + 1, 7), false);
    assert.equal(await avbl(ftp), QUOTA - room - 1);

    // A continued upload that completes moves its pending bytes to the file (counted once).
    const big = await RawFtp.login(env.port, 'bigco', 'pw');
    t.after(() => big.close());
    const kept = await interruptedUpload(bigco, source, 'big.bin', false);
    await waitUntil('the pending bytes counted', async () => (await avbl(big)) === BIG_QUOTA - kept);
    assert.equal(await curlContinue(bigco, source, 'big.bin', false), SOURCE_BYTES - kept);
    await assertStored(bigco, 'big.bin', source);
    assert.equal(await avbl(big), BIG_QUOTA - SOURCE_BYTES);
  });

  test('two bridges on one state table: a second session continuing the same pending upload gets 450, on any shard; a dead task\'s lease lapses', async (t) => {
    const dynamo = await startDynalite();
    const s3 = await startTestS3();
    const dir = await mkdtemp(join(tmpdir(), 'resume-shards-'));
    t.after(async () => {
      await s3.stop();
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    });
    // fauxqs cannot list multipart uploads: both bridges read one journal (the second,
    // started once the upload is kept, loads it then). On RGW, S3 itself says.
    const env = { FTP_STATE_TABLE: 'ftp-state', DYNAMODB_ENDPOINT: dynamo.endpoint, ...(s3.external ? {} : { FTP_PENDING_UPLOADS_FILE: join(dir, 'pending-uploads.json') }) };
    const one = await startTestBridge({ s3, dynamoClient: dynamo.client, env });
    t.after(() => one.stop());
    const source = await makeSource(t);
    const durable = await interruptedUpload(inProcess(one), source, 'shared.bin', false);
    const two = await startTestBridge({ s3, dynamoClient: dynamo.client, env });
    t.after(() => two.stop());
    const ftp = await RawFtp.login(two.port, 'alice', 'wonderland');
    t.after(() => ftp.close());
    const tryContinue = async (): Promise<{ code: number; text: string }> => {
      await ftp.command(`REST ${durable}`, 350);
      (await ftp.passive()).on('error', () => undefined);
      return await ftp.command('STOR shared.bin');
    };
    await ftp.command('TYPE I', 200);

    // A dead task's lease, as it left it (never renewed, and dynalite deletes nothing by
    // TTL): the upload is busy until the lease's own expiry, then free.
    const state = new DynamoState({ client: dynamo.client, table: 'ftp-state' });
    // Far enough ahead for REST, EPSV and STOR on a loaded machine.
    const lapsesAt = Date.now() + 5000;
    await state.modify('upload#partners/alice/shared.bin', () => ({ result: undefined, write: { value: { leases: { 'dead.1': lapsesAt } }, expiresAt: lapsesAt } }));
    assert.equal((await tryContinue()).code, 450, 'held by the dead task');
    await new Promise((resolve) => setTimeout(resolve, lapsesAt + 100 - Date.now()));

    // Shard one continues it, slowly.
    const before = one.logs.length;
    const curl = spawn('curl', ['-sS', '-C', '-', '--limit-rate', '2M', '-T', source.path, url(inProcess(one), 'shared.bin')], { stdio: 'ignore' });
    const exited = once(curl, 'exit') as Promise<[number | null]>;
    await waitUntil('the continuation started', () => one.logs.slice(before).some((line) => line['event'] === 'upload-resumed'));

    // Shard two: the same pending upload, at the same offset, is busy.
    assert.equal(Number((await ftp.command('SIZE shared.bin', 213)).text), durable);
    const busy = await tryContinue();
    assert.equal(busy.code, 450, busy.text);
    assert.match(busy.text, /Another session is continuing this upload/);
    assert.ok(two.logs.some((line) => line['event'] === 'upload-busy' && line['scope'] === 'shared'));

    const [code] = await exited;
    assert.equal(code, 0);
    await assertStored(inProcess(one), 'shared.bin', source);
  });
});

function lastStore(env: TestBridge): Record<string, unknown> {
  const stores = env.logs.filter((line) => line['event'] === 'transfer' && (line['command'] === 'STOR' || line['command'] === 'APPE'));
  return stores.at(-1) ?? {};
}
