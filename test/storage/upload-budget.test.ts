import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { beforeEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { UploadBufferUse } from '../../runtime/src/storage/object-store.ts';
import { MIB } from '../../runtime/src/storage/s3/part-size-plan.ts';
import { isStorageError } from '../../runtime/src/storage/storage-error.ts';
import { UploadBufferPool } from '../../runtime/src/storage/upload-buffer-pool.ts';
import type { FaultProxy } from '../support/fault-proxy.ts';
import { waitUntil } from '../support/wait-until.ts';
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

/** A source that sends `data` up to `stallAt` bytes, then nothing until resume() (like a stalled client). */
function stallingSource(data: Buffer, stallAt: number): { source: Readable; resume: () => void } {
  let offset = 0;
  let limit = stallAt;
  let starved = false;
  const pushNext = (stream: Readable): void => {
    if (offset >= data.length) {
      stream.push(null);
    } else if (offset >= limit) {
      starved = true; // read() is not called again until something is pushed
    } else {
      const end = Math.min(offset + 64 * 1024, limit);
      stream.push(data.subarray(offset, end));
      offset = end;
    }
  };
  const source = new Readable({
    read() {
      pushNext(this);
    },
  });
  return {
    source,
    resume: () => {
      limit = data.length;
      if (starved) {
        starved = false;
        pushNext(source);
      }
    },
  };
}

/** Uploads sharing one small pool; parts are 5 MiB, so the pool's size counts parts. */
describe('uploads sharing one buffer budget', () => {
  const fixture = faultProxyFixture();
  let s3: TestS3;
  let proxy: FaultProxy;
  let sut: StoreUnderTest;
  let pool: UploadBufferPool;
  beforeEach(() => {
    ({ s3, proxy } = fixture);
  });

  function storeWithBudget(
    budgetBytes: number,
    overrides: { maxFileBytes?: number; shareBytes?: number; uploadStallMs?: number } = {},
  ): void {
    const { shareBytes, ...storeOverrides } = overrides;
    pool = new UploadBufferPool({ capacityBytes: budgetBytes, shareBytes });
    sut = fixture.store({ buffers: pool, ...storeOverrides }, 'when_required');
  }

  /**
   * An upload whose client sent 1 MiB and stalled: it holds the one-part budget until
   * finish() lets the rest through, and resolves once it is stored.
   */
  async function holdTheBudget(path: string): Promise<{ finish(): Promise<unknown> }> {
    const holder = stallingSource(bytes(6 * MIB), 1 * MIB);
    const holding = sut.store.write(path, holder.source);
    await waitUntil('the first upload to hold the budget', () => pool.stats().inUseBytes === pool.capacityBytes, { intervalMs: 20 });
    return {
      finish: () => {
        holder.resume();
        return holding;
      },
    };
  }

  async function assertAllReturned(): Promise<void> {
    assert.deepEqual(pool.stats(), { capacityBytes: pool.capacityBytes, inUseBytes: 0, waiting: 0 });
    assert.deepEqual(await pendingMultipartUploads(s3), []);
  }

  it('many uploads, a budget of two parts: every file arrives byte for byte, the rest waited', async () => {
    storeWithBudget(10 * MIB);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, pool.stats().inUseBytes)), 1);
    const files = Array.from({ length: 6 }, (_, index) => bytes(12 * MIB + index * 1000));
    const uses: UploadBufferUse[] = [];
    try {
      await Promise.all(
        files.map((data, index) =>
          sut.store.write(`shared/${index}.bin`, sourceOf(data), { onBufferUse: (use) => uses.push(use) }),
        ),
      );
    } finally {
      clearInterval(sampler);
    }
    for (const [index, data] of files.entries()) {
      assert.equal(sha256((await objectContent(s3, key(`shared/${index}.bin`))) ?? Buffer.alloc(0)), sha256(data), `file ${index}`);
    }
    assert.ok(peak <= 10 * MIB, `peak ${peak}`);
    assert.equal(uses.length, files.length);
    for (const use of uses) assert.ok(use.budgetInUseBytes <= 10 * MIB && use.budgetInUseBytes >= 5 * MIB, JSON.stringify(use));
    assert.ok(uses.some((use) => use.waitMs > 0), 'some uploads waited for the budget');
    await assertAllReturned();
  });

  it('a budget of exactly one part: uploads take turns, none deadlocks, a small file too', async () => {
    storeWithBudget(5 * MIB);
    const files = [bytes(11 * MIB), bytes(11 * MIB), bytes(11 * MIB), bytes(3000)];
    await Promise.all(files.map((data, index) => sut.store.write(`turns/${index}.bin`, sourceOf(data))));
    for (const [index, data] of files.entries()) {
      assert.equal(sha256((await objectContent(s3, key(`turns/${index}.bin`))) ?? Buffer.alloc(0)), sha256(data));
    }
    assert.equal(proxy.count('PutObject'), 1, 'the small file is still one PutObject');
    await assertAllReturned();
  });

  it('fair: with one buffer, a small file waits for one part of a large one, not for the whole file', async () => {
    storeWithBudget(5 * MIB);
    const finished: string[] = [];
    const large = sut.store.write('fair/large.bin', sourceOf(bytes(30 * MIB))).then(() => finished.push('large'));
    const small = sut.store.write('fair/small.bin', sourceOf(bytes(6 * MIB))).then(() => finished.push('small'));
    await Promise.all([large, small]);
    assert.deepEqual(finished, ['small', 'large']);
    await assertAllReturned();
  });

  it('an upload whose client sends nothing yet holds no buffer', async () => {
    storeWithBudget(5 * MIB);
    const { source, resume } = stallingSource(bytes(1000), 0);
    const writing = sut.store.write('idle.bin', source);
    await delay(100);
    assert.equal(pool.stats().inUseBytes, 0);
    resume();
    await writing;
    await assertAllReturned();
  });

  it('a client gone while waiting for a buffer gives up its place at once; the others carry on', async () => {
    storeWithBudget(5 * MIB);
    const holder = await holdTheBudget('gone/holder.bin');
    const uses: UploadBufferUse[] = [];
    const waiter = new Readable({ read() {} });
    waiter.push(bytes(64 * 1024));
    const waiting = sut.store.write('gone/waiter.bin', waiter, { onBufferUse: (use) => uses.push(use) });
    await waitUntil('the second upload to queue', () => pool.stats().waiting === 1, { intervalMs: 20 });
    await delay(400);
    const started = Date.now();
    waiter.destroy(new Error('data connection reset'));
    await assert.rejects(waiting, (error) => isStorageError(error, 'aborted'));
    assert.ok(Date.now() - started < 1000, 'without waiting for the buffer');
    assert.equal(pool.stats().waiting, 0);
    assert.equal(uses.length, 1, 'buffer use is reported on failure too');
    // With the time it waited (issue 17, row 3: logged as 0).
    assert.ok(uses[0]!.waitMs >= 350, `waitMs ${uses[0]!.waitMs}`);
    await holder.finish();
    assert.equal(await objectContent(s3, key('gone/waiter.bin')), undefined);
    await assertAllReturned();
  });

  it('a caller abort while waiting for a buffer fails the upload as aborted', async () => {
    storeWithBudget(5 * MIB);
    const holder = await holdTheBudget('abort/holder.bin');
    const controller = new AbortController();
    const waiting = sut.store.write('abort/waiter.bin', sourceOf(bytes(6 * MIB)), { signal: controller.signal });
    await waitUntil('the second upload to queue', () => pool.stats().waiting === 1, { intervalMs: 20 });
    controller.abort();
    await assert.rejects(waiting, (error) => isStorageError(error, 'aborted'));
    await holder.finish();
    await assertAllReturned();
  });

  it('a resume that sends its kept start again waits for the budget before reading it', async () => {
    storeWithBudget(5 * MIB);
    const old = bytes(3 * MIB);
    await putRaw(s3, key('resume/head.bin'), old);
    const holder = await holdTheBudget('resume/holder.bin');
    const tail = bytes(1 * MIB);
    const resuming = sut.store.write('resume/head.bin', sourceOf(tail), { offset: 2 * MIB });
    await waitUntil('the resume to queue', () => pool.stats().waiting === 1, { intervalMs: 20 });
    assert.equal(proxy.count('GetObject'), 0, 'the kept start is not read into memory outside the budget');
    await Promise.all([holder.finish(), resuming]);
    assert.equal(proxy.count('GetObject'), 1);
    const expected = Buffer.concat([old.subarray(0, 2 * MIB), tail]);
    assert.equal(sha256((await objectContent(s3, key('resume/head.bin'))) ?? Buffer.alloc(0)), sha256(expected));
    await assertAllReturned();
  });

  it('every buffer comes back when S3 fails mid-upload', async () => {
    storeWithBudget(20 * MIB);
    proxy.failUploadPartsAfter(1, 'status-500');
    const uses: UploadBufferUse[] = [];
    await assert.rejects(sut.store.write('fails.bin', sourceOf(bytes(16 * MIB)), { onBufferUse: (use) => uses.push(use) }), (error) =>
      isStorageError(error, 'transient'),
    );
    assert.equal(uses.length, 1);
    await assertAllReturned();
  });

  describe('a file larger than the largest the server accepts', () => {
    it('is refused as too-large once it passes the limit, and its multipart upload is aborted', async () => {
      storeWithBudget(20 * MIB, { maxFileBytes: 12 * MIB });
      const old = bytes(2000);
      await putRaw(s3, key('huge.bin'), old);
      const source = sourceOf(bytes(20 * MIB));
      await assert.rejects(sut.store.write('huge.bin', source), (error) => isStorageError(error, 'too-large'));
      assert.equal(source.destroyed, true);
      assert.equal(proxy.count('CreateMultipartUpload'), 1);
      assert.equal(proxy.count('AbortMultipartUpload'), 1);
      assert.equal(sha256((await objectContent(s3, key('huge.bin'))) ?? Buffer.alloc(0)), sha256(old));
      await assertAllReturned();
    });

    it('within part 1: refused before anything reaches S3', async () => {
      storeWithBudget(20 * MIB, { maxFileBytes: 1 * MIB });
      await assert.rejects(sut.store.write('huge-small.bin', sourceOf(bytes(2 * MIB))), (error) => isStorageError(error, 'too-large'));
      assert.equal(proxy.count('PutObject') + proxy.count('CreateMultipartUpload'), 0);
      assert.equal(await objectContent(s3, key('huge-small.bin')), undefined);
      await assertAllReturned();
    });

    it('exactly at the limit is accepted', async () => {
      storeWithBudget(20 * MIB, { maxFileBytes: 12 * MIB });
      const data = bytes(12 * MIB);
      await sut.store.write('at-limit.bin', sourceOf(data));
      assert.equal(sha256((await objectContent(s3, key('at-limit.bin'))) ?? Buffer.alloc(0)), sha256(data));
    });

    it('the limit follows the budget: a quarter of it per part, 10,000 parts', () => {
      storeWithBudget(32 * MIB);
      // 5 MiB parts (the fixture's) for 500 parts, then 8 MiB (a quarter of 32 MiB).
      assert.equal(sut.store.maxFileBytes, 500 * 5 * MIB + 9500 * 8 * MIB);
    });
  });

  describe('held hostage (issue 17, row 3)', () => {
    const alice = ['user:alice', 'address:192.0.2.1'];

    it("one user's stalled uploads hold no more than its share: another user's upload goes through at once", async () => {
      storeWithBudget(20 * MIB, { shareBytes: 10 * MIB, uploadStallMs: 60_000 });
      const stalled = Array.from({ length: 4 }, (_, index) => {
        const { source } = stallingSource(bytes(6 * MIB), 1000 + index);
        const writing = sut.store.write(`hostage/stalled-${index}.bin`, source, { bufferOwners: alice });
        writing.catch(() => undefined);
        return { source, writing };
      });
      await waitUntil("alice's uploads to take her share", () => pool.heldBy('user:alice') === 10 * MIB && pool.stats().waiting === 2, { intervalMs: 20 });
      const started = Date.now();
      const data = bytes(1024);
      await sut.store.write('hostage/bob.bin', sourceOf(data), { bufferOwners: ['user:bob', 'address:192.0.2.2'] });
      assert.ok(Date.now() - started < 5000, `bob waited ${Date.now() - started} ms`);
      assert.equal(sha256((await objectContent(s3, key('hostage/bob.bin'))) ?? Buffer.alloc(0)), sha256(data));
      for (const { source, writing } of stalled) {
        source.destroy(new Error('client gone'));
        await assert.rejects(writing, (error) => isStorageError(error, 'aborted'));
      }
      await assertAllReturned();
    });

    it('an upload holding a buffer that receives nothing fails once the stall window passes, stores nothing and gives the buffer back', async () => {
      storeWithBudget(5 * MIB, { uploadStallMs: 600 });
      const { source } = stallingSource(bytes(6 * MIB), 100 * 1024);
      const started = Date.now();
      const uses: UploadBufferUse[] = [];
      const writing = sut.store.write('stall/nothing.bin', source, { onBufferUse: (use) => uses.push(use) });
      const outcome = await Promise.race([writing.then(() => 'stored', () => 'failed'), delay(10_000, 'still running')]);
      assert.equal(outcome, 'failed');
      await assert.rejects(writing, (error) => isStorageError(error, 'aborted'));
      assert.ok(Date.now() - started >= 500, 'not before the window');
      assert.equal(source.destroyed, true);
      assert.equal(uses.length, 1);
      assert.ok(sut.logs.lines.some((line) => line.event === 'upload-stalled' && line.heldBytes === 5 * MIB), 'logged');
      assert.equal(await objectContent(s3, key('stall/nothing.bin')), undefined);
      await assertAllReturned();
    });

    it('a client trickling a few bytes a second stalls too; one sending steadily does not', async () => {
      storeWithBudget(10 * MIB, { uploadStallMs: 1000 });
      let trickled = 0;
      const trickle = new Readable({
        read() {
          if (trickled >= 1000) return;
          trickled += 1;
          setTimeout(() => this.push(Buffer.from('x')), 100);
        },
      });
      const trickling = sut.store.write('stall/trickle.bin', trickle);
      const outcome = await Promise.race([trickling.then(() => 'stored', () => 'failed'), delay(10_000, 'still running')]);
      assert.equal(outcome, 'failed');
      await assert.rejects(trickling, (error) => isStorageError(error, 'aborted'));

      // 8 KiB every 200 ms (40 KiB/s) for 3 s: well above 1 KiB/s, so stored whole.
      const data = bytes(120 * 1024);
      let sent = 0;
      const steady = new Readable({
        read() {
          setTimeout(() => {
            this.push(sent < data.length ? data.subarray(sent, sent + 8 * 1024) : null);
            sent += 8 * 1024;
          }, 200);
        },
      });
      await sut.store.write('stall/steady.bin', steady);
      assert.equal(sha256((await objectContent(s3, key('stall/steady.bin'))) ?? Buffer.alloc(0)), sha256(data));
      assert.equal(await objectContent(s3, key('stall/trickle.bin')), undefined);
      await assertAllReturned();
    });
  });
});
