import { addAbortSignal, finished, type Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { abortMultipartUpload } from './abort-multipart-upload.ts';
import { forEachBounded } from '../bounded-concurrency.ts';
import { COPY_PART_CONCURRENCY, copySource } from './copy-source.ts';
import type { UploadBufferUse } from '../object-store.ts';
import { crc32Combine, crc32ToBase64 } from '../crc32-combine.ts';
import { IncrementalChecksum } from './object-checksum.ts';
import { MAX_BUFFERS_PER_UPLOAD, S3_MAX_PARTS, S3_MIN_PART_BYTES, copyPartRanges, partSizeFor, type ByteRange } from './part-size-plan.ts';
import { classifyS3Error, toStorageError } from './s3-errors.ts';
import { StorageError } from '../storage-error.ts';
import type { BufferLease, UploadBufferPool } from '../upload-buffer-pool.ts';
import { verifyCopiedParts, type ExpectedPart, type PartListing } from './verify-copied-parts.ts';
import { durablePrefix, type MultipartUploadRef, type PendingUploadIndex, type StoredPart } from './pending-upload-index.ts';

/** A multipart upload kept from an interrupted upload, continued by this one. */
export interface ContinuedUpload {
  readonly upload: MultipartUploadRef;
  /** Its parts 1..n, every one a full part (see durablePrefix): the new bytes follow them. */
  readonly parts: readonly StoredPart[];
  readonly bytes: number;
}

/** The start of an existing object that a resumed upload keeps, copied server side. */
export interface CopiedPrefix {
  readonly sourceKey: string;
  /** Bytes to keep (>= 5 MiB: S3's minimum for a part that is not the last). */
  readonly bytes: number;
  /** Size of the whole source object (a copy of all of it needs no range). */
  readonly sourceSize: number;
  /** The ETag seen when the upload was planned; a concurrent overwrite fails the copy. */
  readonly etag: string | undefined;
  /** That ETag when it is the MD5 of the source's bytes (see md5Etag): a whole copy must have it. */
  readonly md5Etag?: string | undefined;
}

/** The start of an existing object that a resumed upload keeps and sends again (< 5 MiB). */
export interface KeptHead {
  readonly bytes: number;
  /** Fills `into` (exactly `bytes` long) with the kept bytes; throws StorageError. */
  read(into: Buffer, signal: AbortSignal): Promise<void>;
}

export interface StreamUploadOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly source: Readable;
  /** Where every part buffer comes from (shared by every upload of the process). */
  readonly buffers: UploadBufferPool;
  /** Who this upload's buffers count against in the pool's shares (user, client address). */
  readonly bufferOwners?: readonly string[] | undefined;
  /**
   * The least progress an upload holding a part buffer must make: `minBytes` within
   * `windowMs` of waiting for its client, or it fails (StorageError 'aborted') and
   * gives the buffer back. Time spent waiting for S3 does not count.
   */
  readonly progressDeadline?: ProgressDeadline | undefined;
  /** Size of part 1; later parts follow partSizeFor(). */
  readonly firstPartBytes: number;
  /** Largest part (see largestPartBytes); at most the pool's capacity. */
  readonly maxPartBytes: number;
  /** A stored object larger than this is refused with StorageError('too-large'). */
  readonly maxObjectBytes: number;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** The object's Content-Type. */
  readonly contentType?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly logger: Logger;
  /** Bytes stored before the source's bytes, read into part 1 (a resumed upload's kept start). */
  readonly head?: KeptHead | undefined;
  /** Part of an existing object stored before the source's bytes, copied server side. */
  readonly copy?: CopiedPrefix | undefined;
  /** Waits between attempts to abort a failed multipart upload. */
  readonly abortRetryDelaysMs?: readonly number[] | undefined;
  /**
   * The ETag the object must still have when the upload is committed (a resume or
   * append builds on it): sent as If-Match, which S3 enforces atomically.
   */
  readonly ifMatch?: string | undefined;
  /**
   * Runs right before the commit (PutObject or CompleteMultipartUpload); a throw
   * aborts the upload. For checks that stores ignoring If-Match need.
   */
  readonly beforeCommit?: (() => Promise<void>) | undefined;
  /** Told once, when the upload has settled either way, how it fared with the buffer budget. */
  readonly onBufferUse?: ((use: UploadBufferUse) => void) | undefined;
  /**
   * Have S3 keep (and verify) a full-object checksum, computed here from the bytes
   * as they are sent: SHA-256 for one PutObject; CRC32 for a multipart upload, which
   * S3 combines from the parts' CRC32s (copied parts included). See docs/design.md.
   */
  readonly checksums?: boolean | undefined;
  /** Whether the store has ListParts, to check copied parts' sizes (see PartListing). */
  readonly partListing?: PartListing | undefined;
  /**
   * Keep, rather than abort, the multipart upload of an upload its client or the
   * session ended (StorageError 'aborted') once S3 holds whole parts of it: they are
   * what a later continueUpload resumes from. Told of every multipart upload's life.
   */
  readonly keepInterrupted?: PendingUploadIndex | undefined;
  /** Continue this kept upload instead of starting one. */
  readonly continued?: ContinuedUpload | undefined;
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
}

/** What an upload ended by its client leaves to continue (the bytes S3 holds in whole parts). */
export class UploadKeptError extends StorageError {
  readonly durableBytes: number;

  constructor(cause: StorageError, durableBytes: number) {
    super(cause.kind, cause.message, { cause });
    this.durableBytes = durableBytes;
  }
}

/**
 * Streams `source` into one object: PutObject if everything fits in the first
 * part, otherwise a multipart upload with growing parts (see part-size-plan.ts).
 *
 * Memory: every part buffer, part 1 and a kept head included, is leased from the
 * shared pool, and only once a byte for it is at hand (an idle client holds nothing).
 * The source is read only into a leased buffer, so an upload that must wait for the
 * budget slows its client down (backpressure) instead of allocating past it. Besides
 * the leases, an upload holds the one source chunk in hand.
 *
 * Fairness and progress: an upload asks for a buffer only while it fills none, so
 * every buffer it holds is either filling (needs nothing more from the pool) or
 * uploading (comes back when S3 answers); a waiting upload therefore never blocks the
 * buffers others wait for. Its first buffer it queues for (first come, first served);
 * more than one, for parts uploading in parallel, only when nobody is waiting.
 *
 * Resolves once S3 holds the complete object. On any failure the multipart upload
 * is aborted (retried; if S3 stays unreachable it is logged and the bucket's
 * lifecycle rule removes it), the source is destroyed, every buffer is given back and
 * a StorageError thrown; the object at `key` is then as it was before. With
 * `keepInterrupted`, an upload its client ended keeps the whole parts S3 holds
 * (UploadKeptError says how many bytes): still no object, but a pending upload.
 */
export function uploadStream(options: StreamUploadOptions): Promise<StreamUploadResult> {
  return new StreamUpload(options).run();
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

interface Failure {
  readonly error: unknown;
  readonly operation: string;
}

class StreamUpload {
  readonly #options: StreamUploadOptions;
  readonly #controller = new AbortController();
  #failure: Failure | undefined;
  #upload: MultipartUploadRef | undefined;
  readonly #completed: CompletedPart[] = [];
  /** The parts S3 holds (kept ones included), with their sizes: what a kept upload resumes from. */
  readonly #stored: StoredPart[] = [];
  /** What the parts copied server side must hold, checked before the commit. */
  #copiedParts: ExpectedPart[] = [];
  /** The ETags S3 gave the copied parts. */
  readonly #copiedEtags = new Map<number, string | undefined>();
  /** Part uploads (and the background copy) in progress; they never reject. */
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
  /** CRC32 of every byte sent so far, in order; undefined once a part is copied (S3 then derives it). */
  #wholeCrc32: number | undefined;

  constructor(options: StreamUploadOptions) {
    this.#options = options;
    this.#headPending = (options.head?.bytes ?? 0) > 0;
    this.#wholeCrc32 = options.checksums === true && options.copy === undefined ? 0 : undefined;
    const continued = options.continued;
    if (continued !== undefined) {
      this.#upload = continued.upload;
      this.#nextPartNumber = continued.parts.length + 1;
      for (const part of continued.parts) {
        this.#completed.push({ PartNumber: part.partNumber, ETag: part.etag, ChecksumCRC32: part.checksumCrc32 });
        this.#stored.push(part);
        // The whole-object CRC32 grows from the kept parts' own; without them S3 derives it.
        if (this.#wholeCrc32 !== undefined && part.checksumCrc32 !== undefined) {
          this.#wholeCrc32 = crc32Combine(this.#wholeCrc32, Buffer.from(part.checksumCrc32, 'base64').readUInt32BE(0), part.size);
        } else {
          this.#wholeCrc32 = undefined;
        }
      }
    }
  }

  get #uploadId(): string | undefined {
    return this.#upload?.uploadId;
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
      return { bytesRead: this.#bytesRead, size };
    } catch (error) {
      this.#fail(error, 'upload');
      this.#releasePart();
      await this.#settle();
      const failure = this.#storageError();
      const kept = this.#keepable(failure);
      if (kept !== undefined) throw kept;
      if (this.#upload !== undefined) await this.#abortUpload(this.#upload);
      throw failure;
    } finally {
      this.#releasePart();
      stopWatching();
      signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  /**
   * An upload its client (or the session) ended keeps the whole parts S3 holds, when
   * the store keeps interrupted uploads and it is one (not an append built on an
   * existing object, whose start is that object's). Undefined: abort it.
   */
  #keepable(failure: StorageError): UploadKeptError | undefined {
    const { keepInterrupted: index, copy, head, logger, key } = this.#options;
    const upload = this.#upload;
    if (index === undefined || upload === undefined || failure.kind !== 'aborted' || copy !== undefined || head !== undefined) return undefined;
    const durable = durablePrefix(this.#stored, S3_MIN_PART_BYTES);
    if (durable.bytes === 0) return undefined;
    const received = (this.#options.continued?.bytes ?? 0) + this.#bytesRead;
    logger.info({
      event: 'upload-kept',
      key,
      uploadId: upload.uploadId,
      durableBytes: durable.bytes,
      // The tail in memory when the upload was cut is lost: the partner resumes from durableBytes.
      lostBytes: Math.max(0, received - durable.bytes),
      reason: failure.message,
    });
    return new UploadKeptError(failure, durable.bytes);
  }

  /** Records the first failure and stops everything in progress (requests, buffer waits and the source). */
  #fail(error: unknown, operation: string): void {
    if (this.#failure === undefined) this.#failure = { error, operation };
    this.#controller.abort();
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  #storageError(): StorageError {
    const failure = this.#failure ?? { error: undefined, operation: 'upload' };
    if (failure.error instanceof StorageError) return failure.error;
    if (this.#options.signal?.aborted === true) return new StorageError('aborted', 'Transfer aborted');
    return toStorageError(
      failure.error,
      { operation: failure.operation, key: this.#options.key, signal: this.#options.signal, uploadId: this.#uploadId },
      this.#options.logger,
    );
  }

  async #transfer(): Promise<number> {
    const { source, head, copy, continued } = this.#options;
    addAbortSignal(this.#controller.signal, source);
    const keptBytes = (copy?.bytes ?? 0) + (head?.bytes ?? 0) + (continued?.bytes ?? 0);
    this.#checkSize(keptBytes);
    if (copy !== undefined) {
      await this.#createMultipartUpload();
      this.#nextPartNumber = this.#startCopy(copy);
    }
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
          // A full part 1 waits for more data: if none comes, it is a small file for PutObject.
          if (this.#part?.full === true) await this.#dispatch(this.#part);
          const part = this.#part ?? (await this.#openPart());
          offset += part.append(chunk, offset);
          if (part.full && this.#uploadId !== undefined) await this.#dispatch(part);
        }
      }
    } catch (error) {
      this.#throwIfFailed(); // our own abort destroyed the source: report the cause
      throw dataConnectionFailed(error);
    }
    this.#throwIfFailed();
    if (this.#headPending) await this.#openPart(); // a resume that adds nothing still stores the head

    if (this.#uploadId === undefined) {
      const body = this.#part?.bytes() ?? Buffer.alloc(0);
      await this.#beforeCommit();
      await this.#putObject(body);
      return body.length;
    }
    if (this.#part !== undefined) {
      if (this.#part.length > 0) await this.#dispatch(this.#part);
      else this.#releasePart();
    }
    await this.#settle();
    this.#throwIfFailed();
    await this.#beforeCommit();
    await this.#verifyCopiedParts(this.#uploadId);
    await this.#completeMultipartUpload(this.#uploadId);
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
    if (partNumber > S3_MAX_PARTS) this.#refuseTooLarge();
    const { buffers, bufferOwners, firstPartBytes, maxPartBytes, head } = this.#options;
    const bytes = partSizeFor(partNumber, firstPartBytes, maxPartBytes);
    let lease: BufferLease | undefined;
    while (lease === undefined) {
      this.#throwIfFailed();
      if (this.#partsInFlight >= MAX_BUFFERS_PER_UPLOAD) {
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

  /** Starts uploading `part` (the part being filled); its buffer goes back to the pool when S3 answers. */
  async #dispatch(part: PartBuffer): Promise<void> {
    if (this.#uploadId === undefined) await this.#createMultipartUpload();
    const uploadId = this.#uploadId;
    if (uploadId === undefined) return;
    this.#part = undefined;
    this.#nextPartNumber = part.partNumber + 1;
    const body = part.bytes();
    const partCrc = this.#options.checksums === true ? crc32(body) : undefined;
    const partCrc32 = partCrc === undefined ? undefined : crc32ToBase64(partCrc);
    // Parts are dispatched in order, so the whole-object CRC grows in order too: from the
    // part's CRC, not from its bytes again.
    if (this.#wholeCrc32 !== undefined && partCrc !== undefined) this.#wholeCrc32 = crc32Combine(this.#wholeCrc32, partCrc, body.length);
    const task = this.#options.client
      .send(
        new UploadPartCommand({
          Bucket: this.#options.bucket,
          Key: this.#options.key,
          UploadId: uploadId,
          PartNumber: part.partNumber,
          Body: body,
          ContentLength: body.length,
          ChecksumCRC32: partCrc32,
        }),
        { abortSignal: this.#controller.signal },
      )
      .then(
        async (output) => {
          this.#completed.push({ PartNumber: part.partNumber, ETag: output.ETag, ChecksumCRC32: partCrc32 });
          const stored = { partNumber: part.partNumber, etag: output.ETag, size: body.length, checksumCrc32: partCrc32 };
          this.#stored.push(stored);
          try {
            await this.#options.keepInterrupted?.partStored(this.#upload!, stored);
          } catch (error) {
            this.#fail(error, 'record-part');
          }
        },
        (error: unknown) => this.#fail(error, 'upload-part'),
      )
      .finally(() => part.release());
    this.#track(task, true);
  }

  /** Copies the kept start of the existing object into parts 1..n in the background; returns n + 1. */
  #startCopy(copy: CopiedPrefix): number {
    const ranges = copyPartRanges(copy.bytes);
    const uploadId = this.#uploadId;
    const { client, bucket, key } = this.#options;
    const source = copySource(bucket, copy.sourceKey);
    this.#copiedParts = ranges.map((range, index) => ({
      partNumber: index + 1,
      bytes: range.end - range.start + 1,
      etag: range.start === 0 && range.end === copy.sourceSize - 1 ? copy.md5Etag : undefined,
    }));
    const copyPart = async (range: ByteRange, index: number): Promise<void> => {
      const whole = range.start === 0 && range.end === copy.sourceSize - 1;
      try {
        const output = await client.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: index + 1,
            CopySource: source,
            CopySourceIfMatch: copy.etag,
            // S3 refuses a byte range on small sources, and a whole copy needs none.
            CopySourceRange: whole ? undefined : `bytes=${range.start}-${range.end}`,
          }),
          { abortSignal: this.#controller.signal },
        );
        // S3 computes a copied part's CRC32 itself when the upload keeps CRC32s.
        this.#completed.push({
          PartNumber: index + 1,
          ETag: output.CopyPartResult?.ETag,
          ChecksumCRC32: output.CopyPartResult?.ChecksumCRC32,
        });
        this.#copiedEtags.set(index + 1, output.CopyPartResult?.ETag);
      } catch (error) {
        // At once, not when the other part copies are done: the failure stops them.
        this.#fail(error, 'upload-part-copy');
      }
    };
    this.#track(
      forEachBounded(ranges, COPY_PART_CONCURRENCY, copyPart, () => this.#failure !== undefined),
      false,
    );
    return ranges.length + 1;
  }

  async #settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
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

  /** 226 means verified: parts S3 copied from another object or version never become the file. */
  async #verifyCopiedParts(uploadId: string): Promise<void> {
    const { client, bucket, key, logger } = this.#options;
    const expected = this.#copiedParts;
    try {
      const copied = this.#copiedEtags;
      const { partListing } = this.#options;
      await verifyCopiedParts({ client, bucket, key, uploadId, expected, copied, signal: this.#controller.signal, logger, partListing });
    } catch (error) {
      this.#fail(error, 'list-parts');
      throw error;
    }
  }

  async #putObject(body: Buffer): Promise<void> {
    const { client, bucket, key, metadata, contentType, ifMatch, checksums } = this.#options;
    let sha256: string | undefined;
    if (checksums === true) {
      const checksum = new IncrementalChecksum('sha256');
      checksum.update(body);
      sha256 = checksum.digest().toString('base64');
    }
    const put = (condition: string | undefined) =>
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          Metadata: { ...metadata },
          ContentType: contentType,
          IfMatch: condition,
          ChecksumSHA256: sha256,
        }),
        // No abort signal, as for CompleteMultipartUpload: once the request is sent, S3
        // may have stored the object; an ABOR cut short here answered 426 for a file S3 held.
      );
    try {
      try {
        await put(ifMatch);
      } catch (error) {
        // Ceph RGW 16 compares If-Match with the ETag unquoted, so the quoted ETag S3
        // itself returns never matches there. Once more unquoted: where the object
        // really changed, that is refused too.
        const unquoted = ifMatch?.replace(/^"(.*)"$/, '$1');
        if (unquoted === undefined || unquoted === ifMatch || classifyS3Error(error).kind !== 'conflict') throw error;
        await put(unquoted);
      }
    } catch (error) {
      this.#fail(error, 'put-object');
      throw error;
    }
  }

  async #createMultipartUpload(): Promise<void> {
    const { client, bucket, key, metadata, contentType, logger, checksums } = this.#options;
    try {
      // No abort signal: cancelling this request cannot stop S3 from creating the
      // upload, only stop us from learning its id, and an upload nobody knows of
      // cannot be aborted. A failure meanwhile is acted on once the id is known.
      const output = await client.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          Metadata: { ...metadata },
          ContentType: contentType,
          ...(checksums === true ? { ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' } : {}),
        }),
      );
      if (output.UploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId');
      this.#upload = { key, uploadId: output.UploadId, initiated: new Date() };
      await this.#options.keepInterrupted?.started(this.#upload);
      logger.debug({ event: 'multipart-upload-started', key, uploadId: output.UploadId });
      this.#throwIfFailed();
    } catch (error) {
      this.#fail(error, 'create-multipart-upload');
      throw error;
    }
  }

  async #completeMultipartUpload(uploadId: string): Promise<void> {
    const { client, bucket, key, ifMatch, checksums } = this.#options;
    const parts = [...this.#completed].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    // With every byte seen here, S3 checks the combined CRC32 against ours; otherwise it derives it.
    const whole = checksums === true
      ? { ChecksumType: 'FULL_OBJECT' as const, ChecksumCRC32: this.#wholeCrc32 === undefined ? undefined : crc32ToBase64(this.#wholeCrc32) }
      : {};
    try {
      // No abort signal: once every byte is sent, an ABOR no longer undoes the upload
      // (cutting Complete short could leave S3's answer unknown).
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          IfMatch: ifMatch,
          ...whole,
        }),
      );
    } catch (error) {
      this.#fail(error, 'complete-multipart-upload');
      throw error;
    }
    // The object is committed whatever the index says; a stale entry is found gone later.
    await this.#options.keepInterrupted?.ended(this.#upload!).catch(() => undefined);
  }

  async #abortUpload(upload: MultipartUploadRef): Promise<void> {
    const { client, bucket, key, logger, abortRetryDelaysMs } = this.#options;
    const gone = await abortMultipartUpload({ client, bucket, key, uploadId: upload.uploadId, logger, retryDelaysMs: abortRetryDelaysMs });
    // One S3 still holds stays recorded: the next look at it (or the start sweep) tries again.
    if (gone) await this.#options.keepInterrupted?.ended(upload).catch(() => undefined);
  }
}

function dataConnectionFailed(cause: unknown): StorageError {
  // A source of the store's own (kept bytes read back from S3) fails with its own error.
  if (cause instanceof StorageError) return cause;
  return new StorageError('aborted', 'Transfer aborted: the data connection failed', { cause });
}
