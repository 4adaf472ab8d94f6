import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { abortMultipartUpload } from './abort-multipart-upload.ts';
import { forEachBounded } from '../bounded-concurrency.ts';
import type { ContinuedUpload } from './multipart-upload.ts';
import { S3_MIN_PART_BYTES } from './part-size-plan.ts';
import { durablePrefix, type MultipartUploadRef, type PendingUploadIndex } from './pending-upload-index.ts';
import { StorageError } from '../storage-error.ts';

/** A kept upload that has not expired, with what it holds. */
export interface LiveKeptUpload extends ContinuedUpload {
  readonly expires: Date;
}

/** Kept uploads a listing reports at most, and reads the parts of at once. */
const LISTED_MAX = 100;
const PARTS_READ_CONCURRENCY = 8;
/** Kept uploads pendingBytes counts at most. */
const COUNTED_MAX = 1000;

/**
 * The S3 store's kept (pending) uploads: finds them through the index, discards the
 * expired ones it meets and the ones replaced or deleted, and makes sure one session
 * of this process at a time continues each. Across processes, S3 keeps a continued
 * upload whole: CompleteMultipartUpload names every part's ETag, so parts another
 * session wrote meanwhile fail the commit instead of becoming the file.
 */
export class KeptUploads {
  readonly index: PendingUploadIndex;
  readonly expiryMs: number;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #logger: Logger;
  readonly #continuing = new Set<string>();

  constructor(options: {
    readonly client: S3Client;
    readonly bucket: string;
    readonly logger: Logger;
    readonly index: PendingUploadIndex;
    readonly expiryMs: number;
  }) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#logger = options.logger;
    this.index = options.index;
    this.expiryMs = options.expiryMs;
  }

  /** The newest live kept upload of `key` with bytes to continue, or undefined. */
  async of(key: string, signal?: AbortSignal): Promise<LiveKeptUpload | undefined> {
    const uploads = await this.#unexpired(await this.index.ofKey(key, signal));
    const newest = uploads.at(-1);
    return newest === undefined ? undefined : await this.#withParts(newest, signal);
  }

  /** Live kept uploads directly below folder `prefix`, at most LISTED_MAX. */
  async inFolder(prefix: string, signal?: AbortSignal): Promise<LiveKeptUpload[]> {
    const uploads = (await this.#unexpired(await this.index.inFolder(prefix, signal))).slice(-LISTED_MAX);
    return await this.#allWithParts(uploads, signal);
  }

  async bytesBelow(prefix: string, signal?: AbortSignal): Promise<number> {
    const uploads = await this.#unexpired(await this.index.below(prefix, COUNTED_MAX, signal));
    return (await this.#allWithParts(uploads, signal)).reduce((sum, upload) => sum + upload.bytes, 0);
  }

  /**
   * At start: discards the expired uploads below `prefix` (and, with `alone`, the ones
   * holding no whole part: no other process can be sending them), and logs what stays
   * pending. A page of uploads at most; the lifecycle rule removes any beyond it.
   */
  async sweep(prefix: string, alone: boolean): Promise<void> {
    const uploads = await this.#unexpired(await this.index.below(prefix, COUNTED_MAX));
    let kept = 0;
    let bytes = 0;
    for (const upload of uploads) {
      const live = await this.#withParts(upload);
      if (live !== undefined) {
        kept += 1;
        bytes += live.bytes;
      } else if (alone) {
        await this.#abort(upload, 'unfinished');
      }
    }
    this.#logger.info({ event: 'pending-uploads-found', uploads: kept, durableBytes: bytes, expiryHours: this.expiryMs / 3_600_000 });
  }

  /** Discards every multipart upload of `key`; false when there was none. */
  async discard(key: string, reason: 'replaced' | 'deleted', signal?: AbortSignal): Promise<boolean> {
    const uploads = await this.index.ofKey(key, signal);
    for (const upload of uploads) await this.#abort(upload, reason);
    return uploads.length > 0;
  }

  /** Holds `key` for one continuing session of this process; call the result to let go. */
  claim(key: string): () => void {
    if (this.#continuing.has(key)) {
      throw new StorageError('conflict', 'Another session is continuing this upload');
    }
    this.#continuing.add(key);
    return () => this.#continuing.delete(key);
  }

  isClaimed(key: string): boolean {
    return this.#continuing.has(key);
  }

  async #unexpired(uploads: readonly MultipartUploadRef[]): Promise<MultipartUploadRef[]> {
    const now = Date.now();
    const live: MultipartUploadRef[] = [];
    for (const upload of uploads) {
      if (upload.initiated.getTime() + this.expiryMs <= now) await this.#abort(upload, 'expired');
      else live.push(upload);
    }
    return live;
  }

  async #allWithParts(uploads: readonly MultipartUploadRef[], signal?: AbortSignal): Promise<LiveKeptUpload[]> {
    const found: Array<LiveKeptUpload | undefined> = new Array(uploads.length);
    await forEachBounded(uploads, PARTS_READ_CONCURRENCY, async (upload, index) => {
      found[index] = await this.#withParts(upload, signal);
    });
    return found.filter((upload): upload is LiveKeptUpload => upload !== undefined);
  }

  async #withParts(upload: MultipartUploadRef, signal?: AbortSignal): Promise<LiveKeptUpload | undefined> {
    let stored;
    try {
      stored = await this.index.parts(upload, signal);
    } catch (error) {
      // Completed or aborted since it was listed: no longer pending.
      if (error instanceof StorageError && error.kind === 'not-found') return undefined;
      throw error;
    }
    const { parts, bytes } = durablePrefix(stored, S3_MIN_PART_BYTES);
    if (bytes === 0) return undefined;
    return { upload, parts, bytes, expires: new Date(upload.initiated.getTime() + this.expiryMs) };
  }

  async #abort(upload: MultipartUploadRef, reason: 'expired' | 'replaced' | 'deleted' | 'unfinished'): Promise<void> {
    // One a session of this process is continuing is its own to finish or keep.
    if (reason === 'expired' && this.#continuing.has(upload.key)) return;
    const gone = await abortMultipartUpload({ client: this.#client, bucket: this.#bucket, key: upload.key, uploadId: upload.uploadId, logger: this.#logger, retryDelaysMs: [] });
    if (!gone) return;
    await this.index.ended(upload).catch(() => undefined);
    this.#logger.info({
      event: reason === 'expired' ? 'upload-expired' : reason === 'replaced' ? 'upload-replaced' : 'upload-discarded',
      reason, key: upload.key, uploadId: upload.uploadId, initiated: upload.initiated.toISOString() });
  }
}
