import { addAbortSignal, type Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import {
  S3_MAX_PARTS,
  UPLOAD_CONCURRENCY,
  copyPartRanges,
  partSizeFor,
  uploadBufferLimit,
} from './part-size-plan.ts';
import { classifyS3Error, errorSummary, toStorageError } from './s3-errors.ts';
import { StorageError } from './storage-error.ts';

/** The start of an existing object that a resumed upload keeps, copied server side. */
export interface CopiedPrefix {
  readonly sourceKey: string;
  /** Bytes to keep (>= 5 MiB: S3's minimum for a part that is not the last). */
  readonly bytes: number;
  /** Size of the whole source object (a copy of all of it needs no range). */
  readonly sourceSize: number;
  /** The ETag seen when the upload was planned; a concurrent overwrite fails the copy. */
  readonly etag: string | undefined;
}

export interface StreamUploadOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly source: Readable;
  /** Size of part 1; later parts follow partSizeFor(). */
  readonly firstPartBytes: number;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly logger: Logger;
  /** Bytes stored before the source's bytes (a resumed upload's kept start, < 5 MiB). */
  readonly head?: Buffer | undefined;
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
}

export interface StreamUploadResult {
  /** Bytes read from the source. */
  readonly bytesRead: number;
  /** Size of the stored object. */
  readonly size: number;
}

export const DEFAULT_ABORT_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000];
const COPY_CONCURRENCY = 2;

/**
 * Streams `source` into one object: PutObject if everything fits in the first
 * part, otherwise a multipart upload with growing parts (see part-size-plan.ts).
 *
 * Memory: part buffers are bounded by uploadBufferLimit() (max(64 MiB, 2 parts)),
 * plus the one source chunk in hand. The source is read only when a buffer is free,
 * so a fast client is slowed to S3's pace (backpressure).
 *
 * Resolves once S3 holds the complete object. On any failure the multipart upload
 * is aborted (retried; if S3 stays unreachable it is logged and the bucket's
 * lifecycle rule removes it), the source is destroyed and a StorageError thrown;
 * the object at `key` is then as it was before.
 */
export function uploadStream(options: StreamUploadOptions): Promise<StreamUploadResult> {
  return new StreamUpload(options).run();
}

/** One part being filled. Part 1 collects chunks (it is often a small whole file); later parts are allocated once. */
class PartBuffer {
  readonly partNumber: number;
  readonly capacity: number;
  length = 0;
  readonly #chunks: Buffer[] = [];
  readonly #buffer: Buffer | undefined;

  constructor(partNumber: number, capacity: number, preallocate: boolean) {
    this.partNumber = partNumber;
    this.capacity = capacity;
    this.#buffer = preallocate ? Buffer.allocUnsafeSlow(capacity) : undefined;
  }

  get full(): boolean {
    return this.length === this.capacity;
  }

  /** Copies as much of chunk[offset..] as fits; returns the number of bytes taken. */
  append(chunk: Buffer, offset: number): number {
    const taken = Math.min(this.capacity - this.length, chunk.length - offset);
    if (this.#buffer !== undefined) {
      chunk.copy(this.#buffer, this.length, offset, offset + taken);
    } else {
      this.#chunks.push(chunk.subarray(offset, offset + taken));
    }
    this.length += taken;
    return taken;
  }

  bytes(): Buffer {
    if (this.#buffer !== undefined) return this.#buffer.subarray(0, this.length);
    return this.#chunks.length === 1 && this.#chunks[0] !== undefined
      ? this.#chunks[0]
      : Buffer.concat(this.#chunks, this.length);
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
  #uploadId: string | undefined;
  readonly #completed: CompletedPart[] = [];
  /** Part uploads (and the background copy) in progress; they never reject. */
  readonly #inFlight = new Set<Promise<void>>();
  #inFlightBytes = 0;
  #bytesRead = 0;

  constructor(options: StreamUploadOptions) {
    this.#options = options;
  }

  async run(): Promise<StreamUploadResult> {
    const { signal } = this.#options;
    if (signal?.aborted === true) {
      this.#options.source.destroy();
      throw new StorageError('aborted', 'Transfer aborted');
    }
    const onCallerAbort = (): void => this.#fail(new StorageError('aborted', 'Transfer aborted'), 'abort');
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const size = await this.#transfer();
      return { bytesRead: this.#bytesRead, size };
    } catch (error) {
      this.#fail(error, 'upload');
      await this.#settle();
      if (this.#uploadId !== undefined) await this.#abortUpload(this.#uploadId);
      throw this.#storageError();
    } finally {
      signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  /** Records the first failure and stops everything in progress (requests and the source). */
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
    const { source, head, copy } = this.#options;
    addAbortSignal(this.#controller.signal, source);
    let partNumber = 1;
    if (copy !== undefined) {
      await this.#createMultipartUpload();
      partNumber = this.#startCopy(copy);
    }
    let part = new PartBuffer(partNumber, this.#partSize(partNumber), false);
    if (head !== undefined && head.length > 0) part.append(head, 0);
    try {
      for await (const received of source as AsyncIterable<Buffer | string>) {
        const chunk = typeof received === 'string' ? Buffer.from(received) : received;
        this.#bytesRead += chunk.length;
        let offset = 0;
        while (offset < chunk.length) {
          if (part.full) {
            // More data after a full part: it is not the last one, so it can go now.
            await this.#dispatch(part);
            part = await this.#nextPart(part.partNumber + 1);
          }
          offset += part.append(chunk, offset);
        }
      }
    } catch (error) {
      this.#throwIfFailed(); // our own abort destroyed the source: report the cause
      throw new StorageError('aborted', 'Transfer aborted: the data connection failed', { cause: error });
    }
    this.#throwIfFailed();

    const keptBytes = copy?.bytes ?? 0;
    if (this.#uploadId === undefined) {
      await this.#beforeCommit();
      await this.#putObject(part.bytes());
      return part.length;
    }
    if (part.length > 0) await this.#dispatch(part);
    await this.#settle();
    this.#throwIfFailed();
    await this.#beforeCommit();
    await this.#completeMultipartUpload(this.#uploadId);
    return keptBytes + (head?.length ?? 0) + this.#bytesRead;
  }

  #partSize(partNumber: number): number {
    if (partNumber > S3_MAX_PARTS) {
      throw new StorageError('transient', 'File too large for storage');
    }
    return partSizeFor(partNumber, this.#options.firstPartBytes);
  }

  /** Waits until a buffer for `partNumber` fits the memory bound and a slot is free. */
  async #nextPart(partNumber: number): Promise<PartBuffer> {
    const capacity = this.#partSize(partNumber);
    while (
      this.#inFlight.size >= UPLOAD_CONCURRENCY ||
      this.#inFlightBytes + capacity > uploadBufferLimit(capacity)
    ) {
      await Promise.race(this.#inFlight);
      this.#throwIfFailed();
    }
    return new PartBuffer(partNumber, capacity, true);
  }

  #track(task: Promise<void>, bytes: number): void {
    this.#inFlightBytes += bytes;
    const tracked: Promise<void> = task.finally(() => {
      this.#inFlight.delete(tracked);
      this.#inFlightBytes -= bytes;
    });
    this.#inFlight.add(tracked);
  }

  async #dispatch(part: PartBuffer): Promise<void> {
    if (this.#uploadId === undefined) await this.#createMultipartUpload();
    const uploadId = this.#uploadId;
    if (uploadId === undefined) return;
    const body = part.bytes();
    const task = this.#options.client
      .send(
        new UploadPartCommand({
          Bucket: this.#options.bucket,
          Key: this.#options.key,
          UploadId: uploadId,
          PartNumber: part.partNumber,
          Body: body,
          ContentLength: body.length,
        }),
        { abortSignal: this.#controller.signal },
      )
      .then(
        (output) => {
          this.#completed.push({ PartNumber: part.partNumber, ETag: output.ETag });
        },
        (error: unknown) => this.#fail(error, 'upload-part'),
      );
    this.#track(task, part.capacity);
  }

  /** Copies the kept start of the existing object into parts 1..n in the background; returns n + 1. */
  #startCopy(copy: CopiedPrefix): number {
    const ranges = copyPartRanges(copy.bytes);
    const uploadId = this.#uploadId;
    const { client, bucket, key } = this.#options;
    const copySource = `${bucket}/${encodeKey(copy.sourceKey)}`;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ranges.length && this.#failure === undefined) {
        const index = next;
        next += 1;
        const range = ranges[index];
        if (range === undefined) return;
        const whole = range.start === 0 && range.end === copy.sourceSize - 1;
        const output = await client.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: index + 1,
            CopySource: copySource,
            CopySourceIfMatch: copy.etag,
            // S3 refuses a byte range on small sources, and a whole copy needs none.
            CopySourceRange: whole ? undefined : `bytes=${range.start}-${range.end}`,
          }),
          { abortSignal: this.#controller.signal },
        );
        this.#completed.push({ PartNumber: index + 1, ETag: output.CopyPartResult?.ETag });
      }
    };
    const workers = Array.from({ length: Math.min(COPY_CONCURRENCY, ranges.length) }, worker);
    this.#track(
      Promise.all(workers).then(
        () => undefined,
        (error: unknown) => this.#fail(error, 'upload-part-copy'),
      ),
      0,
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

  async #putObject(body: Buffer): Promise<void> {
    const { client, bucket, key, metadata, ifMatch } = this.#options;
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          Metadata: { ...metadata },
          IfMatch: ifMatch,
        }),
        { abortSignal: this.#controller.signal },
      );
    } catch (error) {
      this.#fail(error, 'put-object');
      throw error;
    }
  }

  async #createMultipartUpload(): Promise<void> {
    const { client, bucket, key, metadata, logger } = this.#options;
    try {
      // No abort signal: cancelling this request cannot stop S3 from creating the
      // upload, only stop us from learning its id, and an upload nobody knows of
      // cannot be aborted. A failure meanwhile is acted on once the id is known.
      const output = await client.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: { ...metadata } }),
      );
      if (output.UploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId');
      this.#uploadId = output.UploadId;
      logger.debug({ event: 'multipart-upload-started', key, uploadId: output.UploadId });
      this.#throwIfFailed();
    } catch (error) {
      this.#fail(error, 'create-multipart-upload');
      throw error;
    }
  }

  async #completeMultipartUpload(uploadId: string): Promise<void> {
    const { client, bucket, key, ifMatch } = this.#options;
    const parts = [...this.#completed].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
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
        }),
      );
    } catch (error) {
      this.#fail(error, 'complete-multipart-upload');
      throw error;
    }
  }

  /** Aborts the multipart upload, retrying a few times; S3 being down must not leave it behind silently. */
  async #abortUpload(uploadId: string): Promise<void> {
    const { client, bucket, key, logger } = this.#options;
    const delays = this.#options.abortRetryDelaysMs ?? DEFAULT_ABORT_RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
        logger.debug({ event: 'multipart-upload-aborted', key, uploadId });
        return;
      } catch (error) {
        const { kind } = classifyS3Error(error);
        if (kind === 'not-found' || hasName(error, 'NoSuchUpload')) return; // already gone
        const wait = delays[attempt];
        if (wait === undefined) {
          logger.error(
            { event: 'storage-error', operation: 'abort-multipart-upload', kind, key, uploadId, err: errorSummary(error) },
            'could not abort a failed multipart upload; the bucket lifecycle rule will remove it',
          );
          return;
        }
        await delay(wait);
      }
    }
  }
}

function hasName(error: unknown, name: string): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;
}

/** A key as CopySource wants it: URL-encoded, '/' kept. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
