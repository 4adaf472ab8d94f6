import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ConcurrencyLimit, QueueFullError } from '../../runtime/src/auth/concurrency-limit.ts';

test('no more than the limit run at once, all finish, in arrival order', async () => {
  const limit = new ConcurrencyLimit({ limit: 2 });
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const results = await Promise.all(
    Array.from({ length: 7 }, (_, index) =>
      limit.run(async () => {
        started.push(index);
        running += 1;
        peak = Math.max(peak, running);
        await delay(5);
        running -= 1;
        return index * 10;
      }),
    ),
  );
  assert.equal(peak, 2);
  assert.deepEqual(results, [0, 10, 20, 30, 40, 50, 60]);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
});

test('a failing task passes its error on and frees its slot', async () => {
  const limit = new ConcurrencyLimit({ limit: 1 });
  await assert.rejects(limit.run(() => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(await limit.run(async () => 'next'), 'next');
  assert.throws(() => new ConcurrencyLimit({ limit: 0 }), RangeError);
});

test('a waiting task whose signal aborts leaves the queue without running', async () => {
  const limit = new ConcurrencyLimit({ limit: 1 });
  let release: () => void = () => undefined;
  const first = limit.run(() => new Promise<void>((resolve) => (release = resolve)));
  const gone = new AbortController();
  let ran = false;
  const second = limit.run(async () => {
    ran = true;
  }, { signal: gone.signal });
  assert.equal(limit.waiting, 1);
  gone.abort(new Error('client gone'));
  await assert.rejects(second, /client gone/);
  assert.equal(limit.waiting, 0);
  release();
  await first;
  assert.equal(ran, false);
  assert.equal(await limit.run(async () => 'next'), 'next', 'the slot was handed on, not lost');
  await assert.rejects(limit.run(async () => 'never', { signal: gone.signal }), /client gone/, 'an aborted signal does not even queue');
});

test('waiting tasks are served round-robin across keys: a crowd under one key does not hold up another', async () => {
  const limit = new ConcurrencyLimit({ limit: 1 });
  let release: () => void = () => undefined;
  const first = limit.run(() => new Promise<void>((resolve) => (release = resolve)));
  const order: string[] = [];
  const task = (name: string) => async () => {
    order.push(name);
  };
  const queued = [
    ...Array.from({ length: 5 }, (_, index) => limit.run(task(`bob-${index}`), { key: 'bob' })),
    limit.run(task('acme'), { key: 'acme' }),
    limit.run(task('bob-5'), { key: 'bob' }),
  ];
  release();
  await Promise.all([first, ...queued]);
  assert.deepEqual(order, ['bob-0', 'acme', 'bob-1', 'bob-2', 'bob-3', 'bob-4', 'bob-5']);
});

test('past maxWaiting a task is refused at once; a freed place takes the next one', async () => {
  const limit = new ConcurrencyLimit({ limit: 1, maxWaiting: 2 });
  let release: () => void = () => undefined;
  const first = limit.run(() => new Promise<void>((resolve) => (release = resolve)));
  const waiting = [limit.run(async () => 1, { key: 'a' }), limit.run(async () => 2, { key: 'b' })];
  assert.equal(limit.full, true);
  await assert.rejects(limit.run(async () => 3, { key: 'c' }), QueueFullError);
  release();
  await first;
  assert.deepEqual(await Promise.all(waiting), [1, 2]);
  assert.equal(limit.full, false);
  assert.equal(await limit.run(async () => 4), 4);
});

test('turnsBefore: a key with none waiting is served after one turn of each other key; a crowded key after all of it', async () => {
  const limit = new ConcurrencyLimit({ limit: 1 });
  let release: () => void = () => undefined;
  const first = limit.run(() => new Promise<void>((resolve) => (release = resolve)));
  const queued = [
    ...Array.from({ length: 5 }, () => limit.run(async () => undefined, { key: 'bob' })),
    limit.run(async () => undefined, { key: 'acme' }),
  ];
  assert.equal(limit.turnsBefore('partner'), 2);
  assert.equal(limit.turnsBefore('acme'), 1 + 2);
  assert.equal(limit.turnsBefore('bob'), 5 + 1);
  // Made-up waiters of its own push a key back as real ones would.
  assert.equal(limit.turnsBefore('nobody', 3), 3 + 4 + 1);
  release();
  await Promise.all([first, ...queued]);
  assert.equal(limit.turnsBefore('bob'), 0);
});

test('a task whose turn does not come within maxWaitMs leaves the queue with QueueFullError', async () => {
  const limit = new ConcurrencyLimit({ limit: 1 });
  let release: () => void = () => undefined;
  const first = limit.run(() => new Promise<void>((resolve) => (release = resolve)));
  let ran = false;
  await assert.rejects(
    limit.run(async () => {
      ran = true;
    }, { maxWaitMs: 20 }),
    QueueFullError,
  );
  assert.equal(limit.waiting, 0);
  release();
  await first;
  assert.equal(ran, false);
  assert.equal(await limit.run(async () => 'next', { maxWaitMs: 20 }), 'next');
});
