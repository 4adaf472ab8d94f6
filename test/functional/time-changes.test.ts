import assert from 'node:assert/strict';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { after, before, describe, test } from 'node:test';
import { startProxiedTestBridge, type ProxiedTestBridge } from '../support/bridge.ts';
import { RawFtp } from '../support/raw-ftp.ts';

/**
 * Issue 17, row 11: MFMT / MFF / SITE UTIME with the time the file already had cost two
 * HEADs and a full CopyObject each: a new version and an "Object Created" event per
 * command, without bound. Setting the time a file has now writes nothing, and the copies
 * a user may cause are bounded (FTP_TIME_CHANGES_PER_HOUR).
 */
describe('time changes: none for the same time, a bounded number per user', () => {
  let proxied: ProxiedTestBridge;
  const login = (username = 'alice') => RawFtp.login(proxied.env.port, username, 'wonderland');
  const requests = () => ({ copies: proxied.proxy.count('CopyObject'), heads: proxied.proxy.count('HeadObject') });

  before(async () => {
    proxied = await startProxiedTestBridge({
      bridge: {
        env: { FTP_TIME_CHANGES_PER_HOUR: '4' },
        users: [
          { username: 'alice', password: 'wonderland', home: 'partners/alice/' },
          { username: 'bob', password: 'wonderland', home: 'partners/bob/' },
        ],
      },
    });
    for (const key of ['partners/alice/same.txt', 'partners/alice/limit.txt', 'partners/alice/folder/inside.txt', 'partners/bob/b.txt']) {
      await proxied.s3.client.send(new PutObjectCommand({ Bucket: proxied.s3.bucket, Key: key, Body: 'x' }));
    }
  });
  after(() => proxied.stop());

  test('the time a file already has, by MFMT, MFF or SITE UTIME, repeated: one HEAD each, no copy', async () => {
    const ftp = await login();
    const start = requests();
    await ftp.command('MFMT 20200102030405 same.txt', 213);
    assert.equal(requests().copies - start.copies, 1, 'the first time changes it');
    const again = requests();
    for (let round = 0; round < 3; round++) {
      assert.equal((await ftp.command('MFMT 20200102030405 same.txt', 213)).text, 'Modify=20200102030405; same.txt');
      await ftp.command('MFF modify=20200102030405; same.txt', 213);
      await ftp.command('SITE UTIME 20200102030405 same.txt', 200);
      await ftp.command('SITE UTIME same.txt 20200102030405 20200102030405 20200102030405 UTC', 200);
    }
    assert.deepEqual(requests(), { copies: again.copies, heads: again.heads + 12 }, 'twelve commands: twelve HEADs, no copy');
    // The command's precision decides: a fraction the file does not have is a change.
    await ftp.command('MFMT 20200102030405.250 same.txt', 213);
    await ftp.command('MFMT 20200102030405.250 same.txt', 213);
    await ftp.command('MFMT 20200102030405 same.txt', 213);
    assert.equal(requests().copies - again.copies, 1, 'only the new fraction was written');
    const head = await proxied.s3.client.send(new HeadObjectCommand({ Bucket: proxied.s3.bucket, Key: 'partners/alice/same.txt' }));
    assert.equal(head.Metadata?.mtime, '1577934245.250');
    const logged = proxied.env.logs.filter((line) => line.event === 'set-modified' && line.path === '/same.txt');
    assert.equal(logged.filter((line) => line.changed === true).length, 2);
    await ftp.command('MFMT 20200102030405 folder', 550);
    await ftp.command('MFMT 20200102030405 missing.txt', 550);
    await ftp.close();
  });

  test('past FTP_TIME_CHANGES_PER_HOUR changes are refused with 450 and logged, across sessions; unchanged times and other users go on', async () => {
    const ftp = await login();
    const other = await login();
    const used = proxied.env.logs.filter((line) => line.event === 'set-modified' && line.changed === true).length;
    for (let second = 0; second < 4 - used; second++) await ftp.command(`MFMT 2021010100000${second} limit.txt`, 213);
    const copies = requests().copies;
    const refused = await other.command('MFMT 20220101000000 limit.txt', 450);
    assert.match(refused.text, /^Time not changed: it rewrites the file, beyond this account's 4 per 3600 s; try again in \d+ s\.$/);
    await ftp.command('SITE UTIME 20220101000000 limit.txt', 450);
    assert.equal(requests().copies, copies, 'a refused change copies nothing');
    await ftp.command('MFMT 20200102030405 same.txt', 213); // the time it has: no copy, no allowance needed
    const [logged] = proxied.env.logs.filter((line) => line.event === 'allowance-exceeded');
    assert.equal(logged?.allowance, 'metadata-rewrites');
    assert.equal(logged?.user, 'alice');
    const bob = await login('bob');
    await bob.command('MFMT 20220101000000 b.txt', 213);
    await Promise.all([ftp.close(), other.close(), bob.close()]);
  });
});
