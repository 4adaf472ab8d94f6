import assert from 'node:assert/strict';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { after, before, describe, test } from 'node:test';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { RawFtp } from '../support/raw-ftp.ts';

describe('folders and files', () => {
  let env: TestBridge;
  let ftp: RawFtp;
  const put = (key: string, body: string) =>
    env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: key, Body: body }));
  const exists = (key: string) =>
    env.s3.client.send(new HeadObjectCommand({ Bucket: env.s3.bucket, Key: key })).then(
      () => true,
      () => false,
    );

  before(async () => {
    env = await startTestBridge({
      users: [
        { username: 'alice', password: 'wonderland', home: 'partners/alice/' },
        { username: 'reader', password: 'read-only', home: 'partners/alice/', permissions: ['list', 'read'] },
      ],
    });
    ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
  });
  after(async () => {
    await ftp.close();
    await env.stop();
  });

  test('PWD, CWD, CDUP and the X-variants move within the home folder', async () => {
    assert.match((await ftp.command('PWD', 257)).text, /^"\/" /);
    await ftp.command('MKD docs', 257);
    await ftp.command('CWD docs', 250);
    assert.match((await ftp.command('XPWD', 257)).text, /^"\/docs" /);
    await ftp.command('XCUP', 250);
    await ftp.command('XCWD /docs', 250);
    await ftp.command('CDUP', 250);
    await ftp.command('CDUP', 250);
    assert.match((await ftp.command('PWD', 257)).text, /^"\/" /, 'CDUP at the root stays at the root');
    await ftp.command('CWD nowhere', 550);
  });

  test('MKD writes a zero-byte marker; RMD removes only empty folders; XMKD/XRMD work too', async () => {
    const made = await ftp.command('MKD reports', 257);
    assert.match(made.text, /^"\/reports" created/);
    assert.ok(await exists('partners/alice/reports/'));
    await ftp.command('MKD reports', 550);
    await ftp.command('MKD missing/child', 550);
    await put('partners/alice/reports/q1.csv', 'a,b\n');
    await ftp.command('RMD reports', 550);
    await ftp.command('DELE reports/q1.csv', 250);
    await ftp.command('RMD reports', 250);
    assert.equal(await exists('partners/alice/reports/'), false);
    await ftp.command('XMKD x-dir', 257);
    await ftp.command('XRMD x-dir', 250);
    await ftp.command('RMD /', 550);
  });

  test('a folder that exists only as a prefix of deeper keys can be entered', async () => {
    await put('partners/alice/implicit/deep/file.txt', 'x');
    await ftp.command('CWD implicit/deep', 250);
    await ftp.command('CWD /', 250);
  });

  test('DELE deletes files only', async () => {
    await put('partners/alice/old.txt', 'old');
    await ftp.command('MKD keep', 257);
    assert.match((await ftp.command('DELE keep', 550)).text, /use RMD/);
    await ftp.command('DELE old.txt', 250);
    assert.match((await ftp.command('DELE old.txt', 550)).text, /No such file/);
    await ftp.command('DELE /', 550);
  });

  test('SIZE and MDTM answer for files, 550 for folders and missing paths', async () => {
    await put('partners/alice/sized.bin', '12345');
    assert.equal((await ftp.command('SIZE sized.bin', 213)).text, '5');
    assert.match((await ftp.command('MDTM sized.bin', 213)).text, /^\d{14}$/);
    await ftp.command('SIZE keep', 550);
    await ftp.command('SIZE nothing', 550);
    await ftp.command('MDTM nothing', 550);
  });

  test('MLST describes one entry with the selected facts', async () => {
    const reply = await ftp.command('MLST sized.bin', 250);
    assert.equal(reply.lines.length, 3);
    assert.match(reply.lines[1]!, /^ type=file;size=5;modify=\d{14};perm=rwadf; \/sized\.bin$/);
    const folder = await ftp.command('MLST keep', 250);
    assert.match(folder.lines[1]!, /^ type=dir;modify=\d{14};perm=elcmpdf; \/keep$/);
    await ftp.command('MLST nothing', 550);
  });

  test('RNFR/RNTO renames a file (copy + delete) and a folder with everything below it', async () => {
    await put('partners/alice/draft.txt', 'draft');
    await ftp.command('RNFR draft.txt', 350);
    await ftp.command('RNTO final.txt', 250);
    assert.equal(await exists('partners/alice/draft.txt'), false);
    const body = await env.s3.client.send(new GetObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/final.txt' }));
    assert.equal(await body.Body!.transformToString(), 'draft');

    await ftp.command('MKD tree', 257);
    await put('partners/alice/tree/a.txt', 'a');
    await put('partners/alice/tree/sub/b.txt', 'b');
    await ftp.command('RNFR tree', 350);
    await ftp.command('RNTO forest', 250);
    assert.ok(await exists('partners/alice/forest/a.txt'));
    assert.ok(await exists('partners/alice/forest/sub/b.txt'));
    assert.ok(await exists('partners/alice/forest/'));
    assert.equal(await exists('partners/alice/tree/a.txt'), false);
  });

  test('RNTO needs a preceding RNFR; targets that exist or sit inside the source are refused', async () => {
    await ftp.command('RNTO x', 503);
    await ftp.command('RNFR missing.txt', 550);
    await ftp.command('RNFR final.txt', 350);
    await ftp.command('NOOP', 200);
    await ftp.command('RNTO other.txt', 503, );
    await put('partners/alice/taken.txt', 't');
    await ftp.command('RNFR final.txt', 350);
    await ftp.command('RNTO taken.txt', 550);
    await ftp.command('RNFR forest', 350);
    await ftp.command('RNTO forest/sub/inside', 553);
    await ftp.command('RNFR final.txt', 350);
    await ftp.command('RNTO nowhere/final.txt', 550);
  });

  test('a user without write, delete, mkdir or rename permissions is refused with 550', async () => {
    const reader = await RawFtp.login(env.port, 'reader', 'read-only');
    try {
      await reader.command('MKD not-allowed', 550);
      await reader.command('DELE final.txt', 550);
      await reader.command('RMD keep', 550);
      await reader.command('RNFR final.txt', 550);
      await reader.command('STOR x.txt', 550);
      await reader.command('APPE x.txt', 550);
      await reader.command('STOU', 550);
      assert.equal((await reader.command('SIZE final.txt', 213)).text, '5');
      const mlst = await reader.command('MLST final.txt', 250);
      assert.match(mlst.lines[1]!, /perm=r;/);
    } finally {
      await reader.close();
    }
    assert.ok(await exists('partners/alice/final.txt'));
  });
});

describe('folder rename limit', () => {
  test('a folder above FTP_RENAME_MAX_OBJECTS is refused with a clear 550 and left as it was', async () => {
    const env = await startTestBridge({ env: { FTP_RENAME_MAX_OBJECTS: '2' } });
    try {
      for (const name of ['a', 'b', 'c']) {
        await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: `partners/alice/big/${name}.txt`, Body: name }));
      }
      const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
      await ftp.command('RNFR big', 350);
      const refusal = await ftp.command('RNTO moved', 550);
      assert.match(refusal.text, /more than 2 files; not renamed/);
      await ftp.command('CWD moved', 550);
      await ftp.command('SIZE big/c.txt', 213);
      await ftp.close();
    } finally {
      await env.stop();
    }
  });
});
