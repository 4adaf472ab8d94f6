import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { beforeEach, describe, it } from 'node:test';
import { AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import { MIB } from '../../runtime/src/storage/s3/part-size-plan.ts';
import { isStorageError } from '../../runtime/src/storage/storage-error.ts';
import type { FaultProxy } from '../support/fault-proxy.ts';
import {
  bytes,
  key,
  faultProxyFixture,
  objectContent,
  pendingMultipartUploads,
  putRaw,
  sha256,
  sourceOf,
  type StoreUnderTest,
  type TestS3,
} from '../support/store-fixture.ts';

/**
 * The S3 endpoint fails for real mid-upload: the store talks to fauxqs through a TCP/HTTP
 * proxy that answers 500, resets connections or goes dead.
 */
describe('S3 endpoint failing mid-upload', () => {
  const fixture = faultProxyFixture();
  let s3: TestS3;
  let proxy: FaultProxy;
  let sut: StoreUnderTest;
  beforeEach(() => {
    ({ s3, proxy } = fixture);
    sut = fixture.store({}, 'when_required');
  });

  function abortFailures(): Record<string, unknown>[] {
    return sut.logs.lines.filter((line) => line['event'] === 'storage-error' && line['operation'] === 'abort-multipart-upload');
  }

  it('aborted while S3 is answering CreateMultipartUpload: the upload it created is still aborted', async () => {
    proxy.holdResponses('CreateMultipartUpload');
    const controller = new AbortController();
    const writing = sut.store.write('create-race.bin', sourceOf(bytes(12 * MIB)), { signal: controller.signal });
    // S3 has created the upload; its answer (the upload id) is held back.
    for (let attempt = 0; attempt < 100 && (await pendingMultipartUploads(s3)).length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await pendingMultipartUploads(s3)).length, 1, 'S3 created the upload');
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 50));
    proxy.release();
    await assert.rejects(writing, (error) => isStorageError(error, 'aborted'));
    assert.equal(proxy.count('AbortMultipartUpload'), 1);
    assert.deepEqual(await pendingMultipartUploads(s3), []);
    assert.equal(await objectContent(s3, key('create-race.bin')), undefined);
  });

  it('500 on a PutObject whose last byte is held back: the retry sends the whole body once the file is confirmed', async () => {
    proxy.failPutObjects(1);
    const data = bytes(300_000);
    let putsWhenConfirmed: number | undefined;
    const wholeFile = async (): Promise<void> => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      putsWhenConfirmed = proxy.count('PutObject');
    };
    await sut.store.write('retried-put.bin', sourceOf(data), { wholeFile });
    assert.equal(putsWhenConfirmed, 1, 'the first attempt failed while the file was not yet confirmed');
    assert.equal(proxy.count('PutObject'), 2, 'one retry');
    assert.equal(sha256((await objectContent(s3, key('retried-put.bin'))) ?? Buffer.alloc(0)), sha256(data));

    proxy.failPutObjects(1);
    const refusal = new Error('not the end of the file');
    const refused = sut.store.write('refused-put.bin', sourceOf(data), {
      wholeFile: () => new Promise((_resolve, reject) => setTimeout(() => reject(refusal), 200)),
    });
    await assert.rejects(refused, (error) => isStorageError(error, 'aborted'));
    assert.equal(proxy.count('PutObject'), 3, 'no retry of a file that was not whole');
    assert.equal(await objectContent(s3, key('refused-put.bin')), undefined);
  });

  it('500 on UploadPart after one part: rejects transient, old object unchanged, upload aborted', async () => {
    const old = bytes(3000);
    await putRaw(s3, key('five-hundred.bin'), old);
    proxy.failUploadPartsAfter(1, 'status-500');
    await assert.rejects(sut.store.write('five-hundred.bin', sourceOf(bytes(16 * MIB))), (error) =>
      isStorageError(error, 'transient'),
    );
    assert.ok(proxy.count('UploadPart') > 2, 'the SDK retried the failing part');
    assert.equal(proxy.count('AbortMultipartUpload'), 1);
    assert.equal(sha256((await objectContent(s3, key('five-hundred.bin'))) ?? Buffer.alloc(0)), sha256(old));
    assert.deepEqual(await pendingMultipartUploads(s3), []);
    const failure = sut.logs.lines.find((line) => line['event'] === 'storage-error' && line['operation'] === 'upload-part');
    assert.equal(failure?.['kind'], 'transient');
    assert.equal(failure?.['key'], key('five-hundred.bin'));
    assert.doesNotMatch(JSON.stringify(sut.logs.lines), /secretAccessKey|"test:test"|Authorization/i);
  });

  it('connections reset on UploadPart: rejects transient, no object, upload aborted', async () => {
    proxy.failUploadPartsAfter(0, 'reset');
    await assert.rejects(sut.store.write('reset.bin', sourceOf(bytes(12 * MIB))), (error) =>
      isStorageError(error, 'transient'),
    );
    assert.equal(await objectContent(s3, key('reset.bin')), undefined);
    assert.deepEqual(await pendingMultipartUploads(s3), []);
  });

  it('endpoint dead for a moment: the abort is retried and reaches S3 once it is back', async () => {
    const old = bytes(7000);
    await putRaw(s3, key('blip.bin'), old);
    proxy.failUploadPartsAfter(1, 'dead');
    // Back just after the first abort attempt was reset: the parts had failed for good.
    void proxy.whenSeen('AbortMultipartUpload').then(() => proxy.heal());
    await assert.rejects(sut.store.write('blip.bin', sourceOf(bytes(16 * MIB))), (error) =>
      isStorageError(error, 'transient'),
    );
    assert.ok(proxy.count('AbortMultipartUpload') >= 2, 'the abort was retried');
    assert.deepEqual(abortFailures(), []);
    assert.equal(sha256((await objectContent(s3, key('blip.bin'))) ?? Buffer.alloc(0)), sha256(old));
    assert.deepEqual(await pendingMultipartUploads(s3), []);
  });

  it('endpoint dead for good: rejects, logs the orphaned upload for the lifecycle rule', async () => {
    proxy.failUploadPartsAfter(1, 'dead');
    await assert.rejects(sut.store.write('gone.bin', sourceOf(bytes(16 * MIB))), (error) =>
      isStorageError(error, 'transient'),
    );
    const [failure] = abortFailures();
    assert.equal(failure?.['level'], 50); // error
    assert.equal(failure?.['key'], key('gone.bin'));
    const uploadId = failure?.['uploadId'];
    assert.equal(typeof uploadId, 'string');
    // What is real: S3 still holds the upload until the lifecycle rule (or an operator) removes it.
    assert.deepEqual(await pendingMultipartUploads(s3), [uploadId]);
    proxy.heal();
    await s3.client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key('gone.bin'), UploadId: String(uploadId) }));
    assert.deepEqual(await pendingMultipartUploads(s3), []);
    assert.equal(await objectContent(s3, key('gone.bin')), undefined);
  });

  it('memory stays bounded while S3 is slow: the source is read only as parts complete', async () => {
    const data = bytes(40 * MIB);
    let pulled = 0;
    let offset = 0;
    const source = new Readable({
      read() {
        if (offset >= data.length) {
          this.push(null);
          return;
        }
        const chunk = data.subarray(offset, offset + 64 * 1024);
        offset += chunk.length;
        pulled += chunk.length;
        this.push(chunk);
      },
    });
    proxy.holdUploadParts();
    const upload = sut.store.write('bounded.bin', source);
    // Wait until both buffers are uploading (held by the proxy), then until reading stops.
    for (let attempt = 0; attempt < 500 && proxy.count('UploadPart') < 2; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    let last = -1;
    while (pulled !== last) {
      last = pulled;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // 2 parts uploading (MAX_BUFFERS_PER_UPLOAD), 5 MiB each, plus the source's own 64 KiB buffer and one chunk.
    assert.ok(pulled <= 10 * MIB + 256 * 1024, `read ${pulled} bytes ahead of S3`);
    assert.ok(pulled >= 10 * MIB, `read only ${pulled} bytes`);
    proxy.release();
    const result = await upload;
    assert.equal(result.size, data.length);
    assert.equal(sha256((await objectContent(s3, key('bounded.bin'))) ?? Buffer.alloc(0)), sha256(data));
  });
});

describe('a task role whose ListBucket is limited to a prefix (HEAD of a missing key is 403)', () => {
  const fixture = faultProxyFixture();
  let s3: TestS3;
  let proxy: FaultProxy;
  let sut: StoreUnderTest;
  beforeEach(() => {
    ({ s3, proxy } = fixture);
    sut = fixture.store({}, 'when_required');
    proxy.headNotFoundAs403();
  });

  it('a missing file is not found, not denied; a folder is still a folder', async () => {
    assert.equal(await sut.store.stat('missing.txt'), undefined);
    await putRaw(s3, key('folder/inner.txt'), bytes(3));
    assert.equal((await sut.store.stat('folder'))?.kind, 'directory');
  });

  it('new files can be written (stat, then upload), appended to and renamed', async () => {
    await sut.store.write('new.txt', sourceOf(Buffer.from('hello')));
    await sut.store.write('new.txt', sourceOf(Buffer.from(' world')), { offset: 5 });
    assert.equal((await objectContent(s3, key('new.txt')))?.toString(), 'hello world');
    await sut.store.rename('new.txt', 'renamed.txt');
    assert.equal((await objectContent(s3, key('renamed.txt')))?.toString(), 'hello world');
  });

  it('an existing object whose HEAD is denied stays access-denied', async () => {
    await putRaw(s3, key('there.txt'), bytes(4));
    proxy.denyHeadObject();
    await assert.rejects(sut.store.stat('there.txt'), (error) => isStorageError(error, 'access-denied'));
  });
});
