import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { uploadStream } from '../../runtime/src/storage/s3/multipart-upload.ts';
import { MIB } from '../../runtime/src/storage/s3/part-size-plan.ts';
import { UploadBufferPool } from '../../runtime/src/storage/upload-buffer-pool.ts';
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
 * Where a store deviates from AWS S3 in server-side copies, the bridge is still safe.
 * Against Ceph RGW 16 (TEST_S3_ENDPOINT, test/s3/rgw.sh) the deviations are the store's
 * own; against fauxqs the fault proxy models them.
 */
describe('server-side copies where the store deviates', () => {
  const fixture = faultProxyFixture();
  let s3: TestS3;
  let proxy: FaultProxy;
  let sut: StoreUnderTest;
  beforeEach(() => {
    ({ s3, proxy } = fixture);
    sut = fixture.store({}, 'when_required');
  });

  const storageErrors = (operation: string): Record<string, unknown>[] =>
    sut.logs.lines.filter((line) => line['event'] === 'storage-error' && line['operation'] === operation);

  describe('copy source decoded twice (Ceph RGW 16 UploadPartCopy): names with % keep their own bytes', () => {
    beforeEach(() => {
      // RGW does it itself; its requests are signed, so the proxy must not touch them.
      if (!s3.external) proxy.rewriteCopySource((name) => decodeURIComponent(name));
    });

    for (const name of ['pct%41.bin', 'pct%20x.bin', 'pct%x.bin']) {
      it(`APPE and resume onto ${name} (6 MiB), beside the file its name decodes to`, async () => {
        const own = bytes(6 * MIB);
        const other = bytes(6 * MIB);
        await putRaw(s3, key(name), own);
        if (name === 'pct%41.bin') await putRaw(s3, key('pctA.bin'), other);
        if (name === 'pct%20x.bin') await putRaw(s3, key('pct x.bin'), other);
        const added = bytes(1024);
        await sut.store.write(name, sourceOf(added), { offset: own.length });
        assert.equal(sha256((await objectContent(s3, key(name))) ?? Buffer.alloc(0)), sha256(Buffer.concat([own, added])));
        const resumed = bytes(2048);
        await sut.store.write(name, sourceOf(resumed), { offset: 5 * MIB + 1 });
        const expected = Buffer.concat([own.subarray(0, 5 * MIB + 1), resumed]);
        assert.equal(sha256((await objectContent(s3, key(name))) ?? Buffer.alloc(0)), sha256(expected));
        assert.deepEqual(await pendingMultipartUploads(s3), []);
      });
    }
  });

  it('226 means verified: a part copy that read another object is never stored (transient, logged, no upload left)', async () => {
    const own = bytes(6 * MIB);
    await putRaw(s3, key('verified/own.bin'), own);
    await putRaw(s3, key('verified/other.bin'), bytes(6 * MIB));
    // The proxy re-signs nothing: against RGW the rewritten request would be refused, not misread.
    if (s3.external) return;
    proxy.rewriteCopySource((name) => name.replace('own.bin', 'other.bin'));
    await assert.rejects(sut.store.write('verified/own.bin', sourceOf(bytes(1024)), { offset: own.length }), (error) =>
      isStorageError(error, 'transient'),
    );
    assert.equal(sha256((await objectContent(s3, key('verified/own.bin'))) ?? Buffer.alloc(0)), sha256(own));
    const [logged] = storageErrors('verify-copy');
    assert.ok(logged, 'a storage-error names the failed verification');
    assert.match(String(logged['problem']), /ETag/);
    assert.deepEqual(await pendingMultipartUploads(s3), []);
  });

  it('copy source decoded twice, had the store been asked: the verification refuses the other object (transient)', async () => {
    const own = bytes(6 * MIB);
    await putRaw(s3, key('pct%41.bin'), own);
    await putRaw(s3, key('pctA.bin'), bytes(6 * MIB));
    if (!s3.external) proxy.rewriteCopySource((name) => decodeURIComponent(name));
    // The store no longer sends such a copy (it reads the kept bytes back): the uploader
    // is asked directly, as the bridge before this fix did.
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key('pct%41.bin') }));
    const { client, logs } = sut;
    await assert.rejects(
      uploadStream({
        client,
        bucket: s3.bucket,
        key: key('pct%41.bin'),
        source: sourceOf(bytes(10)),
        buffers: new UploadBufferPool({ capacityBytes: 64 * MIB }),
        firstPartBytes: 5 * MIB,
        maxPartBytes: 5 * MIB,
        maxObjectBytes: 64 * MIB,
        logger: logs.logger,
        copy: { sourceKey: key('pct%41.bin'), bytes: own.length, sourceSize: own.length, etag: head.ETag, md5Etag: head.ETag },
        abortRetryDelaysMs: [100],
      }),
      (error) => isStorageError(error, 'transient'),
    );
    assert.equal(sha256((await objectContent(s3, key('pct%41.bin'))) ?? Buffer.alloc(0)), sha256(own));
    assert.match(String(storageErrors('verify-copy')[0]?.['problem']), /ETag/);
    assert.deepEqual(await pendingMultipartUploads(s3), []);
  });

  it('copy-source-if-match ignored (Ceph RGW 16): an overwrite before the part copy is not overwritten in turn', async () => {
    const old = bytes(6 * MIB);
    const newer = bytes(6 * MIB);
    await putRaw(s3, key('raced.bin'), old);
    if (!s3.external) proxy.ignoreCopySourceIfMatch();
    proxy.beforeNext('UploadPartCopy', () => putRaw(s3, key('raced.bin'), newer));
    await assert.rejects(sut.store.write('raced.bin', sourceOf(bytes(100)), { offset: old.length }), (error) =>
      isStorageError(error, 'conflict'),
    );
    assert.equal(sha256((await objectContent(s3, key('raced.bin'))) ?? Buffer.alloc(0)), sha256(newer));
    assert.deepEqual(await pendingMultipartUploads(s3), []);
  });

  describe('content type from the name', () => {
    const contentType = async (path: string): Promise<string | undefined> =>
      (await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key(path) }))).ContentType;

    it('single-request and multipart uploads, append, resume and rename keep it', async () => {
      await sut.store.write('types/a.txt', sourceOf(Buffer.from('hello')));
      assert.equal(await contentType('types/a.txt'), 'text/plain');
      await sut.store.write('types/a.txt', sourceOf(Buffer.from(' world')), { offset: 5 });
      assert.equal(await contentType('types/a.txt'), 'text/plain');
      await sut.store.write('types/big.csv', sourceOf(bytes(11 * MIB)));
      assert.equal(await contentType('types/big.csv'), 'text/csv');
      await sut.store.write('types/big.csv', sourceOf(bytes(1024)), { offset: 11 * MIB });
      assert.equal(await contentType('types/big.csv'), 'text/csv');
      await sut.store.write('types/big.csv', sourceOf(bytes(1024)), { offset: 6 * MIB });
      assert.equal(await contentType('types/big.csv'), 'text/csv');
      await sut.store.rename('types/big.csv', 'types/moved.bin');
      assert.equal(await contentType('types/moved.bin'), 'text/csv');
      await sut.store.write('types/no-extension', sourceOf(bytes(10)));
      assert.equal(await contentType('types/no-extension'), 'application/octet-stream');
      await sut.store.write('types/big-no-extension', sourceOf(bytes(6 * MIB)));
      assert.equal(await contentType('types/big-no-extension'), 'application/octet-stream');
    });
  });
});
