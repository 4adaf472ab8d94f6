import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, test, type TestContext } from 'node:test';
import { DynamoState } from '../../runtime/src/state/dynamo-state.ts';
import { startTestBridge, type TestBridge, type TestUser } from '../support/bridge.ts';
import { startDynalite } from '../support/dynalite.ts';
import { openSession, RawFtp, readAll, uploadOver, writeAll } from '../support/raw-ftp.ts';
import { startTestS3, storedBody } from '../support/s3-server.ts';
import { waitUntil } from '../support/wait-until.ts';

/**
 * Each per-partner limit through real FTP sessions; the ones that hold across shards
 * with two bridges sharing one S3 server and one dynalite (FTP_STATE_TABLE).
 */

const TABLE = 'ftp-state';

/** Two bridges (two "tasks") on one S3 and one dynalite, the users given. */
async function twoShards(t: TestContext, users: readonly TestUser[], env: Record<string, string> = {}) {
  const dynamo = await startDynalite();
  const s3 = await startTestS3();
  const start = (): Promise<TestBridge> =>
    startTestBridge({ s3, users, dynamoClient: dynamo.client, env: { FTP_STATE_TABLE: TABLE, DYNAMODB_ENDPOINT: dynamo.endpoint, ...env } });
  const one = await start();
  const two = await start();
  t.after(async () => {
    await one.stop();
    await two.stop();
    await s3.stop();
    await dynamo.stop();
  });
  return { dynamo, s3, one, two, start };
}

async function refusedLogin(port: number, username: string, password: string): Promise<string> {
  const ftp = await RawFtp.connect(port);
  await ftp.expect(220);
  await ftp.command(`USER ${username}`, 331);
  const reply = await ftp.command(`PASS ${password}`);
  await ftp.close();
  assert.notEqual(reply.code, 230, 'login refused');
  return `${reply.code} ${reply.text}`;
}

describe('maxSessions: concurrent sessions of a partner across every shard', () => {
  test('the third session on either shard gets 421; a closed one frees its place', async (t) => {
    const user: TestUser = { username: 'acme', password: 'pw', limits: { maxSessions: 2 } };
    const { one, two } = await twoShards(t, [user, { username: 'other', password: 'pw' }]);
    const a = await RawFtp.login(one.port, 'acme', 'pw');
    const b = await RawFtp.login(two.port, 'acme', 'pw');
    assert.match(await refusedLogin(one.port, 'acme', 'pw'), /^421 Too many sessions for acme: 2 at most/);
    assert.match(await refusedLogin(two.port, 'acme', 'pw'), /^421 /);
    // Another partner is not affected.
    const other = await RawFtp.login(one.port, 'other', 'pw');
    await other.close();
    assert.ok(one.logs.some((line) => line['event'] === 'login' && line['reason'] === 'partner-session-limit'));
    await a.command('QUIT', 221);
    await a.close();
    // The release is a write to the table: give it a moment.
    await waitUntil('the released session slot', async () => {
      try {
        const c = await RawFtp.login(two.port, 'acme', 'pw');
        await c.close();
        return true;
      } catch {
        return false;
      }
    });
    await b.close();
  });

  test("a task that dies without releasing (its leases are never renewed) frees them within the lease TTL", async (t) => {
    const user: TestUser = { username: 'acme', password: 'pw', limits: { maxSessions: 1 } };
    const { dynamo, one } = await twoShards(t, [user], { FTP_SESSION_LEASE_SECONDS: '2' });
    // A dead task's lease, as it left it: written once, never renewed (and no TTL deletion: dynalite has none).
    const state = new DynamoState({ client: dynamo.client, table: TABLE });
    const lapsesAt = Date.now() + 5000;
    await state.modify('sessions#acme', () => ({ result: undefined, write: { value: { leases: { 'dead.1': lapsesAt } }, expiresAt: lapsesAt } }));
    assert.match(await refusedLogin(one.port, 'acme', 'pw'), /^421 /);
    let ftp: RawFtp | undefined;
    await waitUntil('the dead lease to lapse', async () => {
      ftp = await RawFtp.login(one.port, 'acme', 'pw').catch(() => undefined);
      return ftp !== undefined;
    }, { intervalMs: 250 });
    assert.ok(Date.now() >= lapsesAt, 'not before the dead lease lapsed');
    // A live session renews its lease: it still holds the place after several TTLs.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    assert.match(await refusedLogin(one.port, 'acme', 'pw'), /^421 /);
    await ftp!.close();
  });

  test('without a table the limit holds per task', async (t) => {
    const bridge = await startTestBridge({ users: [{ username: 'acme', password: 'pw', limits: { maxSessions: 1 } }] });
    t.after(() => bridge.stop());
    const a = await RawFtp.login(bridge.port, 'acme', 'pw');
    assert.match(await refusedLogin(bridge.port, 'acme', 'pw'), /^421 /);
    assert.ok(bridge.logs.some((line) => line['event'] === 'listening' && line['limitsScope'] === 'task'));
    await a.close();
  });
});

describe('lockout counts are shared by every shard and survive a restart', () => {
  test('failures on two shards add up; a bridge started later still refuses', async (t) => {
    const user: TestUser = { username: 'acme', password: 'right' };
    const { one, two, start } = await twoShards(t, [user], { FTP_LOCKOUT_FAILURES: '3', FTP_LOCKOUT_SECONDS: '60' });
    assert.match(await refusedLogin(one.port, 'acme', 'wrong'), /^530 /);
    assert.match(await refusedLogin(two.port, 'acme', 'wrong'), /^530 /);
    assert.match(await refusedLogin(one.port, 'acme', 'wrong'), /^530 /);
    // Locked out everywhere, the right password included.
    assert.match(await refusedLogin(two.port, 'acme', 'right'), /^530 /);
    const later = await start();
    t.after(() => later.stop());
    assert.match(await refusedLogin(later.port, 'acme', 'right'), /^530 /);
    assert.ok([one, two].some((bridge) => bridge.logs.some((line) => line['event'] === 'lockout' && line['scope'] === 'shared')));
  });
});

describe('uploadKiBps / downloadKiBps: bandwidth per session', () => {
  for (const tls of [false, true]) {
    test(`downloads and uploads are paced, ${tls ? 'TLS' : 'clear'} data connections`, async (t) => {
      const bridge = await startTestBridge({ users: [{ username: 'acme', password: 'pw', limits: { uploadKiBps: 64, downloadKiBps: 64 } }] });
      t.after(() => bridge.stop());
      const body = Buffer.alloc(160 * 1024, 5);
      const ftp = await openSession(bridge.port, 'acme', 'pw', tls);
      t.after(() => ftp.close());
      let started = performance.now();
      await uploadOver(ftp, 'STOR paced.bin', body, tls);
      const uploadMs = performance.now() - started;
      assert.deepEqual(await storedBody(bridge.s3, 'partners/acme/paced.bin'), body);
      started = performance.now();
      const data = await ftp.passive({ tls });
      await ftp.command('RETR paced.bin', 150);
      const received = await readAll(data);
      await ftp.expect(226);
      const downloadMs = performance.now() - started;
      assert.deepEqual(received, body);
      // 160 KiB at 64 KiB/s: 2.5 s, less a tenth of a second of burst.
      assert.ok(uploadMs > 2200, `upload took ${Math.round(uploadMs)} ms`);
      assert.ok(downloadMs > 2200, `download took ${Math.round(downloadMs)} ms`);
      assert.ok(downloadMs < 15_000, `download took ${Math.round(downloadMs)} ms`);
    });
  }
});

describe('quotaBytes / quotaFiles: what the home may hold', () => {
  test('552 before and during an upload, room given back by overwrites and deletes; AVBL; shared by shards', async (t) => {
    const user: TestUser = { username: 'acme', password: 'pw', limits: { quotaBytes: 1000, quotaFiles: 3 } };
    const { one, two, s3 } = await twoShards(t, [user]);
    const a = await openSession(one.port, 'acme', 'pw', false);
    const b = await openSession(two.port, 'acme', 'pw', false);
    t.after(() => Promise.all([a.close(), b.close()]));
    assert.equal((await a.command('AVBL', 213)).text, '1000');
    await uploadOver(a, 'STOR one.bin', Buffer.alloc(600, 1), false);
    // The other shard sees the same count.
    assert.equal((await b.command('AVBL', 213)).text, '400');
    // 600 more do not fit: stopped as the file passes the room left, nothing stored.
    const data = await b.passive();
    data.on('error', () => undefined);
    await b.command('STOR two.bin', 150);
    await writeAll(data, Buffer.alloc(600, 2)).catch(() => undefined);
    const refused = await b.read();
    assert.equal(refused.code, 552, refused.text);
    assert.equal(await storedBody(s3, 'partners/acme/two.bin'), undefined);
    assert.equal((await a.command('AVBL', 213)).text, '400');
    // An overwrite gives the old bytes back: 900 in place of 600 fits.
    await uploadOver(b, 'STOR one.bin', Buffer.alloc(900, 3), false);
    assert.equal((await a.command('AVBL', 213)).text, '100');
    await a.command('DELE one.bin', 250);
    assert.equal((await b.command('AVBL', 213)).text, '1000');
    // Files: three fit, a fourth is refused before any data moves.
    for (const name of ['f1', 'f2', 'f3']) await uploadOver(a, `STOR ${name}`, 'x', false);
    await a.passive();
    const fourth = await a.command('STOR f4');
    assert.equal(fourth.code, 552, fourth.text);
    assert.match(fourth.text, /3 of 3 files/);
    // A rename moves a file inside the home: still three.
    await a.command('RNFR f1', 350);
    await a.command('RNTO f5', 250);
    assert.equal((await a.command('STOR f4')).code, 552);
    await a.command('DELE f5', 250);
    await uploadOver(a, 'STOR f4', 'y', false);
  });

  test('objects written by other tools are counted by the periodic reconcile', async (t) => {
    const user: TestUser = { username: 'acme', password: 'pw', limits: { quotaBytes: 10_000 } };
    const { one, s3 } = await twoShards(t, [user], { FTP_QUOTA_RECONCILE_SECONDS: '0.5' });
    const ftp = await openSession(one.port, 'acme', 'pw', false);
    t.after(() => ftp.close());
    assert.equal((await ftp.command('AVBL', 213)).text, '10000');
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'partners/acme/sub/external.bin', Body: Buffer.alloc(4000) }));
    await new Promise((resolve) => setTimeout(resolve, 600));
    // The first look after the interval starts the reconcile; a later one sees its count.
    await waitUntil('the room given back', async () => (await ftp.command('AVBL', 213)).text === '6000');
  });

  test('without a quota AVBL answers 550 and uploads are not counted', async (t) => {
    const bridge = await startTestBridge({ users: [{ username: 'acme', password: 'pw' }] });
    t.after(() => bridge.stop());
    const ftp = await openSession(bridge.port, 'acme', 'pw', false);
    t.after(() => ftp.close());
    await ftp.command('AVBL', 550);
    assert.ok((await ftp.command('FEAT', 211)).lines.some((line) => line.trim() === 'AVBL'));
  });
});


