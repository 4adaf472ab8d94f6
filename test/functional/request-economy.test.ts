import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startProxiedTestBridge, startTestBridge, type ProxiedTestBridge, type TestBridge } from '../support/bridge.ts';
import type { FaultProxy, S3Operation } from '../support/fault-proxy.ts';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';

/**
 * Small files are dominated by round trips to S3, not bytes: a new file must cost only
 * the checks it needs (its name is not a folder, its parent is one), made at once, and
 * the PutObject. A HEAD on a name that does not exist is a wasted round trip (and the
 * SDK closes the connection after its 404).
 */
const OPERATIONS: readonly S3Operation[] = ['HeadObject', 'ListObjects', 'PutObject', 'GetObject'];

describe('requests per upload', () => {
  let proxied: ProxiedTestBridge;
  let proxy: FaultProxy;
  let env: TestBridge;
  before(async () => {
    proxied = await startProxiedTestBridge();
    ({ proxy, env } = proxied);
  });
  after(() => proxied.stop());

  const counts = (): Record<string, number> => Object.fromEntries(OPERATIONS.map((operation) => [operation, proxy.count(operation)]));
  const delta = (before: Record<string, number>): Record<string, number> =>
    Object.fromEntries(OPERATIONS.map((operation) => [operation, proxy.count(operation) - before[operation]!]));

  async function store(ftp: RawFtp, name: string): Promise<number> {
    const data = await ftp.passive();
    await ftp.command(`STOR ${name}`, 150);
    await writeAll(data, 'a small file');
    return (await ftp.read()).code;
  }

  test('a new file in a folder: two LISTs and one PutObject, no HEAD', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('TYPE I', 200);
    await ftp.command('MKD inbox', 257);
    const start = counts();
    assert.equal(await store(ftp, 'inbox/new.txt'), 226);
    assert.deepEqual(delta(start), { HeadObject: 0, ListObjects: 2, PutObject: 1, GetObject: 0 });

    // Overwriting costs the same; the folder checks still refuse what they must.
    const again = counts();
    assert.equal(await store(ftp, 'inbox/new.txt'), 226);
    assert.deepEqual(delta(again), { HeadObject: 0, ListObjects: 2, PutObject: 1, GetObject: 0 });
    assert.equal(await ftp.command('STOR inbox').then((reply) => reply.code), 550, 'a folder is not overwritten');
    assert.equal(await ftp.command('STOR missing/new.txt').then((reply) => reply.code), 550, 'no file in a folder that does not exist');
    await ftp.close();
  });

  test('a new file in the home folder: the home needs no check', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('TYPE I', 200);
    const start = counts();
    assert.equal(await store(ftp, 'top.txt'), 226);
    assert.deepEqual(delta(start), { HeadObject: 0, ListObjects: 1, PutObject: 1, GetObject: 0 });
    await ftp.close();
  });

  test('a folder listed again costs no HEAD per file; a file whose time was set, one', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('TYPE I', 200);
    await ftp.command('MKD listed', 257);
    for (const name of ['a.txt', 'b.txt', 'c.txt']) assert.equal(await store(ftp, `listed/${name}`), 226);
    const list = (): Promise<string> => mlsd(ftp, 'listed');
    const first = counts();
    await list();
    const firstHeads = delta(first).HeadObject!;
    const second = counts();
    await list();
    // What MLSD itself costs (the stat of its argument), beside the files' times.
    const ownHeads = delta(second).HeadObject!;
    assert.ok(ownHeads <= 1, `MLSD's own stat (${ownHeads})`);
    assert.equal(firstHeads - ownHeads, 3, 'the first listing reads the time of each file once');

    await ftp.command('MFMT 20200102030405 listed/b.txt', 213);
    const third = counts();
    const listing = await list();
    assert.equal(delta(third).HeadObject! - ownHeads, 1, 'only the file with a new version is read again');
    assert.match(listing, /modify=20200102030405[^;]*;.*b\.txt/);
    await ftp.close();
  });

  test('FTP_LIST_CLIENT_TIMES=off: listings ask for no time, MDTM still does', async () => {
    const quiet = await startTestBridge({ s3: proxied.s3, s3Client: proxied.client, env: { FTP_LIST_CLIENT_TIMES: 'off' } });
    try {
      const ftp = await RawFtp.login(quiet.port, 'alice', 'wonderland');
      await ftp.command('TYPE I', 200);
      await ftp.command('MKD unlisted', 257);
      for (const name of ['a.txt', 'b.txt']) assert.equal(await store(ftp, `unlisted/${name}`), 226);
      await ftp.command('MFMT 20200102030405 unlisted/b.txt', 213);
      const start = counts();
      assert.doesNotMatch(await mlsd(ftp, 'unlisted'), /modify=20200102030405/, 'the listing shows LastModified');
      assert.ok(delta(start).HeadObject! <= 1, 'no HeadObject per file (at most the stat of the folder)');
      assert.equal((await ftp.command('MDTM unlisted/b.txt', 213)).text, '20200102030405');
      await ftp.close();
    } finally {
      await quiet.stop();
    }
  });
});

/** MLSD of `dir`, its text once the data connection closes (after the 226). */
async function mlsd(ftp: RawFtp, dir: string): Promise<string> {
  const data = await ftp.passive();
  const text = new Promise<string>((resolve) => {
    let received = '';
    data.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    data.on('close', () => resolve(received));
  });
  await ftp.command(`MLSD ${dir}`, 150);
  assert.equal((await ftp.read()).code, 226);
  return await text;
}
