import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { crc32 } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { MIB } from '../../runtime/src/storage/s3/part-size-plan.ts';
import { UploadKeptError } from '../../runtime/src/storage/s3/multipart-upload.ts';
import { isStorageError } from '../../runtime/src/storage/storage-error.ts';
import { TEST_S3_KEEPS_CHECKSUMS } from '../support/s3-server.ts';
import { waitUntil } from '../support/wait-until.ts';
import {
  bytes,
  failingSource,
  key,
  makeStore,
  objectContent,
  pendingMultipartUploads,
  sha256,
  sourceOf,
  startTestS3,
  type StoreUnderTest,
  type TestS3,
} from '../support/store-fixture.ts';

/** The store keeps an upload its source ended, and continues it; fauxqs through the journal, RGW through S3's listings. */
describe('pending uploads (S3ObjectStore)', () => {
  let s3: TestS3;
  let dir: string;
  let sut: StoreUnderTest;

  before(async () => {
    s3 = await startTestS3();
    dir = await mkdtemp(join(tmpdir(), 'pending-uploads-'));
    const journalFile = s3.external ? undefined : join(dir, 'pending.json');
    sut = makeStore(s3.endpoint, s3.bucket, { keepInterrupted: { expiryMs: 3_600_000, journalFile } }, TEST_S3_KEEPS_CHECKSUMS ? 'when_supported' : 'when_required');
  });
  after(async () => {
    sut.client.destroy();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Writes `data` to `path` until `failAfter` bytes, then, once S3 holds every whole part
   * of them (a fixed wait was too short on a freshly started RGW), fails the source;
   * returns the durable length.
   */
  async function interrupted(path: string, data: Buffer, failAfter: number): Promise<number> {
    const source = new PassThrough();
    source.write(data.subarray(0, failAfter));
    const wholeParts = Math.floor(failAfter / (5 * MIB)) * 5 * MIB;
    const written = sut.store.write(path, source).then(
      () => assert.fail('the write must fail'),
      (caught: unknown) => caught,
    );
    await waitUntil(`${wholeParts} bytes of ${path} stored`, async () => (await sut.store.pendingUpload(path))?.durableBytes === wholeParts);
    source.destroy(new Error('client gone'));
    const error = await written;
    assert.ok(error instanceof UploadKeptError, String(error));
    assert.equal(error.kind, 'aborted');
    assert.equal(error.durableBytes, wholeParts);
    return error.durableBytes;
  }

  it('keeps the whole parts of an interrupted upload, shows them, and continues at their end', async () => {
    const data = bytes(17 * MIB + 123);
    const durable = await interrupted('dir/big.bin', data, 16 * MIB);
    assert.equal(await objectContent(s3, key('dir/big.bin')), undefined, 'no object');
    assert.equal((await sut.store.pendingUpload('dir/big.bin'))?.durableBytes, durable);
    assert.deepEqual((await sut.store.pendingUploads('dir')).map((upload) => [upload.name, upload.durableBytes]), [['big.bin', durable]]);
    assert.equal(await sut.store.pendingBytes(''), durable);
    assert.ok(sut.logs.lines.some((line) => line['event'] === 'upload-kept' && line['durableBytes'] === durable));

    await assert.rejects(sut.store.continueUpload('dir/big.bin', sourceOf(data.subarray(1)), { offset: 1 }), (error: unknown) =>
      isStorageError(error, 'invalid-offset') && error.message.includes(String(durable)),
    );
    const result = await sut.store.continueUpload('dir/big.bin', sourceOf(data.subarray(durable)), { offset: durable });
    assert.equal(result.size, data.length);
    assert.equal(result.bytesWritten, data.length - durable);
    assert.equal(sha256((await objectContent(s3, key('dir/big.bin')))!), sha256(data));
    // The CRC32 the commit sends (kept parts' CRCs combined with the new ones) is accepted by
    // the store; AWS S3 checks it against the parts (fauxqs and RGW keep none for multipart uploads).
    const crc = await sut.store.checksum('dir/big.bin', { algorithm: 'crc32' });
    assert.equal(crc.digest.readUInt32BE(0), crc32(data));
    assert.equal(await sut.store.pendingUpload('dir/big.bin'), undefined);
    assert.deepEqual(await pendingMultipartUploads(s3), []);
  });

  it('lets one caller at a time continue an upload', async () => {
    const data = bytes(12 * MIB);
    const durable = await interrupted('twice.bin', data, 11 * MIB);
    const slow = new PassThrough();
    const first = sut.store.continueUpload('twice.bin', slow, { offset: durable });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await assert.rejects(sut.store.continueUpload('twice.bin', sourceOf(data.subarray(durable)), { offset: durable }), (error: unknown) =>
      isStorageError(error, 'conflict'),
    );
    slow.end(data.subarray(durable));
    await first;
    assert.equal(sha256((await objectContent(s3, key('twice.bin')))!), sha256(data));
  });

  it('discards on request, and an upload that holds no whole part keeps nothing', async () => {
    const data = bytes(12 * MIB);
    await interrupted('gone.bin', data, 11 * MIB);
    assert.equal(await sut.store.discardPendingUpload('gone.bin'), true);
    assert.equal(await sut.store.pendingUpload('gone.bin'), undefined);
    assert.equal(await sut.store.discardPendingUpload('gone.bin'), false);
    await assert.rejects(sut.store.write('small.bin', failingSource(bytes(MIB), MIB / 2, new Error('gone'))), (error: unknown) =>
      isStorageError(error, 'aborted') && !(error instanceof UploadKeptError),
    );
    assert.deepEqual(await pendingMultipartUploads(s3), []);
  });
});
