import assert from 'node:assert/strict';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { startProxiedTestBridge, type ProxiedTestBridge, type TestBridge } from '../support/bridge.ts';
import type { FaultProxy } from '../support/fault-proxy.ts';
import { openSession, RawFtp, uploadOver, writeAll } from '../support/raw-ftp.ts';
import { TEST_S3_KEEPS_CHECKSUMS, type TestS3 } from '../support/s3-server.ts';

const MIB = 1024 * 1024;
const digest = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex');
const crcHex = (data: Buffer) => (crc32(data) >>> 0).toString(16).padStart(8, '0');

/**
 * HASH, OPTS HASH and the X-commands over plain FTP and FTPS, against a real S3 server
 * behind a proxy that counts requests: an answer from the stored checksum reads nothing.
 */
/** Where the store keeps no checksums (Ceph RGW 16), the bridge reads the object instead. */
const READ_UNLESS_KEPT = TEST_S3_KEEPS_CHECKSUMS ? 0 : 1;
const STORED_UNLESS_NOT_KEPT = TEST_S3_KEEPS_CHECKSUMS ? 'stored' : 'computed';
/** Asked again: the stored checksum again, or the one computed for this version, remembered. */
const STORED_UNLESS_REMEMBERED = TEST_S3_KEEPS_CHECKSUMS ? 'stored' : 'remembered';

describe('checksums', () => {
  let proxied: ProxiedTestBridge;
  let s3: TestS3;
  let proxy: FaultProxy;
  let client: S3Client;
  let env: TestBridge;
  const checksumLogs = () => env.logs.filter((line) => line.event === 'checksum');

  before(async () => {
    proxied = await startProxiedTestBridge({
      bridge: {
        env: { S3_CHECKSUM: 'when_supported' },
        users: [
          { username: 'alice', password: 'wonderland', home: 'partners/alice/' },
          { username: 'lister', password: 'list-only', home: 'partners/alice/', permissions: ['list'] },
        ],
      },
    });
    ({ s3, proxy, client, env } = proxied);
  });
  after(() => proxied.stop());

  for (const tls of [false, true]) {
    const mode = tls ? 'FTPS' : 'plain FTP';
    const name = tls ? 'tls' : 'plain';

    const session = () => openSession(env.port, 'alice', 'wonderland', tls);
    const upload = (ftp: RawFtp, command: string, data: Buffer) => uploadOver(ftp, command, data, tls);

    test(`${mode}: HASH of an upload answers from the SHA-256 S3 keeps, without reading the object`, async () => {
      const ftp = await session();
      const data = randomBytes(300 * 1024);
      await upload(ftp, `STOR ${name} small.bin`, data);
      assert.equal((await ftp.command('OPTS HASH', 200)).text, 'SHA-256', 'SHA-256 is the default');
      const reads = proxy.count('GetObject');
      const reply = await ftp.command(`HASH ${name} small.bin`, 213);
      assert.equal(reply.text, `SHA-256 0-${data.length} ${digest('sha256', data)} ${name} small.bin`);
      assert.equal(proxy.count('GetObject'), reads + READ_UNLESS_KEPT, 'the stored checksum is the answer');
      assert.equal(checksumLogs().at(-1)?.source, STORED_UNLESS_NOT_KEPT);
      assert.equal((await ftp.command(`XSHA256 ${name} small.bin`, 250)).text, digest('sha256', data).toUpperCase());
      assert.equal(proxy.count('GetObject'), reads + READ_UNLESS_KEPT, 'asked again, nothing more is read');
      assert.equal(checksumLogs().at(-1)?.source, STORED_UNLESS_REMEMBERED);
      await ftp.close();
    });

    test(`${mode}: every algorithm FEAT offers gives the right value; other algorithms and ranges read the file once`, async () => {
      const ftp = await session();
      const data = randomBytes(100 * 1024);
      await upload(ftp, `STOR ${name}-all.bin`, data);
      const file = `${name}-all.bin`;
      for (const [option, algorithm] of [['SHA-1', 'sha1'], ['MD5', 'md5'], ['CRC32', 'crc32'], ['sha-256', 'sha256']] as const) {
        assert.equal((await ftp.command(`OPTS HASH ${option}`, 200)).text, option.toUpperCase());
        const expected = algorithm === 'crc32' ? crcHex(data) : digest(algorithm, data);
        assert.equal((await ftp.command(`HASH ${file}`, 213)).text, `${option.toUpperCase()} 0-${data.length} ${expected} ${file}`);
      }
      const reads = proxy.count('GetObject');
      assert.equal((await ftp.command(`XSHA1 ${file}`, 250)).text, digest('sha1', data).toUpperCase());
      assert.equal((await ftp.command(`XMD5 ${file}`, 250)).text, digest('md5', data).toUpperCase());
      assert.equal((await ftp.command(`XCRC ${file}`, 250)).text, crcHex(data).toUpperCase());
      assert.equal((await ftp.command(`MD5 ${file}`, 251)).text, `${file} ${digest('md5', data).toUpperCase()}`);
      assert.equal(proxy.count('GetObject'), reads, 'each was computed once for this version, and is remembered');
      assert.equal((await ftp.command(`XSHA256 ${file} 10 1000`, 250)).text, digest('sha256', data.subarray(10, 1000)).toUpperCase());
      assert.equal(checksumLogs().at(-1)?.source, 'computed', 'a part of the file is read');
      assert.equal((await ftp.command(`XSHA256 ${file} 0 ${data.length}`, 250)).text, digest('sha256', data).toUpperCase());
      assert.equal(checksumLogs().at(-1)?.source, STORED_UNLESS_REMEMBERED, 'a range that is the whole file is not');
      await ftp.command(`XCRC ${file} 10 ${data.length + 1}`, 501);
      await ftp.command(`XCRC ${file} 10 10`, 501);
      await ftp.command('OPTS HASH CRC-37', 501);
      assert.equal((await ftp.command('OPTS HASH', 200)).text, 'SHA-256', 'a refused choice changes nothing');
      await ftp.close();
    });

    test(`${mode}: appended and resumed files carry the checksum of all their bytes`, async () => {
      const ftp = await session();
      // 6 MiB: a multipart upload; the append keeps its first 6 MiB by copying them inside S3.
      const first = randomBytes(6 * MIB);
      const more = randomBytes(1 * MIB + 17);
      await upload(ftp, `STOR ${name}-grow.bin`, first);
      await upload(ftp, `APPE ${name}-grow.bin`, more);
      const whole = Buffer.concat([first, more]);
      assert.equal((await ftp.command(`XCRC ${name}-grow.bin`, 250)).text, crcHex(whole).toUpperCase());
      assert.equal((await ftp.command(`HASH ${name}-grow.bin`, 213)).text.split(' ')[2], digest('sha256', whole));
      // Small: the kept start is read back into the one PutObject, and hashed with it.
      const start = randomBytes(4000);
      const rest = randomBytes(3000);
      await upload(ftp, `STOR ${name}-resume.bin`, start);
      await ftp.command(`REST ${start.length}`, 350);
      await upload(ftp, `STOR ${name}-resume.bin`, rest);
      const reads = proxy.count('GetObject');
      const reply = await ftp.command(`HASH ${name}-resume.bin`, 213);
      assert.equal(reply.text.split(' ')[2], digest('sha256', Buffer.concat([start, rest])));
      assert.equal(proxy.count('GetObject'), reads + READ_UNLESS_KEPT, 'the resumed file has its stored SHA-256');
      await ftp.close();
    });
  }

  test('a multipart upload asks S3 for a full-object CRC32, parts and whole, which S3 combines', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('TYPE I', 200);
    const data = randomBytes(11 * MIB);
    const socket = await ftp.passive();
    const creates = proxy.headersSeen('CreateMultipartUpload').length;
    const completes = proxy.headersSeen('CompleteMultipartUpload').length;
    await ftp.command('STOR multi.bin', 150);
    await writeAll(socket, data);
    await ftp.expect(226);
    const created = proxy.headersSeen('CreateMultipartUpload').slice(creates);
    assert.equal(created[0]?.['x-amz-checksum-algorithm'], 'CRC32');
    assert.equal(created[0]?.['x-amz-checksum-type'], 'FULL_OBJECT');
    const completed = proxy.headersSeen('CompleteMultipartUpload').slice(completes);
    const whole = Buffer.alloc(4);
    whole.writeUInt32BE(crc32(data) >>> 0);
    assert.equal(completed[0]?.['x-amz-checksum-crc32'], whole.toString('base64'), 'S3 checks its combination against ours');
    assert.ok(proxy.headersSeen('UploadPart').slice(-3).every((headers) => typeof headers['x-amz-checksum-crc32'] === 'string'));
    // The emulator keeps a composite CRC for multipart uploads: not the file's, so it is read.
    assert.equal((await ftp.command('XCRC multi.bin', 250)).text, crcHex(data).toUpperCase());
    await ftp.close();
  });

  test('a file another tool wrote without a checksum is read once; folders, missing files and listers are refused', async () => {
    const data = Buffer.from('written by another tool\n');
    // This test's client sends no checksum (WHEN_REQUIRED): S3 keeps none.
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'partners/alice/foreign.txt', Body: data }));
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'partners/alice/folder/inside.txt', Body: 'x' }));
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const reads = proxy.count('GetObject');
    assert.equal((await ftp.command('HASH foreign.txt', 213)).text, `SHA-256 0-${data.length} ${digest('sha256', data)} foreign.txt`);
    assert.equal(proxy.count('GetObject'), reads + 1);
    await ftp.command('HASH folder', 553);
    await ftp.command('HASH /', 553);
    await ftp.command('HASH missing.txt', 550);
    await ftp.command('XCRC missing.txt', 550);
    const features = (await ftp.command('FEAT', 211)).lines.map((line) => line.trim());
    for (const feature of ['HASH SHA-256*;SHA-1;MD5;CRC32;', 'XSHA256', 'XSHA1', 'XMD5', 'XCRC', 'MD5', 'TVFS']) {
      assert.ok(features.includes(feature), `FEAT lists ${feature}`);
    }
    assert.ok(!features.some((feature) => feature.startsWith('AVBL')), 'no quota is known: no AVBL');
    await ftp.command('AVBL', 502);
    await ftp.command('OPTS HASH MD5', 200);
    assert.ok((await ftp.command('FEAT', 211)).lines.some((line) => line.trim() === 'HASH SHA-256;SHA-1;MD5*;CRC32;'));
    await ftp.command('REIN', 220);
    await ftp.command('USER alice', 331);
    await ftp.command('PASS wonderland', 230);
    assert.equal((await ftp.command('OPTS HASH', 200)).text, 'SHA-256', 'REIN resets the choice');
    await ftp.close();
    const lister = await RawFtp.login(env.port, 'lister', 'list-only');
    await lister.command('HASH foreign.txt', 550);
    await lister.close();
  });
});
