/** The queue of a ConcurrencyLimit is full, or a task's turn did not come in time: it did not run. */
export class QueueFullError extends Error {
  constructor(message = 'too many tasks waiting') {
    super(message);
    this.name = 'QueueFullError';
  }
}

interface Waiter {
  readonly granted: () => void;
}

/**
 * Runs at most `limit` tasks at once; the rest wait, at most `maxWaiting` of them
 * (past that a task is refused at once with QueueFullError rather than left to wait
 * longer than its client will). Waiting tasks are served round-robin across their
 * keys, in arrival order within a key, so a crowd queued under one key cannot stand
 * between another key and its turn. Password hashing uses it: scrypt runs on libuv's
 * small thread pool, which DNS lookups for S3 also need, so a flood of logins must not
 * occupy every thread. A waiting task whose signal aborts leaves the queue without running.
 */
export class ConcurrencyLimit {
  readonly #limit: number;
  readonly #maxWaiting: number;
  #running = 0;
  #waitingCount = 0;
  /** Waiters per key; Map order is the round-robin order (a served key moves to the end). */
  readonly #waiting = new Map<string, Waiter[]>();

  constructor(options: { readonly limit: number; readonly maxWaiting?: number }) {
    const { limit, maxWaiting = Number.POSITIVE_INFINITY } = options;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
    if (!(maxWaiting >= 0)) throw new RangeError(`maxWaiting must be 0 or more, got ${maxWaiting}`);
    this.#limit = limit;
    this.#maxWaiting = maxWaiting;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#waitingCount;
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Whether a task arriving now would be refused. */
  get full(): boolean {
    return this.#running >= this.#limit && this.#waitingCount >= this.#maxWaiting;
  }

  /**
   * How many waiting tasks would be served before one queued now under `key`, with
   * `alsoWaiting` more of its own key counted as if they waited: its own key's, plus
   * at most as many turns of every other key as its key has ahead of it, plus one.
   */
  turnsBefore(key: string, alsoWaiting = 0): number {
    const own = (this.#waiting.get(key)?.length ?? 0) + alsoWaiting;
    let turns = own;
    for (const [other, waiters] of this.#waiting) {
      if (other !== key) turns += Math.min(waiters.length, own + 1);
    }
    return turns;
  }

  /** `maxWaitMs`: a task whose turn has not come by then leaves the queue with QueueFullError. */
  async run<T>(
    task: () => Promise<T>,
    options: { readonly key?: string; readonly signal?: AbortSignal | undefined; readonly maxWaitMs?: number } = {},
  ): Promise<T> {
    const { key = '', signal, maxWaitMs } = options;
    signal?.throwIfAborted();
    if (this.#running < this.#limit) this.#running += 1;
    else if (this.#waitingCount >= this.#maxWaiting) throw new QueueFullError();
    else await this.#slot(key, signal, maxWaitMs);
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, or give it back.
      const next = this.#next();
      if (next) next.granted();
      else this.#running -= 1;
    }
  }

  /** The first waiter of the key whose turn it is; that key goes to the back of the round. */
  #next(): Waiter | undefined {
    for (const [key, waiters] of this.#waiting) {
      const waiter = waiters.shift();
      this.#waiting.delete(key);
      if (waiters.length > 0) this.#waiting.set(key, waiters);
      if (waiter) {
        this.#waitingCount -= 1;
        return waiter;
      }
    }
    return undefined;
  }

  #slot(key: string, signal: AbortSignal | undefined, maxWaitMs: number | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        granted: () => {
          signal?.removeEventListener('abort', onAbort);
          clearTimeout(timer);
          resolve();
        },
      };
      const leave = (reason: unknown): void => {
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        const waiters = this.#waiting.get(key);
        const index = waiters?.indexOf(waiter) ?? -1;
        if (waiters && index !== -1) {
          waiters.splice(index, 1);
          this.#waitingCount -= 1;
          if (waiters.length === 0) this.#waiting.delete(key);
        }
        reject(reason);
      };
      const onAbort = (): void => leave(signal?.reason);
      const timer = maxWaitMs === undefined ? undefined : setTimeout(() => leave(new QueueFullError('waited too long')), maxWaitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      const waiters = this.#waiting.get(key);
      if (waiters) waiters.push(waiter);
      else this.#waiting.set(key, [waiter]);
      this.#waitingCount += 1;
    });
  }
}
