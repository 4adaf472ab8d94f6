import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { MIB } from '../../runtime/src/storage/s3/part-size-plan.ts';
import type { FaultProxy } from '../support/fault-proxy.ts';
import { TEST_S3_IMPLEMENTATION } from '../support/s3-server.ts';
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
 * Issue 17, row 7: APPE of 1 byte to a 64 MiB file whose name holds '%' downloaded
 * and re-uploaded all 64 MiB on every store, because Ceph RGW decodes an UploadPartCopy
 * source twice. The store now copies inside S3 wherever a probe (once per store) finds
 * such names copied right, and reads back only where not. Runs against fauxqs (which
 * copies them right) and, in `npm run test:rgw`, against Ceph RGW (which does not).
 */
describe("appends to names with '%': copied inside S3 where the store does it right", () => {
  const fixture = faultProxyFixture();
  let s3: TestS3;
  let proxy: FaultProxy;
  let sut: StoreUnderTest;
  const KEPT = 6 * MIB;
  /** Ceph RGW decodes the copy source twice (rgw_rest_s3.cc); fauxqs and AWS S3 once. */
  const STORE_COPIES_PERCENT_RIGHT = TEST_S3_IMPLEMENTATION !== 'rgw';
  beforeEach(() => {
    ({ s3, proxy } = fixture);
  });

  const probes = (): Record<string, unknown>[] => sut.logs.lines.filter((line) => line['event'] === 'copy-probe');

  async function appendTo(name: string): Promise<{ downloaded: number; partCopies: number }> {
    const own = bytes(KEPT);
    await putRaw(s3, key(name), own);
    const downloaded = proxy.bytes('GetObject').received;
    const partCopies = proxy.count('UploadPartCopy');
    const added = bytes(1);
    await sut.store.write(name, sourceOf(added), { offset: own.length });
    assert.equal(sha256((await objectContent(s3, key(name))) ?? Buffer.alloc(0)), sha256(Buffer.concat([own, added])), 'the file is its old bytes and the new one');
    return { downloaded: proxy.bytes('GetObject').received - downloaded, partCopies: proxy.count('UploadPartCopy') - partCopies };
  }

  async function probeLeftovers(): Promise<number> {
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: key('.ftp-s3-bridge-probe/') }));
    return (listed.Contents ?? []).length + (await pendingMultipartUploads(s3)).length;
  }

  it(`detects once whether '%' names copy right (${STORE_COPIES_PERCENT_RIGHT ? 'they do here: no byte comes back' : 'not here: read back'}), and leaves nothing behind`, async () => {
    sut = fixture.store();
    const first = await appendTo('100%41 done.bin');
    const [probe] = probes();
    assert.ok(probe, 'the first append of a kept start under a % name probes the store');
    assert.equal(probe['percentNames'], STORE_COPIES_PERCENT_RIGHT ? 'copy' : 'read-back');
    assert.equal(probe['conclusive'], true);
    if (STORE_COPIES_PERCENT_RIGHT) {
      assert.equal(first.downloaded, 0, 'the kept 6 MiB stay inside S3');
      assert.ok(first.partCopies >= 2, 'the probe and the kept start are part copies');
    } else {
      assert.ok(first.downloaded >= KEPT, 'the kept start is read back where a copy would read another object');
    }
    const second = await appendTo('50%25 more.bin');
    assert.equal(probes().length, 1, 'one probe per store');
    if (STORE_COPIES_PERCENT_RIGHT) assert.equal(second.downloaded, 0);
    assert.equal(await probeLeftovers(), 0, 'no scratch object and no multipart upload is left');
  });

  it('a store that decodes the copy source twice is detected, and its appends read back the right bytes', async () => {
    // RGW does it itself; against fauxqs the proxy models it.
    if (!s3.external) proxy.rewriteCopySource((name) => decodeURIComponent(name));
    sut = fixture.store();
    await putRaw(s3, key('twiceA.bin'), bytes(KEPT));
    const appended = await appendTo('twice%41.bin');
    assert.equal(probes()[0]?.['percentNames'], 'read-back');
    assert.ok(appended.downloaded >= KEPT);
    assert.equal(await probeLeftovers(), 0);
  });

  it('S3_COPY_PERCENT_NAMES=read-back and =copy are obeyed without a probe', async () => {
    sut = fixture.store({ percentCopy: 'read-back' });
    const readBack = await appendTo('set%41back.bin');
    assert.equal(readBack.partCopies, 0);
    assert.ok(readBack.downloaded >= KEPT);
    assert.equal(probes().length, 0);
    sut.client.destroy();
    if (!STORE_COPIES_PERCENT_RIGHT) return;
    sut = fixture.store({ percentCopy: 'copy' });
    const copied = await appendTo('set%41copy.bin');
    assert.equal(copied.downloaded, 0);
    assert.equal(copied.partCopies, 1, 'the kept start only: no probe');
    assert.equal(probes().length, 0);
  });
});
