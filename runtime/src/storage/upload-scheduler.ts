import { addAbortSignal, finished, type Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { UploadBufferUse } from './object-store.ts';
import { StorageError, notWholeFile } from './storage-error.ts';
import type { BufferLease, UploadBufferPool } from './upload-buffer-pool.ts';

/** The start of an existing object that a resumed upload keeps and sends again in part 1. */
export interface KeptHead {
  readonly bytes: number;
  /** Fills `into` (exactly `bytes` long) with the kept bytes; throws StorageError. */
  read(into: Buffer, signal: AbortSignal): Promise<void>;
}

export interface ProgressDeadline {
  readonly windowMs: number;
  readonly minBytes: number;
}

export interface StreamUploadResult {
  /** Bytes read from the source. */
  readonly bytesRead: number;
  /** Size of the stored object. */
  readonly size: number;
  /** CRC32 of the whole stored object, when the sink knows it (PartSink.crc32). */
  readonly crc32: number | undefined;
}

/** The first failure of an upload, with the step that failed (for the error's wording). */
export interface UploadFailure {
  readonly error: unknown;
  readonly operation: string;
}

/** What the scheduler gives its sink: the upload's one failure and its work in progress. */
export interface PartSinkContext {
  /** Aborted at the first failure: the sink's requests in progress stop with it. */
  readonly signal: AbortSignal;
  /** Whether the upload has failed. */
  readonly failed: boolean;
  /** Records the first failure and stops everything in progress (requests, buffer waits and the source). */
  fail(error: unknown, operation: string): void;
  /** Throws the first failure, if any. */
  throwIfFailed(): void;
  /** Runs `task` (which never rejects) beside the parts in flight: it is settled before the commit or the failure's handling. */
  track(task: Promise<void>): void;
}

/**
 * Where the scheduler's parts go: one backend's session storing one object. Until the
 * session is started, part 1 may still turn out to be the whole object.
 */
export interface PartSink {
  /** Whether parts are stored one by one (start has run). */
  readonly started: boolean;
  /** After a commit: the CRC32 of the whole object, or undefined where some of it was not seen (a copied start). */
  readonly crc32: number | undefined;
  /** Runs before the source is read; resolves to the number of the part its bytes begin in. */
  begin(): Promise<number>;
  /** Starts storing parts one by one; throws (after telling the context) on failure. */
  start(): Promise<void>;
  /** Stores one part (started only); never rejects: a failure is told to the context. `body` is valid until it resolves. */
  sendPart(partNumber: number, body: Buffer): Promise<void>;
  /**
   * Stores `body` as the whole object (never started); throws on failure. Nothing may
   * become visible before `wholeFile` resolves (it throws when the source's end was
   * not the file's); the sink may send all but the last bytes meanwhile.
   */
  commitWhole(body: Buffer, wholeFile: () => Promise<void>): Promise<void>;
  /** Makes the object of the parts stored, once every part has settled; throws on failure. */
  commitParts(): Promise<void>;
  /** After a failure, with nothing in flight: undoes (or keeps) what was stored; resolves to the error to throw. */
  abandon(failure: UploadFailure, bytesRead: number): Promise<StorageError>;
}

/** How the backend cuts an object into parts. */
export interface PartPlan {
  /** Size of part `partNumber` (1-based). */
  partBytes(partNumber: number): number;
  /** More parts than this: the object is too large. */
  readonly maxParts: number;
  /** Most part buffers one upload holds uploading at once. */
  readonly maxPartsInFlight: number;
}

/** What an upload shares with every backend. */
export interface ScheduledUploadSettings {
  /** The object's key (for logs). */
  readonly key: string;
  readonly source: Readable;
  /** Where every part buffer comes from (shared by every upload of the process). */
  readonly buffers: UploadBufferPool;
  /** Who this upload's buffers count against in the pool's shares (user, client address). */
  readonly bufferOwners?: readonly string[] | undefined;
  /**
   * The least progress an upload holding a part buffer must make: `minBytes` within
   * `windowMs` of waiting for its client, or it fails (StorageError 'aborted') and
   * gives the buffer back. Time spent waiting for the store does not count.
   */
  readonly progressDeadline?: ProgressDeadline | undefined;
  /** A stored object larger than this is refused with StorageError('too-large'). */
  readonly maxObjectBytes: number;
  readonly signal?: AbortSignal | undefined;
  readonly logger: Logger;
  /** Bytes stored before the source's bytes, read into part 1 (a resumed upload's kept start). */
  readonly head?: KeptHead | undefined;
  /**
   * Runs right before the commit (whole object or parts); a throw aborts the upload.
   * For checks that stores ignoring If-Match need.
   */
  readonly beforeCommit?: (() => Promise<void>) | undefined;
  /** Whether the source's end was the file's end (WriteOptions.wholeFile). */
  readonly wholeFile?: (() => Promise<void>) | undefined;
  /** Told once, when the upload has settled either way, how it fared with the buffer budget. */
  readonly onBufferUse?: ((use: UploadBufferUse) => void) | undefined;
}

export interface ScheduledUploadOptions extends ScheduledUploadSettings {
  readonly plan: PartPlan;
  /** Bytes the sink already holds for the object, before the head and the source's. */
  readonly priorBytes: number;
  /** The backend's session for this upload. */
  readonly sink: (context: PartSinkContext) => PartSink;
}

/**
 * Reads `source` into part buffers and hands them to the sink: the whole object at
 * once if everything fits in part 1, otherwise part by part as each fills.
 *
 * Memory: every part buffer, part 1 and a kept head included, is leased from the
 * shared pool, and only once a byte for it is at hand (an idle client holds nothing).
 * The source is read only into a leased buffer, so an upload that must wait for the
 * budget slows its client down (backpressure) instead of allocating past it. Besides
 * the leases, an upload holds the one source chunk in hand.
 *
 * Fairness and progress: an upload asks for a buffer only while it fills none, so
 * every buffer it holds is either filling (needs nothing more from the pool) or
 * uploading (comes back when the store answers); a waiting upload therefore never blocks the
 * buffers others wait for. Its first buffer it queues for (first come, first served);
 * more than one, for parts uploading in parallel, only when nobody is waiting.
 *
 * On any failure everything in progress stops, the source is destroyed, every buffer
 * is given back and the sink's abandon decides what is thrown.
 */
export function scheduleUpload(options: ScheduledUploadOptions): Promise<StreamUploadResult> {
  return new ScheduledUpload(options).run();
}

/** One part being filled, in a buffer leased from the pool. */
class PartBuffer {
  readonly partNumber: number;
  length = 0;
  readonly #lease: BufferLease;

  constructor(partNumber: number, lease: BufferLease) {
    this.partNumber = partNumber;
    this.#lease = lease;
  }

  get capacity(): number {
    return this.#lease.buffer.length;
  }

  get full(): boolean {
    return this.length === this.capacity;
  }

  /** Copies as much of chunk[offset..] as fits; returns the number of bytes taken. */
  append(chunk: Buffer, offset: number): number {
    const taken = Math.min(this.capacity - this.length, chunk.length - offset);
    chunk.copy(this.#lease.buffer, this.length, offset, offset + taken);
    this.length += taken;
    return taken;
  }

  /** The next `bytes` bytes of the buffer, counted as filled; the caller writes them. */
  claim(bytes: number): Buffer {
    const start = this.length;
    this.length += bytes;
    return this.#lease.buffer.subarray(start, this.length);
  }

  bytes(): Buffer {
    return this.#lease.buffer.subarray(0, this.length);
  }

  release(): void {
    this.#lease.release();
  }
}

class ScheduledUpload {
  readonly #options: ScheduledUploadOptions;
  readonly #controller = new AbortController();
  readonly #sink: PartSink;
  #failure: UploadFailure | undefined;
  /** Part uploads (and the sink's background work) in progress; they never reject. */
  readonly #inFlight = new Set<Promise<void>>();
  /** Buffers held by part uploads in progress. */
  #partsInFlight = 0;
  /** The part being filled; this upload's to release until it is dispatched. */
  #part: PartBuffer | undefined;
  #nextPartNumber = 1;
  #headPending: boolean;
  #bytesRead = 0;
  /** Progress towards the deadline: bytes received and time spent waiting for them since the window began. */
  #window = { bytes: 0, waitedMs: 0 };
  #waitMs = 0;
  #budgetInUseBytes = 0;

  constructor(options: ScheduledUploadOptions) {
    this.#options = options;
    this.#headPending = (options.head?.bytes ?? 0) > 0;
    const upload = this;
    this.#sink = options.sink({
      signal: this.#controller.signal,
      get failed() {
        return upload.#failure !== undefined;
      },
      fail: (error, operation) => this.#fail(error, operation),
      throwIfFailed: () => this.#throwIfFailed(),
      track: (task) => this.#track(task, false),
    });
  }

  async run(): Promise<StreamUploadResult> {
    const { signal } = this.#options;
    try {
      if (signal?.aborted === true) {
        this.#options.source.destroy();
        throw new StorageError('aborted', 'Transfer aborted');
      }
      return await this.#runUntilSettled();
    } finally {
      this.#options.onBufferUse?.({ waitMs: Math.round(this.#waitMs), budgetInUseBytes: this.#budgetInUseBytes });
    }
  }

  async #runUntilSettled(): Promise<StreamUploadResult> {
    const { signal, source } = this.#options;
    const onCallerAbort = (): void => this.#fail(new StorageError('aborted', 'Transfer aborted'), 'abort');
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    // A client gone while this upload waits for a buffer must end the wait, not only the next read.
    const stopWatching = finished(source, (error) => {
      if (error !== undefined && error !== null) this.#fail(dataConnectionFailed(error), 'upload');
    });
    try {
      const size = await this.#transfer();
      return { bytesRead: this.#bytesRead, size, crc32: this.#sink.crc32 };
    } catch (error) {
      this.#fail(error, 'upload');
      this.#releasePart();
      await this.#settle();
      throw await this.#sink.abandon(this.#failure ?? { error, operation: 'upload' }, this.#bytesRead);
    } finally {
      this.#releasePart();
      stopWatching();
      signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  #fail(error: unknown, operation: string): void {
    if (this.#failure === undefined) this.#failure = { error, operation };
    this.#controller.abort();
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  async #transfer(): Promise<number> {
    const { source, head, priorBytes } = this.#options;
    addAbortSignal(this.#controller.signal, source);
    const keptBytes = priorBytes + (head?.bytes ?? 0);
    this.#checkSize(keptBytes);
    this.#nextPartNumber = await this.#sink.begin();
    const chunks = (source as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    try {
      for (let next = await this.#nextChunk(chunks); next.done !== true; next = await this.#nextChunk(chunks)) {
        const received = next.value;
        const chunk = typeof received === 'string' ? Buffer.from(received) : received;
        this.#bytesRead += chunk.length;
        this.#progressed(chunk.length);
        this.#checkSize(keptBytes + this.#bytesRead);
        let offset = 0;
        while (offset < chunk.length) {
          // A full part 1 waits for more data: if none comes, it is a small file stored whole.
          if (this.#part?.full === true) await this.#dispatch(this.#part);
          const part = this.#part ?? (await this.#openPart());
          offset += part.append(chunk, offset);
          if (part.full && this.#sink.started) await this.#dispatch(part);
        }
      }
    } catch (error) {
      this.#throwIfFailed(); // our own abort destroyed the source: report the cause
      throw dataConnectionFailed(error);
    }
    this.#throwIfFailed();
    if (this.#headPending) await this.#openPart(); // a resume that adds nothing still stores the head

    if (!this.#sink.started) {
      const body = this.#part?.bytes() ?? Buffer.alloc(0);
      await this.#beforeCommit();
      await this.#sink.commitWhole(body, () => this.#confirmWholeFile());
      return body.length;
    }
    if (this.#part !== undefined) {
      if (this.#part.length > 0) await this.#dispatch(this.#part);
      else this.#releasePart();
    }
    // The last part uploads while the caller decides whether the source's end was the file's.
    await Promise.all([this.#settle(), this.#confirmWholeFile().catch(() => undefined)]);
    this.#throwIfFailed();
    await this.#beforeCommit();
    await this.#sink.commitParts();
    return keptBytes + this.#bytesRead;
  }

  /**
   * The source's next chunk. While this upload holds a buffer it is filling, the
   * wait counts towards the progress deadline: a client that trickles (or sends
   * nothing) must not keep memory others wait for.
   */
  async #nextChunk(chunks: AsyncIterator<Buffer | string>): Promise<IteratorResult<Buffer | string>> {
    const deadline = this.#options.progressDeadline;
    if (deadline === undefined || this.#part === undefined) return await chunks.next();
    const started = performance.now();
    const timer = setTimeout(() => this.#stalled(deadline), Math.max(0, deadline.windowMs - this.#window.waitedMs));
    try {
      return await chunks.next();
    } finally {
      clearTimeout(timer);
      this.#window.waitedMs += performance.now() - started;
    }
  }

  #progressed(bytes: number): void {
    this.#window.bytes += bytes;
    if (this.#window.bytes >= (this.#options.progressDeadline?.minBytes ?? 0)) this.#window = { bytes: 0, waitedMs: 0 };
  }

  #stalled(deadline: ProgressDeadline): void {
    const { logger, key } = this.#options;
    logger.info({
      event: 'upload-stalled',
      key,
      bytes: this.#bytesRead,
      heldBytes: this.#part?.capacity ?? 0,
      windowMs: deadline.windowMs,
      windowBytes: this.#window.bytes,
    });
    this.#fail(new StorageError('aborted', 'Transfer aborted: the upload made too little progress'), 'upload');
  }

  #checkSize(bytes: number): void {
    if (bytes > this.#options.maxObjectBytes) this.#refuseTooLarge();
  }

  #refuseTooLarge(): never {
    const error = new StorageError('too-large', 'File exceeds the largest file this server accepts');
    this.#fail(error, 'upload');
    throw error;
  }

  /**
   * Leases the buffer of the next part and makes it the one being filled. Waits while
   * this upload has its share of buffers uploading, or the budget has no room.
   */
  async #openPart(): Promise<PartBuffer> {
    const partNumber = this.#nextPartNumber;
    const { buffers, bufferOwners, plan, head } = this.#options;
    if (partNumber > plan.maxParts) this.#refuseTooLarge();
    const bytes = plan.partBytes(partNumber);
    let lease: BufferLease | undefined;
    while (lease === undefined) {
      this.#throwIfFailed();
      if (this.#partsInFlight >= plan.maxPartsInFlight) {
        await Promise.race(this.#inFlight);
        continue;
      }
      const started = performance.now();
      try {
        if (this.#partsInFlight === 0) {
          lease = await buffers.acquire(bytes, { signal: this.#controller.signal, owners: bufferOwners });
        } else {
          // Another buffer while this upload already has one only if nobody is waiting for theirs.
          lease = buffers.tryAcquire(bytes, bufferOwners);
          if (lease === undefined) await Promise.race(this.#inFlight);
        }
      } finally {
        // Counted however the wait ended: an upload given up while waiting waited too.
        this.#waitMs += performance.now() - started;
      }
    }
    const part = new PartBuffer(partNumber, lease);
    this.#part = part;
    this.#window = { bytes: 0, waitedMs: 0 };
    this.#budgetInUseBytes = Math.max(this.#budgetInUseBytes, buffers.stats().inUseBytes);
    this.#throwIfFailed();
    if (this.#headPending && head !== undefined) {
      this.#headPending = false;
      try {
        await head.read(part.claim(head.bytes), this.#controller.signal);
      } catch (error) {
        this.#fail(error, 'get-object');
        throw error;
      }
    }
    return part;
  }

  #releasePart(): void {
    this.#part?.release();
    this.#part = undefined;
  }

  #track(task: Promise<void>, holdsBuffer: boolean): void {
    if (holdsBuffer) this.#partsInFlight += 1;
    const tracked: Promise<void> = task.finally(() => {
      this.#inFlight.delete(tracked);
      if (holdsBuffer) this.#partsInFlight -= 1;
    });
    this.#inFlight.add(tracked);
  }

  /** Hands `part` (the part being filled) to the sink; its buffer goes back to the pool when the sink is done with it. */
  async #dispatch(part: PartBuffer): Promise<void> {
    if (!this.#sink.started) await this.#sink.start();
    if (!this.#sink.started) return;
    this.#part = undefined;
    this.#nextPartNumber = part.partNumber + 1;
    const task = this.#sink.sendPart(part.partNumber, part.bytes()).finally(() => part.release());
    this.#track(task, true);
  }

  async #settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /** The caller's word that the source ended with the file; a refusal fails the upload ('aborted'). */
  async #confirmWholeFile(): Promise<void> {
    try {
      await this.#options.wholeFile?.();
    } catch (error) {
      const failure = notWholeFile(error);
      this.#fail(failure, 'whole-file');
      throw failure;
    }
  }

  async #beforeCommit(): Promise<void> {
    const check = this.#options.beforeCommit;
    if (check === undefined) return;
    try {
      await check();
    } catch (error) {
      this.#fail(error, 'before-commit');
      throw error;
    }
  }
}

function dataConnectionFailed(cause: unknown): StorageError {
  // A source of the store's own (kept bytes read back from it) fails with its own error.
  if (cause instanceof StorageError) return cause;
  return new StorageError('aborted', 'Transfer aborted: the data connection failed', { cause });
}
