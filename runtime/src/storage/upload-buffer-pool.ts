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
 *
 * Shared out: each request names its owners (the user, the client address) and no
 * owner holds more than `shareBytes` through acquire(), so one user's stalled or
 * numerous uploads cannot take the budget from everyone else. The queue serves the
 * first request whose owners are under their share; one over it waits without
 * blocking the others. An owner holding nothing may always take one buffer, and
 * tryAcquire() (a second buffer for parts uploading in parallel, which comes back
 * when S3 answers) may pass the share while nobody waits: one user alone still
 * uploads at full speed.
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
  readonly owners: readonly string[];
  readonly grant: (lease: BufferLease) => void;
}

export interface AcquireOptions {
  /** Stops waiting: the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Who the buffer is for (e.g. 'user:alice', 'address:192.0.2.1'); each is held to the share. */
  readonly owners?: readonly string[] | undefined;
}

export class UploadBufferPool {
  readonly capacityBytes: number;
  /** Most one owner holds through acquire(). */
  readonly shareBytes: number;
  #inUse = 0;
  /** Bytes each owner holds now. */
  readonly #held = new Map<string, number>();
  /** Released buffers kept for reuse, by size; they count against the capacity too. */
  readonly #kept = new Map<number, Buffer[]>();
  #keptBytes = 0;
  readonly #queue: Waiter[] = [];

  /** `shareBytes`: most one owner holds through acquire() (default: the whole capacity). */
  constructor(options: { readonly capacityBytes: number; readonly shareBytes?: number | undefined }) {
    const { capacityBytes, shareBytes = capacityBytes } = options;
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 1) {
      throw new RangeError(`capacityBytes must be a positive integer, got ${capacityBytes}`);
    }
    if (!Number.isSafeInteger(shareBytes) || shareBytes < 1) {
      throw new RangeError(`shareBytes must be a positive integer, got ${shareBytes}`);
    }
    this.capacityBytes = capacityBytes;
    this.shareBytes = Math.min(shareBytes, capacityBytes);
  }

  /** Bytes `owner` holds now. */
  heldBy(owner: string): number {
    return this.#held.get(owner) ?? 0;
  }

  stats(): UploadBufferStats {
    return { capacityBytes: this.capacityBytes, inUseBytes: this.#inUse, waiting: this.#queue.length };
  }

  /**
   * A buffer of `bytes`, as soon as the budget has room, its owners are within their
   * share, and every earlier request that can be served has been. Rejects with the
   * signal's reason if `signal` aborts first (the place in the queue is then given up).
   */
  acquire(bytes: number, options: AcquireOptions = {}): Promise<BufferLease> {
    const { signal, owners = [] } = options;
    this.#checkRequest(bytes);
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    if (this.#queue.length === 0 && this.#fits(bytes) && this.#withinShare(bytes, owners)) {
      return Promise.resolve(this.#lease(bytes, owners));
    }
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
        owners,
        grant: (lease) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(lease);
        },
      };
      this.#queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      // Those ahead may all be waiting for their share, not for room.
      this.#serveQueue();
    });
  }

  /**
   * A buffer of `bytes` now, or undefined if the budget has no room or a request is
   * waiting. Not held to the share: nobody else wants the room.
   */
  tryAcquire(bytes: number, owners: readonly string[] = []): BufferLease | undefined {
    this.#checkRequest(bytes);
    if (this.#queue.length > 0 || !this.#fits(bytes)) return undefined;
    return this.#lease(bytes, owners);
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

  /** An owner holding nothing may take one buffer whatever its size. */
  #withinShare(bytes: number, owners: readonly string[]): boolean {
    return owners.every((owner) => {
      const held = this.heldBy(owner);
      return held === 0 || held + bytes <= this.shareBytes;
    });
  }

  #lease(bytes: number, owners: readonly string[]): BufferLease {
    const buffer = this.#take(bytes);
    this.#inUse += bytes;
    for (const owner of owners) this.#held.set(owner, this.heldBy(owner) + bytes);
    let released = false;
    return {
      buffer,
      release: () => {
        if (released) return;
        released = true;
        this.#inUse -= bytes;
        for (const owner of owners) {
          const held = this.heldBy(owner) - bytes;
          if (held > 0) this.#held.set(owner, held);
          else this.#held.delete(owner);
        }
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

  /**
   * Serves waiters in order, skipping those whose owners are at their share; the
   * first one that may be served but does not fit stops the rest (no overtaking by size).
   */
  #serveQueue(): void {
    for (let index = 0; index < this.#queue.length; ) {
      const waiter = this.#queue[index]!;
      if (!this.#withinShare(waiter.bytes, waiter.owners)) {
        index += 1;
        continue;
      }
      if (!this.#fits(waiter.bytes)) return;
      this.#queue.splice(index, 1);
      waiter.grant(this.#lease(waiter.bytes, waiter.owners));
    }
  }
}
