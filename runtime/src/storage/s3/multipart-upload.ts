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
import { abortMultipartUpload } from './abort-multipart-upload.ts';
import { putHeldBack } from './held-back-put.ts';
import { forEachBounded } from '../bounded-concurrency.ts';
import { COPY_PART_CONCURRENCY, copySource } from './copy-source.ts';
import { crc32Combine, crc32ToBase64 } from '../crc32-combine.ts';
import { IncrementalChecksum } from './object-checksum.ts';
import { MAX_BUFFERS_PER_UPLOAD, S3_MAX_PARTS, S3_MIN_PART_BYTES, copyPartRanges, partSizeFor, type ByteRange } from './part-size-plan.ts';
import { classifyS3Error, toStorageError } from './s3-errors.ts';
import { StorageError } from '../storage-error.ts';
import {
  scheduleUpload,
  type PartSink,
  type PartSinkContext,
  type ScheduledUploadSettings,
  type StreamUploadResult,
  type UploadFailure,
} from '../upload-scheduler.ts';
import { verifyCopiedParts, type ExpectedPart, type PartListing } from './verify-copied-parts.ts';
import { durablePrefix, type MultipartUploadRef, type PendingUploadIndex, type StoredPart } from './pending-upload-index.ts';

export type { KeptHead, ProgressDeadline, StreamUploadResult } from '../upload-scheduler.ts';

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

export interface StreamUploadOptions extends ScheduledUploadSettings {
  readonly client: S3Client;
  readonly bucket: string;
  /** Size of part 1; later parts follow partSizeFor(). */
  readonly firstPartBytes: number;
  /** Largest part (see largestPartBytes); at most the pool's capacity. */
  readonly maxPartBytes: number;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** The object's Content-Type. */
  readonly contentType?: string | undefined;
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
 * Reading the source into pooled buffers, with backpressure and the progress
 * deadline, is the scheduler's (upload-scheduler.ts); this module is the S3 session
 * it hands the parts to.
 *
 * Resolves once S3 holds the complete object. On any failure the multipart upload
 * is aborted (retried; if S3 stays unreachable it is logged and the bucket's
 * lifecycle rule removes it), the source is destroyed, every buffer is given back and
 * a StorageError thrown; the object at `key` is then as it was before. With
 * `keepInterrupted`, an upload its client ended keeps the whole parts S3 holds
 * (UploadKeptError says how many bytes): still no object, but a pending upload.
 */
export function uploadStream(options: StreamUploadOptions): Promise<StreamUploadResult> {
  const { firstPartBytes, maxPartBytes, copy, continued } = options;
  return scheduleUpload({
    ...options,
    plan: {
      partBytes: (partNumber) => partSizeFor(partNumber, firstPartBytes, maxPartBytes),
      maxParts: S3_MAX_PARTS,
      maxPartsInFlight: MAX_BUFFERS_PER_UPLOAD,
    },
    priorBytes: (copy?.bytes ?? 0) + (continued?.bytes ?? 0),
    sink: (context) => new MultipartSession(options, context),
  });
}

/** One object's S3 session: PutObject, or a multipart upload (new or continued) with its parts. */
class MultipartSession implements PartSink {
  readonly #options: StreamUploadOptions;
  readonly #context: PartSinkContext;
  #upload: MultipartUploadRef | undefined;
  readonly #completed: CompletedPart[] = [];
  /** The parts S3 holds (kept ones included), with their sizes: what a kept upload resumes from. */
  readonly #stored: StoredPart[] = [];
  /** What the parts copied server side must hold, checked before the commit. */
  #copiedParts: ExpectedPart[] = [];
  /** The ETags S3 gave the copied parts. */
  readonly #copiedEtags = new Map<number, string | undefined>();
  /**
   * CRC32 of every byte sent so far, in order: what the upload event reports, and, where
   * S3 keeps checksums, what it checks the object against. Undefined once a part is copied,
   * or a kept part's CRC32 is unknown (S3 then derives it).
   */
  #wholeCrc32: number | undefined;

  constructor(options: StreamUploadOptions, context: PartSinkContext) {
    this.#options = options;
    this.#context = context;
    this.#wholeCrc32 = options.copy === undefined ? 0 : undefined;
    const continued = options.continued;
    if (continued !== undefined) {
      this.#upload = continued.upload;
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

  get started(): boolean {
    return this.#upload !== undefined;
  }

  get crc32(): number | undefined {
    return this.#wholeCrc32;
  }

  /** A resumed upload's kept start is copied first, in the background; a continued one goes on after its parts. */
  async begin(): Promise<number> {
    const { copy, continued } = this.#options;
    if (copy === undefined) return (continued?.parts.length ?? 0) + 1;
    await this.start();
    return this.#startCopy(copy);
  }

  async start(): Promise<void> {
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
      this.#context.throwIfFailed();
    } catch (error) {
      this.#context.fail(error, 'create-multipart-upload');
      throw error;
    }
  }

  /** Uploads one part; the CRC32s are computed before the request goes out. */
  async sendPart(partNumber: number, body: Buffer): Promise<void> {
    const upload = this.#upload!;
    const partCrc = crc32(body);
    const partCrc32 = this.#options.checksums === true ? crc32ToBase64(partCrc) : undefined;
    // Parts are dispatched in order, so the whole-object CRC grows in order too: from the
    // part's CRC, not from its bytes again.
    if (this.#wholeCrc32 !== undefined) this.#wholeCrc32 = crc32Combine(this.#wholeCrc32, partCrc, body.length);
    let etag: string | undefined;
    try {
      const output = await this.#options.client.send(
        new UploadPartCommand({
          Bucket: this.#options.bucket,
          Key: this.#options.key,
          UploadId: upload.uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
          ChecksumCRC32: partCrc32,
        }),
        { abortSignal: this.#context.signal },
      );
      etag = output.ETag;
    } catch (error) {
      this.#context.fail(error, 'upload-part');
      return;
    }
    this.#completed.push({ PartNumber: partNumber, ETag: etag, ChecksumCRC32: partCrc32 });
    const stored = { partNumber, etag, size: body.length, checksumCrc32: partCrc32 };
    this.#stored.push(stored);
    try {
      await this.#options.keepInterrupted?.partStored(upload, stored);
    } catch (error) {
      this.#context.fail(error, 'record-part');
    }
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
          { abortSignal: this.#context.signal },
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
        this.#context.fail(error, 'upload-part-copy');
      }
    };
    this.#context.track(forEachBounded(ranges, COPY_PART_CONCURRENCY, copyPart, () => this.#context.failed));
    return ranges.length + 1;
  }

  async commitParts(): Promise<void> {
    const uploadId = this.#uploadId!;
    await this.#verifyCopiedParts(uploadId);
    await this.#completeMultipartUpload(uploadId);
  }

  /** 226 means verified: parts S3 copied from another object or version never become the file. */
  async #verifyCopiedParts(uploadId: string): Promise<void> {
    const { client, bucket, key, logger } = this.#options;
    const expected = this.#copiedParts;
    try {
      const copied = this.#copiedEtags;
      const { partListing } = this.#options;
      await verifyCopiedParts({ client, bucket, key, uploadId, expected, copied, signal: this.#context.signal, logger, partListing });
    } catch (error) {
      this.#context.fail(error, 'list-parts');
      throw error;
    }
  }

  async commitWhole(body: Buffer, wholeFile: () => Promise<void>): Promise<void> {
    const { client, bucket, key, metadata, contentType, ifMatch, checksums } = this.#options;
    this.#wholeCrc32 = crc32(body);
    let sha256: Buffer | undefined;
    if (checksums === true) {
      const checksum = new IncrementalChecksum('sha256');
      checksum.update(body);
      sha256 = checksum.digest();
    }
    const input = (condition: string | undefined) => ({
      Bucket: bucket,
      Key: key,
      Metadata: { ...metadata },
      ContentType: contentType,
      IfMatch: condition,
      ChecksumSHA256: sha256?.toString('base64'),
    });
    try {
      try {
        // The request goes out now; its last byte once the file is known to be whole.
        await putHeldBack(client, input(ifMatch), body, wholeFile, sha256);
      } catch (error) {
        // Ceph RGW 16 compares If-Match with the ETag unquoted, so the quoted ETag S3
        // itself returns never matches there. Once more unquoted: where the object
        // really changed, that is refused too.
        const unquoted = ifMatch?.replace(/^"(.*)"$/, '$1');
        if (unquoted === undefined || unquoted === ifMatch || classifyS3Error(error).kind !== 'conflict') throw error;
        await wholeFile();
        // No abort signal, as for CompleteMultipartUpload: once the request is sent, S3
        // may have stored the object; an ABOR cut short here answered 426 for a file S3 held.
        await client.send(new PutObjectCommand({ ...input(unquoted), Body: body, ContentLength: body.length }));
      }
    } catch (error) {
      this.#context.fail(error, 'put-object');
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
      this.#context.fail(error, 'complete-multipart-upload');
      throw error;
    }
    // The object is committed whatever the index says; a stale entry is found gone later.
    await this.#options.keepInterrupted?.ended(this.#upload!).catch(() => undefined);
  }

  /** The failure as a StorageError; the multipart upload is kept for resuming or aborted. */
  async abandon(failure: UploadFailure, bytesRead: number): Promise<StorageError> {
    const error = this.#storageError(failure);
    const kept = this.#keepable(error, bytesRead);
    if (kept !== undefined) return kept;
    if (this.#upload !== undefined) await this.#abortUpload(this.#upload);
    return error;
  }

  #storageError(failure: UploadFailure): StorageError {
    if (failure.error instanceof StorageError) return failure.error;
    if (this.#options.signal?.aborted === true) return new StorageError('aborted', 'Transfer aborted');
    return toStorageError(
      failure.error,
      { operation: failure.operation, key: this.#options.key, signal: this.#options.signal, uploadId: this.#uploadId },
      this.#options.logger,
    );
  }

  /**
   * An upload its client (or the session) ended keeps the whole parts S3 holds, when
   * the store keeps interrupted uploads and it is one (not an append built on an
   * existing object, whose start is that object's). Undefined: abort it.
   */
  #keepable(failure: StorageError, bytesRead: number): UploadKeptError | undefined {
    const { keepInterrupted: index, copy, head, logger, key } = this.#options;
    const upload = this.#upload;
    if (index === undefined || upload === undefined || failure.kind !== 'aborted' || copy !== undefined || head !== undefined) return undefined;
    const durable = durablePrefix(this.#stored, S3_MIN_PART_BYTES);
    if (durable.bytes === 0) return undefined;
    const received = (this.#options.continued?.bytes ?? 0) + bytesRead;
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

  async #abortUpload(upload: MultipartUploadRef): Promise<void> {
    const { client, bucket, key, logger, abortRetryDelaysMs } = this.#options;
    const gone = await abortMultipartUpload({ client, bucket, key, uploadId: upload.uploadId, logger, retryDelaysMs: abortRetryDelaysMs });
    // One S3 still holds stays recorded: the next look at it (or the start sweep) tries again.
    if (gone) await this.#options.keepInterrupted?.ended(upload).catch(() => undefined);
  }
}
