import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { beforeEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { MIB } from '../../runtime/src/storage/s3/part-size-plan.ts';
import { isStorageError } from '../../runtime/src/storage/storage-error.ts';
import type { FaultProxy } from '../support/fault-proxy.ts';
import { bytes, key, faultProxyFixture, putRaw, sha256, sourceOf, type StoreUnderTest, type TestS3 } from '../support/store-fixture.ts';

/** The S3 client's socket timeout here: a paused body used to fail after this long. */
const SOCKET_TIMEOUT_MS = 1000;

/** Reads `body` to its end, stopping for `pauseMs` (and running `meanwhile`) once `pauseAt` bytes have arrived. */
async function readWithPause(body: Readable, pauseAt: number, pauseMs: number, meanwhile?: () => Promise<void>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  let paused = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    received += chunk.length;
    if (!paused && received >= pauseAt) {
      paused = true;
      await Promise.all([delay(pauseMs), meanwhile?.()]);
    }
  }
  return Buffer.concat(chunks);
}

/** Issue 17, row 4: the reader's pace is not the store's failure. */
describe('a download whose reader stops reading', () => {
  const fixture = faultProxyFixture();
  let s3: TestS3;
  let proxy: FaultProxy;
  let sut: StoreUnderTest;
  /** Writes the fixtures with the default socket timeout: a 32 MiB write may pause longer than the reader's 1 s on a loaded machine. */
  let writer: StoreUnderTest;
  beforeEach(() => {
    ({ s3, proxy } = fixture);
    sut = fixture.store({ readReleaseMs: 300 }, 'when_required', { socketTimeoutMs: SOCKET_TIMEOUT_MS });
    writer = fixture.store({}, 'when_required');
  });

  const storageErrors = (): unknown[] => sut.logs.lines.filter((line) => line.event === 'storage-error');

  it('pausing longer than the S3 socket timeout loses nothing and is no storage error', async () => {
    const data = bytes(32 * MIB);
    await writer.store.write('slow/whole.bin', sourceOf(data));
    const { body } = await sut.store.read('slow/whole.bin');
    const read = await readWithPause(body, 1 * MIB, 3 * SOCKET_TIMEOUT_MS);
    assert.equal(read.length, data.length);
    assert.equal(sha256(read), sha256(data));
    assert.deepEqual(storageErrors(), []);
    assert.equal(proxy.count('GetObject'), 2, 'the rest fetched again after the pause');
    const resumed = proxy.headersSeen('GetObject')[1];
    assert.match(String(resumed?.range), /^bytes=\d+-$/);
    assert.ok(resumed?.['if-match'] !== undefined, 'of the same version');
  });

  it('from an offset too', async () => {
    const data = bytes(32 * MIB);
    await writer.store.write('slow/offset.bin', sourceOf(data));
    const { body, size } = await sut.store.read('slow/offset.bin', { offset: 3 * MIB + 5 });
    assert.equal(size, data.length);
    const read = await readWithPause(body, 1 * MIB, 3 * SOCKET_TIMEOUT_MS);
    assert.equal(sha256(read), sha256(data.subarray(3 * MIB + 5)));
    assert.deepEqual(storageErrors(), []);
  });

  it('the file replaced during the pause: the download fails as a conflict, never mixing two versions', async () => {
    await writer.store.write('slow/replaced.bin', sourceOf(bytes(32 * MIB)));
    const { body } = await sut.store.read('slow/replaced.bin');
    const replace = (): Promise<unknown> => writer.store.write('slow/replaced.bin', sourceOf(Buffer.alloc(32 * MIB, 1)));
    await assert.rejects(
      readWithPause(body, 1 * MIB, 3 * SOCKET_TIMEOUT_MS, async () => void (await replace())),
      (error) => isStorageError(error, 'conflict'),
    );
    assert.deepEqual(storageErrors(), []);
  });

  it('a body S3 stops sending while it is being read is still a storage error', async () => {
    await putRaw(s3, key('slow/stalled-s3.bin'), bytes(4 * MIB));
    proxy.stallGetObjectBodiesAfter(1 * MIB);
    const { body } = await sut.store.read('slow/stalled-s3.bin');
    await assert.rejects(readWithPause(body, 8 * MIB, 0), (error) => isStorageError(error, 'transient'));
    assert.equal(storageErrors().length, 1);
    assert.equal(proxy.count('GetObject'), 1, 'not fetched again: the reader was reading');
  });
});
