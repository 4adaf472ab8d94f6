import assert from 'node:assert/strict';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { after, before, describe, test } from 'node:test';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { listOver, openSession, RawFtp, uploadOver } from '../support/raw-ftp.ts';

/** Modification times clients set (MFMT, MFF, SITE UTIME) and folder dates, over plain FTP and FTPS. */
describe('modification times', () => {
  let env: TestBridge;
  const head = (key: string) => env.s3.client.send(new HeadObjectCommand({ Bucket: env.s3.bucket, Key: `partners/alice/${key}` }));

  before(async () => {
    env = await startTestBridge({
      users: [
        { username: 'alice', password: 'wonderland', home: 'partners/alice/' },
        { username: 'reader', password: 'read-only', home: 'partners/alice/', permissions: ['list', 'read'] },
      ],
    });
  });
  after(async () => {
    await env.stop();
  });

  for (const tls of [false, true]) {
    const mode = tls ? 'FTPS' : 'plain FTP';
    const dir = tls ? 'tls' : 'plain';

    const session = () => openSession(env.port, 'alice', 'wonderland', tls);
    const upload = (ftp: RawFtp, command: string, data: string) => uploadOver(ftp, command, data, tls);
    const listing = (ftp: RawFtp, command: string) => listOver(ftp, command, tls);

    test(`${mode}: MFMT sets the time MDTM, MLST, MLSD and LIST report, kept as x-amz-meta-mtime`, async () => {
      const ftp = await session();
      await ftp.command(`MKD ${dir}`, 257);
      await upload(ftp, `STOR ${dir}/report 1.csv`, 'a,b\n');
      const reply = await ftp.command(`MFMT 20200102030405 ${dir}/report 1.csv`, 213);
      assert.equal(reply.text, `Modify=20200102030405; ${dir}/report 1.csv`);
      assert.equal((await ftp.command(`MDTM ${dir}/report 1.csv`, 213)).text, '20200102030405');
      const object = await head(`${dir}/report 1.csv`);
      assert.equal(object.Metadata?.mtime, String(Date.UTC(2020, 0, 2, 3, 4, 5) / 1000), 'seconds since the epoch, as rclone writes');
      assert.equal(object.Metadata?.['ftp-user'], 'alice', 'the rest of the metadata is kept');
      assert.equal(object.ContentLength, 4);
      const mlst = await ftp.command(`MLST ${dir}/report 1.csv`, 250);
      assert.match(mlst.lines[1] ?? '', /modify=20200102030405;/);
      assert.match(await listing(ftp, `MLSD ${dir}`), /modify=20200102030405;.* report 1\.csv\r\n/);
      assert.match(await listing(ftp, `LIST ${dir}`), / Jan  2  2020 report 1\.csv\r\n/);
      await ftp.close();
    });

    test(`${mode}: MFF modify= and both SITE UTIME forms lftp sends set the time too`, async () => {
      const ftp = await session();
      await ftp.command(`MKD ${dir}-set`, 257);
      await upload(ftp, `STOR ${dir}-set/a.txt`, 'a');
      assert.equal((await ftp.command(`MFF modify=20190304050607; ${dir}-set/a.txt`, 213)).text, `modify=20190304050607; ${dir}-set/a.txt`);
      assert.equal((await ftp.command(`MDTM ${dir}-set/a.txt`, 213)).text, '20190304050607');
      await ftp.command(`SITE UTIME 20180101000000 ${dir}-set/a.txt`, 200);
      assert.equal((await ftp.command(`MDTM ${dir}-set/a.txt`, 213)).text, '20180101000000');
      await ftp.command(`SITE UTIME ${dir}-set/a.txt 20170101000000 20170202000000 20170101000000 UTC`, 200);
      assert.equal((await ftp.command(`MDTM ${dir}-set/a.txt`, 213)).text, '20170202000000', 'the mtime of atime, mtime, ctime');
      await ftp.close();
    });

    test(`${mode}: a rename keeps the time; a new upload under the name does not`, async () => {
      const ftp = await session();
      await upload(ftp, `STOR ${dir}-moved.txt`, 'm');
      await ftp.command(`MFMT 20210615120000 ${dir}-moved.txt`, 213);
      await ftp.command(`RNFR ${dir}-moved.txt`, 350);
      await ftp.command(`RNTO ${dir}-renamed.txt`, 250);
      assert.equal((await ftp.command(`MDTM ${dir}-renamed.txt`, 213)).text, '20210615120000');
      await upload(ftp, `STOR ${dir}-renamed.txt`, 'new content');
      assert.notEqual((await ftp.command(`MDTM ${dir}-renamed.txt`, 213)).text, '20210615120000');
      assert.equal((await head(`${dir}-renamed.txt`)).Metadata?.mtime, undefined);
      await ftp.close();
    });
  }

  test('wrong times, folders, missing files, other facts and read-only users are refused', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('MKD refused', 257);
    await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/refused/f.txt', Body: 'f' }));
    await ftp.command('MFMT 20201301000000 refused/f.txt', 501);
    await ftp.command('MFMT 2020 refused/f.txt', 501);
    await ftp.command('MFMT 20200101000000', 501);
    await ftp.command('MFMT 20200101000000 refused', 550);
    await ftp.command('MFMT 20200101000000 refused/none.txt', 550);
    assert.match((await ftp.command('MFF UNIX.mode=0644; refused/f.txt', 504)).text, /only modify/);
    await ftp.command('SITE UTIME refused/f.txt', 501);
    await ftp.command('SITE CHMOD 644 refused/f.txt', 504);
    const features = (await ftp.command('FEAT', 211)).lines.map((line) => line.trim());
    assert.ok(features.includes('MFMT') && features.includes('MFF modify;'), features.join('|'));
    await ftp.close();
    const reader = await RawFtp.login(env.port, 'reader', 'read-only');
    await reader.command('MFMT 20200101000000 refused/f.txt', 550);
    assert.notEqual((await reader.command('MDTM refused/f.txt', 213)).text, '20200101000000');
    await reader.close();
  });

  test('no listing dates a folder 1970: MLSD leaves modify out, LIST shows the listing time, MLST the marker', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('MKD dated', 257);
    await ftp.command('MKD dated/marked', 257);
    // A folder that exists only as the prefix of a key has no time at all in S3.
    await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/dated/implicit/x.txt', Body: 'x' }));
    const read = (command: string) => listOver(ftp, command, false);
    const mlsd = await read('MLSD dated');
    assert.match(mlsd, /^type=dir;perm=[a-z]+; implicit\r$/m);
    assert.match(mlsd, /^type=dir;perm=[a-z]+; marked\r$/m);
    const list = await read('LIST dated');
    assert.doesNotMatch(list, /1970/);
    const year = String(new Date().getUTCFullYear());
    const today = new Date().toUTCString().slice(8, 11) + ' ' + String(new Date().getUTCDate()).padStart(2, ' ');
    assert.ok(list.split('\r\n').filter(Boolean).every((line) => line.includes(today) || line.includes(year)), list);
    assert.match((await ftp.command('MLST dated/marked', 250)).lines[1] ?? '', /modify=\d{14};/, 'a marker has a real date');
    assert.doesNotMatch((await ftp.command('MLST dated/implicit', 250)).lines[1] ?? '', /modify=/);
    assert.doesNotMatch((await ftp.command('MLST /', 250)).lines[1] ?? '', /modify=/);
    await ftp.close();
  });
});
