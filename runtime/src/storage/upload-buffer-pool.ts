/**
 * The one budget of part buffers that every upload of the process shares: what makes
 * the bridge's memory a setting (FTP_UPLOAD_BUFFER_MIB) instead of a product of how
 * many clients upload at once.
 *
 * Fair: requests that must wait are served strictly first come, first served, and
 * tryAcquire() never overtakes a waiting request, so neither large nor small requests
 * can starve the other kind.
 *
 * Buffers are recycled: a released buffer is kept for the next request of the same
 * size, so steady uploading reuses the same memory instead of leaving garbage for the
 * collector (memory the process would hold, beyond the budget, until a GC runs). A
 * kept buffer of another size is dropped only when a request would not fit otherwise.
 */
export interface BufferLease {
  /** Exactly the requested number of bytes; its content is whatever was there before. */
  readonly buffer: Buffer;
  /** Gives the buffer back; later calls do nothing. The buffer must not be used afterwards. */
  release(): void;
}

export interface UploadBufferStats {
  readonly capacityBytes: number;
  /** Bytes in buffers handed out and not yet released. */
  readonly inUseBytes: number;
  /** Requests waiting for room. */
  readonly waiting: number;
}

interface Waiter {
  readonly bytes: number;
  readonly grant: (lease: BufferLease) => void;
}

export class UploadBufferPool {
  readonly capacityBytes: number;
  #inUse = 0;
  /** Released buffers kept for reuse, by size; they count against the capacity too. */
  readonly #kept = new Map<number, Buffer[]>();
  #keptBytes = 0;
  readonly #queue: Waiter[] = [];

  constructor(options: { readonly capacityBytes: number }) {
    const { capacityBytes } = options;
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 1) {
      throw new RangeError(`capacityBytes must be a positive integer, got ${capacityBytes}`);
    }
    this.capacityBytes = capacityBytes;
  }

  stats(): UploadBufferStats {
    return { capacityBytes: this.capacityBytes, inUseBytes: this.#inUse, waiting: this.#queue.length };
  }

  /**
   * A buffer of `bytes`, as soon as the budget has room and every earlier request has
   * been served. Rejects with the signal's reason if `signal` aborts first (the place
   * in the queue is then given up).
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<BufferLease> {
    this.#checkRequest(bytes);
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    const now = this.tryAcquire(bytes);
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<BufferLease>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#queue.indexOf(waiter);
        if (index === -1) return; // already granted
        this.#queue.splice(index, 1);
        reject(signal?.reason);
        // The head leaving may let the next request through.
        this.#serveQueue();
      };
      const waiter: Waiter = {
        bytes,
        grant: (lease) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(lease);
        },
      };
      this.#queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A buffer of `bytes` now, or undefined if the budget has no room or a request is waiting. */
  tryAcquire(bytes: number): BufferLease | undefined {
    this.#checkRequest(bytes);
    if (this.#queue.length > 0 || !this.#fits(bytes)) return undefined;
    return this.#lease(bytes);
  }

  #checkRequest(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > this.capacityBytes) {
      // A request larger than the budget could never be served: the caller's part plan is wrong.
      throw new RangeError(`a buffer must be 1..${this.capacityBytes} bytes, got ${bytes}`);
    }
  }

  #fits(bytes: number): boolean {
    return this.#inUse + bytes <= this.capacityBytes;
  }

  #lease(bytes: number): BufferLease {
    const buffer = this.#take(bytes);
    this.#inUse += bytes;
    let released = false;
    return {
      buffer,
      release: () => {
        if (released) return;
        released = true;
        this.#inUse -= bytes;
        this.#keep(buffer);
        this.#serveQueue();
      },
    };
  }

  /** A kept buffer of that size, else a new one (dropping kept buffers of other sizes if room is short). */
  #take(bytes: number): Buffer {
    const reused = this.#kept.get(bytes)?.pop();
    if (reused !== undefined) {
      this.#keptBytes -= bytes;
      return reused;
    }
    for (const [size, buffers] of this.#kept) {
      while (this.#inUse + this.#keptBytes + bytes > this.capacityBytes && buffers.pop() !== undefined) {
        this.#keptBytes -= size;
      }
    }
    // Outside V8's heap, and never pre-filled: only what is written becomes resident.
    return Buffer.allocUnsafeSlow(bytes);
  }

  #keep(buffer: Buffer): void {
    const list = this.#kept.get(buffer.length);
    if (list === undefined) this.#kept.set(buffer.length, [buffer]);
    else list.push(buffer);
    this.#keptBytes += buffer.length;
  }

  #serveQueue(): void {
    for (let head = this.#queue[0]; head !== undefined && this.#fits(head.bytes); head = this.#queue[0]) {
      this.#queue.shift();
      head.grant(this.#lease(head.bytes));
    }
  }
}
