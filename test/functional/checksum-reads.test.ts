import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startProxiedTestBridge, type ProxiedTestBridge } from '../support/bridge.ts';
import { RawFtp, uploadOver } from '../support/raw-ftp.ts';

const KIB = 1024;
const digest = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex').toUpperCase();

/**
 * Issue 17, row 6: HASH/XSHA1/XMD5/XCRC of a 64 MiB file, repeated from 10 sessions,
 * read the whole object every time (1.9 GiB in 10 s). A checksum S3 does not keep is
 * now read once per object version, a read under way is shared, and what one user may
 * have read for checksums per hour is bounded (FTP_CHECKSUM_READ_MIB_PER_HOUR).
 */
describe('checksum reads: once per version, shared, within a per-user allowance', () => {
  let proxied: ProxiedTestBridge;
  const put = (name: string, body: Buffer) =>
    proxied.s3.client.send(new PutObjectCommand({ Bucket: proxied.s3.bucket, Key: `partners/alice/${name}`, Body: body }));
  const login = (username = 'alice') => RawFtp.login(proxied.env.port, username, 'wonderland');
  const downloaded = () => proxied.proxy.bytes('GetObject').received;

  before(async () => {
    proxied = await startProxiedTestBridge({
      bridge: {
        // 1 MiB per user per hour: two reads of the 600 KiB file do not fit.
        env: { FTP_CHECKSUM_READ_MIB_PER_HOUR: '1' },
        users: [
          { username: 'alice', password: 'wonderland', home: 'partners/alice/' },
          { username: 'bob', password: 'wonderland', home: 'partners/alice/' },
          { username: 'carol', password: 'wonderland', home: 'partners/alice/' },
        ],
      },
    });
  });
  after(() => proxied.stop());

  test('the same checksum of the same version, asked again from other sessions, reads the file once; a new version is read again', async () => {
    // Written by another tool without a checksum: S3 keeps none, the bridge must read.
    const data = randomBytes(200 * KIB);
    await put('same.bin', data);
    const before = downloaded();
    const sessions = await Promise.all([login('bob'), login('bob'), login('bob')]);
    for (const ftp of sessions) assert.equal((await ftp.command('XSHA1 same.bin', 250)).text, digest('sha1', data));
    assert.equal(downloaded() - before, data.length, 'three answers, one read');
    const sources = proxied.env.logs.filter((line) => line.event === 'checksum' && line.path === '/same.bin').map((line) => line.source);
    assert.deepEqual(sources, ['computed', 'remembered', 'remembered']);
    const changed = randomBytes(200 * KIB);
    await put('same.bin', changed);
    assert.equal((await sessions[0]!.command('XSHA1 same.bin', 250)).text, digest('sha1', changed), 'a new version is never answered from the old one');
    assert.equal(downloaded() - before, 2 * data.length);
    await Promise.all(sessions.map((ftp) => ftp.close()));
  });

  test('many sessions asking at once share one read', async () => {
    const data = randomBytes(500 * KIB);
    await put('shared.bin', data);
    const before = proxied.proxy.count('GetObject');
    const sessions = await Promise.all(Array.from({ length: 6 }, () => login('carol')));
    // Sent together: the first starts the read, the others join it.
    const replies = await Promise.all(sessions.map((ftp) => ftp.command('XMD5 shared.bin', 250)));
    for (const reply of replies) assert.equal(reply.text, digest('md5', data));
    assert.equal(proxied.proxy.count('GetObject') - before, 1);
    await Promise.all(sessions.map((ftp) => ftp.close()));
  });

  test('past the allowance a checksum that needs a read is refused with 450 and logged; kept and remembered ones still answer; other users are not affected', async () => {
    const data = randomBytes(600 * KIB);
    await put('budget.bin', data);
    const ftp = await login();
    const other = await login();
    assert.equal((await ftp.command('XSHA1 budget.bin', 250)).text, digest('sha1', data));
    const before = downloaded();
    const refused = await ftp.command('XMD5 budget.bin', 450);
    assert.match(refused.text, /Checksum not computed: it needs 614400 bytes read, beyond this account's 1048576 per 3600 s; try again in \d+ s\./);
    await other.command('HASH budget.bin', 450); // SHA-256 not kept (another tool wrote it): the same user's other session
    // A range is charged for what it reads: a small one still fits, a large one does not.
    assert.equal((await other.command('XCRC budget.bin 0 1000', 250)).text.length, 8);
    await other.command(`XCRC budget.bin 1000 ${data.length}`, 450);
    assert.equal(downloaded() - before, 1000, 'nothing refused was read');
    assert.equal((await ftp.command('XSHA1 budget.bin', 250)).text, digest('sha1', data), 'a remembered checksum costs nothing');
    const logged = proxied.env.logs.filter((line) => line.event === 'allowance-exceeded');
    assert.equal(logged.length, 3);
    assert.equal(logged[0]?.allowance, 'checksum-read-bytes');
    assert.equal(logged[0]?.user, 'alice');
    const bob = await login('bob');
    assert.equal((await bob.command('XMD5 budget.bin', 250)).text, digest('md5', data), "another user's allowance is their own");
    // A file the bridge stored has its SHA-256 kept by S3: no read, whatever the allowance.
    await uploadOver(ftp, 'STOR kept.bin', randomBytes(300 * KIB), false);
    await ftp.command('HASH kept.bin', 213);
    await Promise.all([ftp.close(), other.close(), bob.close()]);
  });
});
