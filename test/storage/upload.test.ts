import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { MIB } from '../../runtime/src/storage/s3/part-size-plan.ts';
import { isStorageError } from '../../runtime/src/storage/storage-error.ts';
import { crc32Base64 } from '../support/crc32-base64.ts';
import {
  bytes,
  failingSource,
  key,
  makeStore,
  objectContent,
  objectMetadata,
  pendingMultipartUploads,
  putRaw,
  readAll,
  sha256,
  sourceOf,
  startTestS3,
  type StoreUnderTest,
  type TestS3,
} from '../support/store-fixture.ts';

describe('S3ObjectStore.write', () => {
  let s3: TestS3;
  let sut: StoreUnderTest;

  before(async () => {
    s3 = await startTestS3();
    sut = makeStore(s3.endpoint, s3.bucket);
  });
  after(async () => {
    sut.client.destroy();
    await s3.stop();
  });

  async function assertNoPendingUploads(): Promise<void> {
    assert.deepEqual(await pendingMultipartUploads(s3), []);
  }

  /** Proves a multipart upload was started for `path` and then aborted. */
  function assertStartedAndAborted(path: string): void {
    const events = sut.logs.lines.filter((line) => line['key'] === key(path)).map((line) => line['event']);
    assert.ok(events.includes('multipart-upload-started'), `no multipart upload for ${path}`);
    assert.ok(events.includes('multipart-upload-aborted'), `multipart upload for ${path} not aborted`);
  }

  it('stores a zero-byte file', async () => {
    const result = await sut.store.write('empty.txt', sourceOf(Buffer.alloc(0)));
    assert.deepEqual(result, { bytesWritten: 0, size: 0, crc32: crc32Base64(Buffer.alloc(0)) });
    assert.equal((await objectContent(s3, key('empty.txt')))?.length, 0);
    const info = await sut.store.stat('empty.txt');
    assert.equal(info?.kind, 'file');
    assert.equal(info?.size, 0);
  });

  it('stores a small file with one PutObject, with user metadata', async () => {
    const data = bytes(100_000);
    const result = await sut.store.write('small.bin', sourceOf(data), {
      metadata: { 'ftp-user': 'acme', 'client-address': '203.0.113.9', note: 'Grüße' },
    });
    assert.deepEqual(result, { bytesWritten: data.length, size: data.length, crc32: crc32Base64(data) });
    assert.equal(sha256((await objectContent(s3, key('small.bin'))) ?? Buffer.alloc(0)), sha256(data));
    const metadata = await objectMetadata(s3, key('small.bin'));
    assert.equal(metadata?.['ftp-user'], 'acme');
    assert.equal(metadata?.['client-address'], '203.0.113.9');
    assert.equal(metadata?.['note'], `=?UTF-8?B?${Buffer.from('Grüße').toString('base64')}?=`);
  });

  it('stores exactly one part with PutObject', async () => {
    const data = bytes(5 * MIB);
    const result = await sut.store.write('one-part.bin', sourceOf(data));
    assert.equal(result.size, 5 * MIB);
    assert.equal(sha256((await objectContent(s3, key('one-part.bin'))) ?? Buffer.alloc(0)), sha256(data));
    await assertNoPendingUploads();
  });

  it('streams a 13 MiB file as a multipart upload, byte for byte', async () => {
    const data = bytes(13 * MIB + 12345);
    const result = await sut.store.write('dir/big.bin', sourceOf(data, 100_000), { metadata: { 'ftp-user': 'acme' } });
    // The parts' CRC32s combined: every byte once.
    assert.deepEqual(result, { bytesWritten: data.length, size: data.length, crc32: crc32Base64(data) });
    assert.equal(sha256((await objectContent(s3, key('dir/big.bin'))) ?? Buffer.alloc(0)), sha256(data));
    assert.equal((await objectMetadata(s3, key('dir/big.bin')))?.['ftp-user'], 'acme');
    const { body, size } = await sut.store.read('dir/big.bin');
    assert.equal(size, data.length);
    assert.equal(sha256(await readAll(body)), sha256(data));
    await assertNoPendingUploads();
  });

  it('overwrites an existing file', async () => {
    await putRaw(s3, key('over.txt'), 'old content');
    await sut.store.write('over.txt', sourceOf(Buffer.from('new')));
    assert.equal((await objectContent(s3, key('over.txt')))?.toString(), 'new');
  });

  describe('resume and append (offset)', () => {
    it('keeps a start < 5 MiB (ranged read, prepended) and appends', async () => {
      const old = bytes(3 * MIB);
      await putRaw(s3, key('resume-small.bin'), old);
      const tail = bytes(4 * MIB);
      const result = await sut.store.write('resume-small.bin', sourceOf(tail), { offset: 2 * MIB });
      const expected = Buffer.concat([old.subarray(0, 2 * MIB), tail]);
      // The kept start was read back, so the CRC32 covers the whole file.
      assert.deepEqual(result, { bytesWritten: tail.length, size: 6 * MIB, crc32: crc32Base64(expected) });
      assert.equal(sha256((await objectContent(s3, key('resume-small.bin'))) ?? Buffer.alloc(0)), sha256(expected));
      await assertNoPendingUploads();
    });

    it('keeps a start >= 5 MiB with UploadPartCopy and appends a multipart tail', async () => {
      // fauxqs takes at most 11 MiB per request body.
      const old = bytes(10 * MIB);
      await putRaw(s3, key('resume-big.bin'), old);
      const tail = bytes(7 * MIB);
      const result = await sut.store.write('resume-big.bin', sourceOf(tail), { offset: 7 * MIB });
      // S3 copied the start: the store saw not every byte, so it reports no CRC32.
      assert.deepEqual(result, { bytesWritten: tail.length, size: 14 * MIB, crc32: undefined });
      const expected = Buffer.concat([old.subarray(0, 7 * MIB), tail]);
      assert.equal(sha256((await objectContent(s3, key('resume-big.bin'))) ?? Buffer.alloc(0)), sha256(expected));
      await assertNoPendingUploads();
    });

    it('appends at the end of an object of exactly 5 MiB (whole-object copy, no range)', async () => {
      const old = bytes(5 * MIB);
      await putRaw(s3, key('append-5.bin'), old);
      const tail = bytes(1000);
      const result = await sut.store.write('append-5.bin', sourceOf(tail), { offset: 5 * MIB });
      assert.equal(result.size, 5 * MIB + 1000);
      assert.equal(
        sha256((await objectContent(s3, key('append-5.bin'))) ?? Buffer.alloc(0)),
        sha256(Buffer.concat([old, tail])),
      );
    });

    it('appends nothing: the object is rebuilt unchanged', async () => {
      const old = bytes(6 * MIB);
      await putRaw(s3, key('append-empty.bin'), old);
      const result = await sut.store.write('append-empty.bin', sourceOf(Buffer.alloc(0)), { offset: 6 * MIB });
      assert.deepEqual(result, { bytesWritten: 0, size: 6 * MIB, crc32: undefined });
      assert.equal(sha256((await objectContent(s3, key('append-empty.bin'))) ?? Buffer.alloc(0)), sha256(old));
    });

    it('APPE to a missing file: offset 0 writes it, offset > 0 is not-found', async () => {
      await sut.store.write('appe-new.txt', sourceOf(Buffer.from('first')), { offset: 0 });
      assert.equal((await objectContent(s3, key('appe-new.txt')))?.toString(), 'first');
      await assert.rejects(sut.store.write('appe-missing.txt', sourceOf(Buffer.from('x')), { offset: 10 }), (error) =>
        isStorageError(error, 'not-found'),
      );
      assert.equal(await objectContent(s3, key('appe-missing.txt')), undefined);
    });

    it('refuses an offset beyond the stored size or not a whole number, leaving the object', async () => {
      await putRaw(s3, key('short.txt'), 'short');
      for (const offset of [6, -1, 1.5]) {
        await assert.rejects(sut.store.write('short.txt', sourceOf(Buffer.from('x')), { offset }), (error) =>
          isStorageError(error, 'invalid-offset'),
        );
      }
      assert.equal((await objectContent(s3, key('short.txt')))?.toString(), 'short');
    });
  });

  describe('failures leave no partial object and no multipart upload', () => {
    it('source error midway through a multipart upload of a new file', async () => {
      const data = bytes(14 * MIB);
      const source = failingSource(data, 11 * MIB, new Error('data connection reset'));
      await assert.rejects(sut.store.write('broken-new.bin', source), (error) => isStorageError(error, 'aborted'));
      assert.equal(await objectContent(s3, key('broken-new.bin')), undefined);
      assert.equal(source.destroyed, true);
      assertStartedAndAborted('broken-new.bin');
      await assertNoPendingUploads();
    });

    it('source error in the first part: nothing was sent, the old file stays', async () => {
      const old = bytes(1000);
      await putRaw(s3, key('broken-small.bin'), old);
      const source = failingSource(bytes(2 * MIB), 1 * MIB, new Error('reset'));
      await assert.rejects(sut.store.write('broken-small.bin', source), (error) => isStorageError(error, 'aborted'));
      assert.equal(sha256((await objectContent(s3, key('broken-small.bin'))) ?? Buffer.alloc(0)), sha256(old));
    });

    it('source error while resuming with UploadPartCopy keeps the old object', async () => {
      const old = bytes(8 * MIB);
      await putRaw(s3, key('broken-resume.bin'), old);
      const source = failingSource(bytes(12 * MIB), 7 * MIB, new Error('reset'));
      await assert.rejects(sut.store.write('broken-resume.bin', source, { offset: 6 * MIB }), (error) =>
        isStorageError(error, 'aborted'),
      );
      assert.equal(sha256((await objectContent(s3, key('broken-resume.bin'))) ?? Buffer.alloc(0)), sha256(old));
      assertStartedAndAborted('broken-resume.bin');
      await assertNoPendingUploads();
    });

    it('AbortSignal midway (the source then stalls) aborts the upload', async () => {
      const old = bytes(2000);
      await putRaw(s3, key('aborted.bin'), old);
      const data = bytes(16 * MIB);
      const controller = new AbortController();
      let sent = 0;
      // Yields 12 MiB, aborts the transfer, then never ends (like a stalled client).
      const source = new Readable({
        read() {
          if (sent < 12 * MIB) {
            this.push(data.subarray(sent, sent + 256 * 1024));
            sent += 256 * 1024;
          } else if (!controller.signal.aborted) {
            setImmediate(() => controller.abort());
          }
        },
      });
      await assert.rejects(sut.store.write('aborted.bin', source, { signal: controller.signal }), (error) =>
        isStorageError(error, 'aborted'),
      );
      assert.equal(source.destroyed, true);
      assert.equal(sha256((await objectContent(s3, key('aborted.bin'))) ?? Buffer.alloc(0)), sha256(old));
      assertStartedAndAborted('aborted.bin');
      await assertNoPendingUploads();
    });

    it('an already aborted signal fails at once and writes nothing', async () => {
      await assert.rejects(
        sut.store.write('never.bin', sourceOf(Buffer.from('x')), { signal: AbortSignal.abort() }),
        (error) => isStorageError(error, 'aborted'),
      );
      assert.equal(await objectContent(s3, key('never.bin')), undefined);
    });
  });

  it('rejects invalid names and metadata before touching S3', async () => {
    for (const path of ['', '../escape', 'a/../b', 'a//b', 'nul\u0000byte', 'x'.repeat(1100)]) {
      await assert.rejects(sut.store.write(path, sourceOf(Buffer.from('x'))), (error) => isStorageError(error, 'invalid-name'), path);
    }
    await assert.rejects(
      sut.store.write('ok.txt', sourceOf(Buffer.from('x')), { metadata: { 'Bad Key': 'v' } }),
      (error) => isStorageError(error, 'invalid-name'),
    );
  });
});
