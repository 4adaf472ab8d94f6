import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UploadBufferPool, type BufferLease } from '../../runtime/src/storage/upload-buffer-pool.ts';

/** Settles pending promise callbacks (grants run synchronously inside release()). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Tracks a pending acquire (methods, so that assertions do not narrow what they return). */
function pending(promise: Promise<BufferLease>): { lease(): BufferLease | undefined; error(): unknown } {
  let lease: BufferLease | undefined;
  let error: unknown;
  promise.then(
    (granted) => (lease = granted),
    (failure: unknown) => (error = failure),
  );
  return { lease: () => lease, error: () => error };
}

describe('UploadBufferPool', () => {
  it('hands out buffers of the asked size while there is room, and counts them', async () => {
    const pool = new UploadBufferPool({ capacityBytes: 100 });
    const a = await pool.acquire(60);
    const b = pool.tryAcquire(40);
    assert.equal(a.buffer.length, 60);
    assert.equal(b?.buffer.length, 40);
    assert.deepEqual(pool.stats(), { capacityBytes: 100, inUseBytes: 100, waiting: 0 });
    assert.equal(pool.tryAcquire(1), undefined, 'full');
    a.release();
    a.release(); // twice is once
    assert.equal(pool.stats().inUseBytes, 40);
  });

  it('never hands out more than its capacity: a request waits until enough comes back', async () => {
    const pool = new UploadBufferPool({ capacityBytes: 100 });
    const first = await pool.acquire(70);
    const second = pending(pool.acquire(50));
    await settle();
    assert.ok(second.lease() === undefined);
    assert.equal(pool.stats().waiting, 1);
    first.release();
    await settle();
    assert.equal(second.lease()?.buffer.length, 50);
    assert.deepEqual(pool.stats(), { capacityBytes: 100, inUseBytes: 50, waiting: 0 });
  });

  it('serves waiting requests first come, first served: small ones do not overtake a large one', async () => {
    const pool = new UploadBufferPool({ capacityBytes: 100 });
    const held = [await pool.acquire(50), await pool.acquire(50)];
    const large = pending(pool.acquire(100));
    const small = pending(pool.acquire(10));
    await settle();
    held[0]?.release();
    await settle();
    // 50 free would fit the small request, but the large one came first.
    assert.ok(small.lease() === undefined);
    assert.equal(pool.tryAcquire(10), undefined, 'tryAcquire does not jump the queue either');
    held[1]?.release();
    await settle();
    assert.equal(large.lease()?.buffer.length, 100);
    assert.ok(small.lease() === undefined);
    large.lease()?.release();
    await settle();
    assert.equal(small.lease()?.buffer.length, 10);
  });

  it('and large ones do not starve small ones: every request is served in arrival order', async () => {
    const pool = new UploadBufferPool({ capacityBytes: 100 });
    const order: string[] = [];
    const holder = await pool.acquire(100);
    const requests = [
      ['small-1', 10],
      ['large-1', 90],
      ['small-2', 10],
      ['large-2', 90],
    ] as const;
    const done = requests.map(([name, bytes]) =>
      pool.acquire(bytes).then((lease) => {
        order.push(name);
        // Each holder gives its buffer back a moment later, as an upload part would.
        setImmediate(() => lease.release());
      }),
    );
    holder.release();
    await Promise.all(done);
    assert.deepEqual(order, ['small-1', 'large-1', 'small-2', 'large-2']);
    await settle();
    assert.equal(pool.stats().inUseBytes, 0);
  });

  it('an aborted wait gives up its place and lets the next request through', async () => {
    const pool = new UploadBufferPool({ capacityBytes: 100 });
    const holder = await pool.acquire(60);
    const controller = new AbortController();
    const blocked = pending(pool.acquire(100, { signal: controller.signal }));
    const behind = pending(pool.acquire(40));
    await settle();
    assert.ok(behind.lease() === undefined, 'queued behind the large request');
    controller.abort(new Error('client gone'));
    await settle();
    assert.equal((blocked.error() as Error).message, 'client gone');
    assert.equal(behind.lease()?.buffer.length, 40, 'served once the request ahead left');
    assert.equal(pool.stats().waiting, 0);
    holder.release();
    await assert.rejects(pool.acquire(10, { signal: AbortSignal.abort(new Error('already')) }), /already/);
  });

  it('an abort after the grant changes nothing', async () => {
    const pool = new UploadBufferPool({ capacityBytes: 10 });
    const controller = new AbortController();
    const lease = await pool.acquire(10, { signal: controller.signal });
    controller.abort();
    assert.equal(pool.stats().inUseBytes, 10);
    lease.release();
    assert.equal(pool.stats().inUseBytes, 0);
  });

  it('reuses a released buffer of the same size instead of allocating a new one', async () => {
    const pool = new UploadBufferPool({ capacityBytes: 100 });
    const first = await pool.acquire(50);
    const memory = first.buffer.buffer;
    first.release();
    const again = await pool.acquire(50);
    assert.equal(again.buffer.buffer, memory);
  });

  it('drops kept buffers of another size when a request needs their room', async () => {
    const pool = new UploadBufferPool({ capacityBytes: 100 });
    const small = [await pool.acquire(30), await pool.acquire(30), await pool.acquire(30)];
    for (const lease of small) lease.release();
    // 90 bytes are kept for reuse, but they are not in use: 80 fit.
    const large = pool.tryAcquire(80);
    assert.equal(large?.buffer.length, 80);
    assert.equal(pool.stats().inUseBytes, 80);
  });

  it('refuses a request it could never serve', () => {
    const pool = new UploadBufferPool({ capacityBytes: 100 });
    assert.throws(() => pool.tryAcquire(101), RangeError);
    assert.throws(() => pool.tryAcquire(0), RangeError);
    assert.throws(() => new UploadBufferPool({ capacityBytes: 0 }), RangeError);
  });

  describe('shares', () => {
    const alice = ['user:alice', 'address:192.0.2.1'];
    const bob = ['user:bob', 'address:192.0.2.2'];

    it('one owner holds no more than its share; another is served at once from what is left', async () => {
      const pool = new UploadBufferPool({ capacityBytes: 40, shareBytes: 20 });
      const held = [await pool.acquire(10, { owners: alice }), await pool.acquire(10, { owners: alice })];
      const third = pending(pool.acquire(10, { owners: alice }));
      await settle();
      assert.equal(third.lease(), undefined, 'over the share: waits although the budget has room');
      assert.equal(pool.heldBy('user:alice'), 20);
      const other = pending(pool.acquire(10, { owners: bob }));
      await settle();
      assert.equal(other.lease()?.buffer.length, 10, 'not queued behind the owner over its share');
      held[0]!.release();
      await settle();
      assert.equal(third.lease()?.buffer.length, 10, 'served once its owner is back under its share');
      assert.equal(pool.heldBy('user:alice'), 20);
      for (const lease of [held[1]!, third.lease()!, other.lease()!]) lease.release();
      assert.equal(pool.heldBy('user:alice'), 0);
      assert.deepEqual(pool.stats(), { capacityBytes: 40, inUseBytes: 0, waiting: 0 });
    });

    it('the share holds per address too: another user from the same address waits', async () => {
      const pool = new UploadBufferPool({ capacityBytes: 40, shareBytes: 20 });
      const leases = [await pool.acquire(10, { owners: alice }), await pool.acquire(10, { owners: alice })];
      const sameAddress = pending(pool.acquire(10, { owners: ['user:carol', 'address:192.0.2.1'] }));
      await settle();
      assert.equal(sameAddress.lease(), undefined);
      leases[0]!.release();
      await settle();
      assert.ok(sameAddress.lease() !== undefined);
      sameAddress.lease()!.release();
      leases[1]!.release();
    });

    it('an owner holding nothing may take one buffer larger than the share', async () => {
      const pool = new UploadBufferPool({ capacityBytes: 40, shareBytes: 10 });
      const large = await pool.acquire(30, { owners: alice });
      assert.equal(pool.tryAcquire(10, bob)?.buffer.length, 10);
      large.release();
    });

    it('a second buffer for parallel parts may pass the share while nobody waits, not while someone does', async () => {
      const pool = new UploadBufferPool({ capacityBytes: 40, shareBytes: 10 });
      const first = await pool.acquire(10, { owners: alice });
      const parallel = pool.tryAcquire(10, alice);
      assert.ok(parallel !== undefined, 'alone: full speed');
      const filler = await pool.acquire(20, { owners: bob });
      const waiting = pending(pool.acquire(10, { owners: ['user:dave'] }));
      await settle();
      assert.equal(waiting.lease(), undefined);
      assert.equal(pool.tryAcquire(10, alice), undefined, 'someone waits');
      parallel.release();
      await settle();
      assert.ok(waiting.lease() !== undefined);
      for (const lease of [first, filler, waiting.lease()!]) lease.release();
      assert.deepEqual(pool.stats(), { capacityBytes: 40, inUseBytes: 0, waiting: 0 });
    });
  });
});
