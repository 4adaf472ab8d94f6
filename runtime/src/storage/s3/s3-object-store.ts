import { Readable } from 'node:stream';
import type { HeadObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { pino, type Logger } from 'pino';
import { MTIME_METADATA_KEY, formatClientMtime, parseClientMtime } from './client-mtime.ts';
import { IncrementalChecksum } from '../incremental-checksum.ts';
import { storedChecksum } from './object-checksum.ts';
import type {
  ChecksumAlgorithm,
  ChecksumOptions,
  ChecksumResult,
  EntryInfo,
  ListOptions,
  ObjectStore,
  OperationOptions,
  ReadOptions,
  ReadResult,
  RenameOptions,
  SetModifiedOptions,
  StoreCapabilities,
  SetModifiedResult,
  WriteOptions,
  WriteResult,
} from '../object-store.ts';
import {
  DEFAULT_FIRST_PART_BYTES,
  MIB,
  S3_MIN_PART_BYTES,
  checkFirstPartBytes,
  largestPartBytes,
  largestStreamBytes,
} from './part-size-plan.ts';
import { forEachBounded } from '../bounded-concurrency.ts';
import { LIST_PAGE_SIZE, S3FolderListing } from './s3-folder-listing.ts';
import { contentTypeFor } from '../content-type.ts';
import { DigestCache } from '../digest-cache.ts';
import type { PercentCopyMode } from './copy-source.ts';
import { uploadStream, type CopiedPrefix, type KeptHead, type ProgressDeadline } from './multipart-upload.ts';
import { PercentCopyCheck } from './percent-copy-check.ts';
import { S3Gateway } from './s3-gateway.ts';
import { copyObjectServerSide } from './server-side-copy.ts';
import { crc32ToBase64 } from '../crc32-combine.ts';
import { StorageError } from '../storage-error.ts';
import { KeyMapper, checkKeyLength, checkMetadataNames, checkOffset, isValidEntryName, lastSegment } from '../store-path.ts';
import { toStorageError } from './s3-errors.ts';
import { UploadBufferPool } from '../upload-buffer-pool.ts';
import { resumableObjectBody } from './resumable-object-body.ts';
import { PartListing, md5Etag } from './verify-copied-parts.ts';
import { KeptUploads } from './kept-uploads.ts';
import { JournalPendingUploadIndex, S3PendingUploadIndex } from './pending-upload-index.ts';
import type { PendingUpload, PendingUploadStore } from '../pending-uploads.ts';

export interface S3ObjectStoreOptions {
  /** Shared S3 client (see createS3Client); the store does not destroy it. */
  readonly client: S3Client;
  readonly bucket: string;
  /** Root prefix inside the bucket: '' or 'a/b' (no leading or trailing slash). */
  readonly prefix: string;
  /** First multipart part size, 5 MiB..5 GiB; later parts grow (part-size-plan.ts). @default 8 MiB */
  readonly partSizeBytes?: number;
  /**
   * The process-wide budget every upload's part buffers come from; it must hold at
   * least one first part. @default a pool of 256 MiB of the store's own
   */
  readonly buffers?: UploadBufferPool;
  /**
   * Uploads that would store a larger object are refused ('too-large').
   * @default the largest stream the buffer budget allows (largestStreamBytes)
   */
  readonly maxFileBytes?: number;
  /** A folder rename touching more objects than this is refused. @default 1000 */
  readonly renameMaxObjects?: number;
  /** @default a silent logger */
  readonly logger?: Logger;
  /** Waits between attempts to abort a failed multipart upload. @default [500, 1000, 2000, 4000] */
  readonly abortRetryDelaysMs?: readonly number[];
  /**
   * Have S3 keep a full-object checksum of every upload (SHA-256 or CRC32, see
   * multipart-upload.ts), so checksum() answers without reading. Off for stores that
   * refuse checksum headers (S3_CHECKSUM=when_required). @default true
   */
  readonly storeChecksums?: boolean;
  /**
   * list() reads the times clients set, at one HeadObject per file version not seen yet
   * (FTP_LIST_CLIENT_TIMES); off, listings show LastModified. @default true
   */
  readonly listClientTimes?: boolean;
  /**
   * How an append or resume keeps the start of a '%' name: copied in S3, read back,
   * or probed once (S3_COPY_PERCENT_NAMES). @default 'detect'
   */
  readonly percentCopy?: PercentCopyMode;
  /**
   * An upload holding a part buffer fails once it has waited this long for its client
   * with less than MIN_UPLOAD_BYTES_PER_SECOND arriving (see ProgressDeadline). @default 30000
   */
  readonly uploadStallMs?: number;
  /**
   * A download body its reader leaves unread this long lets its S3 connection go and
   * fetches the rest when the reader is back (resumable-object-body.ts); below the S3
   * client's socket timeout. @default 20000
   */
  readonly readReleaseMs?: number;
  /**
   * Keep the whole parts of an upload its client ended, as a pending upload to
   * continue (PendingUploadStore), for `expiryMs` from its start. S3 says which it
   * holds (ListMultipartUploads, ListParts) unless `journalFile` names a file to keep
   * that in (an S3 server answering neither). Undefined: interrupted uploads are aborted.
   */
  readonly keepInterrupted?: { readonly expiryMs: number; readonly journalFile?: string | undefined } | undefined;
}

/** The budget of a store given none (tests, tools); the bridge passes FTP_UPLOAD_BUFFER_MIB's. */
const DEFAULT_BUFFER_BYTES = 256 * MIB;
/** The least an upload holding a part buffer must receive, on average over FTP_UPLOAD_STALL_SECONDS. */
const MIN_UPLOAD_BYTES_PER_SECOND = 1024;
const DEFAULT_UPLOAD_STALL_MS = 30_000;
/** A third of the S3 client's default socket timeout (s3-client.ts). */
const DEFAULT_READ_RELEASE_MS = 20_000;
/** Objects of a folder rename copied at once. */
const RENAME_CONCURRENCY = 8;
/** Computed checksums the store remembers (about 250 bytes each whatever the key: 5 MiB at most). */
const DIGEST_CACHE_ENTRIES = 20_000;

const PRINTABLE_ASCII = /^[\u0020-\u007e]*$/;

/**
 * The ObjectStore on Amazon S3 (or an S3-compatible store). Store paths are keys
 * below `prefix`; a folder is a zero-byte `name/` marker or any key below `name/`.
 * Every method throws only StorageError.
 */
export class S3ObjectStore implements ObjectStore, PendingUploadStore {
  readonly #digests = new DigestCache({ maxEntries: DIGEST_CACHE_ENTRIES });
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #s3: S3Gateway;
  readonly #keys: KeyMapper;
  readonly #firstPartBytes: number;
  readonly #buffers: UploadBufferPool;
  readonly #maxPartBytes: number;
  /** The largest file an upload may store. */
  readonly maxFileBytes: number;
  readonly capabilities: StoreCapabilities;
  readonly #renameMaxObjects: number;
  readonly #logger: Logger;
  readonly #abortRetryDelaysMs: readonly number[] | undefined;
  readonly #storeChecksums: boolean;
  readonly #listing: S3FolderListing;
  readonly #percentCopy: PercentCopyCheck;
  readonly #partListing: PartListing;
  readonly #uploadProgress: ProgressDeadline;
  readonly #readReleaseMs: number;
  readonly #kept: KeptUploads | undefined;

  constructor(options: S3ObjectStoreOptions) {
    if (options.bucket === '') throw new TypeError('bucket must not be empty');
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#keys = new KeyMapper(options.prefix);
    this.#firstPartBytes = options.partSizeBytes ?? DEFAULT_FIRST_PART_BYTES;
    checkFirstPartBytes(this.#firstPartBytes);
    this.#buffers = options.buffers ?? new UploadBufferPool({ capacityBytes: DEFAULT_BUFFER_BYTES });
    this.#readReleaseMs = options.readReleaseMs ?? DEFAULT_READ_RELEASE_MS;
    const stallMs = options.uploadStallMs ?? DEFAULT_UPLOAD_STALL_MS;
    this.#uploadProgress = { windowMs: stallMs, minBytes: Math.ceil((stallMs / 1000) * MIN_UPLOAD_BYTES_PER_SECOND) };
    this.#maxPartBytes = largestPartBytes(this.#buffers.capacityBytes, this.#firstPartBytes);
    const largest = largestStreamBytes(this.#firstPartBytes, this.#maxPartBytes);
    this.maxFileBytes = Math.min(largest, options.maxFileBytes ?? largest);
    if (!Number.isSafeInteger(this.maxFileBytes) || this.maxFileBytes < 0) {
      throw new RangeError(`maxFileBytes must be a non-negative integer, got ${options.maxFileBytes}`);
    }
    this.#renameMaxObjects = options.renameMaxObjects ?? 1000;
    if (!Number.isSafeInteger(this.#renameMaxObjects) || this.#renameMaxObjects < 1) {
      throw new RangeError(`renameMaxObjects must be a positive integer, got ${this.#renameMaxObjects}`);
    }
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.#s3 = new S3Gateway({ client: this.#client, bucket: this.#bucket, logger: this.#logger });
    this.#abortRetryDelaysMs = options.abortRetryDelaysMs;
    this.#storeChecksums = options.storeChecksums ?? true;
    this.capabilities = {
      name: 'S3',
      checksums: ['sha256', 'sha1', 'md5', 'crc32'],
      // What this store's uploads ask S3 to keep (multipart-upload.ts); a store that keeps none (RGW 16) is still read.
      storedChecksums: this.#storeChecksums ? ['sha256', 'crc32'] : [],
      clientTimes: true,
      // A folder's marker object has one; a folder that is only a prefix has none.
      folderTimes: true,
      append: 'copy',
      serverSideRename: true,
      maxFileBytes: this.maxFileBytes,
    };
    this.#listing = new S3FolderListing({ gateway: this.#s3, clientTimes: options.listClientTimes ?? true });
    this.#partListing = new PartListing({ bucket: this.#bucket, prefix: this.#keys.prefix });
    const keep = options.keepInterrupted;
    if (keep !== undefined) {
      const index =
        keep.journalFile === undefined
          ? new S3PendingUploadIndex({ client: this.#client, bucket: this.#bucket, logger: this.#logger })
          : new JournalPendingUploadIndex(keep.journalFile);
      this.#kept = new KeptUploads({ client: this.#client, bucket: this.#bucket, logger: this.#logger, index, expiryMs: keep.expiryMs });
    }
    this.#percentCopy = new PercentCopyCheck({
      client: this.#client,
      bucket: this.#bucket,
      prefix: this.#keys.prefix,
      mode: options.percentCopy ?? 'detect',
      logger: this.#logger,
    });
  }

  async stat(path: string, options: OperationOptions = {}): Promise<EntryInfo | undefined> {
    const key = this.#keys.key(path);
    if (path === '') return { name: '', kind: 'directory', size: 0, modified: undefined };
    const name = lastSegment(path);
    // Files are the common case (SIZE, MDTM, RETR): one HEAD, and a LIST only for folders.
    const head = await this.#s3.head(key, options.signal);
    if (head !== undefined) return fileEntry(name, head);
    const prefix = `${key}/`;
    const page = await this.#s3.listPage({ Prefix: prefix, MaxKeys: 1 }, options.signal);
    const first = page.Contents?.[0];
    if (first === undefined && (page.CommonPrefixes?.length ?? 0) === 0) return undefined;
    // The marker sorts before every key below it, so it is first when it exists.
    const modified = first?.Key === prefix ? first.LastModified : undefined;
    return { name, kind: 'directory', size: 0, modified };
  }

  async isFolder(path: string, options: OperationOptions = {}): Promise<boolean> {
    if (path === '') return true;
    const prefix = this.#keys.folderPrefix(path);
    const page = await this.#s3.listPage({ Prefix: prefix, MaxKeys: 1 }, options.signal);
    return (page.Contents?.length ?? 0) > 0 || (page.CommonPrefixes?.length ?? 0) > 0;
  }

  /** See S3FolderListing.list. */
  async *list(dir: string, options: ListOptions = {}): AsyncIterable<readonly EntryInfo[]> {
    yield* this.#listing.list(this.#keys.folderPrefix(dir), options);
  }

  async read(path: string, options: ReadOptions = {}): Promise<ReadResult> {
    const key = this.#fileKey(path);
    const offset = options.offset ?? 0;
    checkOffset(offset);
    const { signal } = options;
    const got = await this.#s3.get(key, { range: offset > 0 ? `bytes=${offset}-` : undefined, beyondEnd: 'undefined' }, signal);
    if (got === undefined) {
      // S3 refuses a range starting at the end: reading from there is an empty read.
      const head = await this.#s3.head(key, signal);
      if (head === undefined) throw new StorageError('not-found', 'No such file or folder');
      const size = head.ContentLength ?? 0;
      if (offset !== size) throw new StorageError('invalid-offset', 'Offset beyond end of file');
      return { body: Readable.from([]), size };
    }
    const { output } = got;
    const size = totalSize(output.ContentRange) ?? offset + (output.ContentLength ?? 0);
    const etag = output.ETag;
    const reopen = async (from: number, bodySignal: AbortSignal): Promise<Readable> =>
      (await this.#s3.read(key, { range: `bytes=${from}-`, ifMatch: etag }, bodySignal)).body;
    const body = resumableObjectBody({
      first: got.body,
      offset,
      size,
      reopen,
      releaseAfterMs: this.#readReleaseMs,
      toError: (error) => this.#s3.failure(error, { operation: 'get-object', key, signal }),
      signal,
    });
    return { body, size };
  }

  async write(path: string, source: Readable, options: WriteOptions = {}): Promise<WriteResult> {
    const { signal } = options;
    // The caller's refusal to have bytes read back is its own error, passed on as it is.
    let refusal: { readonly error: unknown } | undefined;
    const beforeReadBack = (bytes: number): void => {
      try {
        options.beforeReadBack?.(bytes);
      } catch (error) {
        refusal = { error };
        throw error;
      }
    };
    try {
      const key = this.#fileKey(path);
      const offset = options.offset ?? 0;
      checkOffset(offset);
      const metadata = encodeMetadata(options.metadata);
      let head: KeptHead | undefined;
      let copy: CopiedPrefix | undefined;
      let planned: string | undefined;
      let body = source;
      if (offset > 0) {
        const existing = await this.#s3.head(key, signal);
        if (existing === undefined) throw new StorageError('not-found', 'No such file or folder');
        planned = existing.ETag;
        const size = existing.ContentLength ?? 0;
        if (offset > size) throw new StorageError('invalid-offset', 'Offset beyond end of file');
        if (offset >= S3_MIN_PART_BYTES && !(await this.#percentCopy.mayCopy(key, signal))) {
          // A store that decodes an UploadPartCopy source twice (Ceph RGW) would copy
          // another object, fail, or crash with '%' in the name: the kept bytes come
          // through here (see percent-copy-check.ts).
          beforeReadBack(offset);
          body = concatenated(await this.#readKept(key, offset, existing.ETag, signal), source);
        } else if (offset >= S3_MIN_PART_BYTES) {
          const md5 = md5Etag(existing.ETag, existing.ServerSideEncryption);
          copy = { sourceKey: key, bytes: offset, sourceSize: size, etag: existing.ETag, md5Etag: md5 };
        } else {
          // Too small to be a part of its own: read into part 1's buffer and sent again.
          beforeReadBack(offset);
          head = { bytes: offset, read: (into, headSignal) => this.#readStart(key, into, existing.ETag, headSignal) };
        }
      }
      const result = await uploadStream({
        ...this.#uploadSettings(key, options),
        source: body,
        metadata,
        contentType: contentTypeFor(path),
        signal,
        logger: this.#logger,
        head,
        copy,
        abortRetryDelaysMs: this.#abortRetryDelaysMs,
        // A resume or append is built on the version it planned from: another upload
        // committed meanwhile must not be overwritten with old bytes plus new ones.
        // If-Match makes S3 refuse atomically; the check before it covers stores that
        // ignore If-Match (and x-amz-copy-source-if-match) and narrows the race there.
        ifMatch: planned,
        checksums: this.#storeChecksums,
        partListing: this.#partListing,
        beforeCommit: planned === undefined ? undefined : () => this.#expectVersion(key, planned, signal),
        onBufferUse: options.onBufferUse,
        // Only a file written from its first byte is kept: an append's start is another object's.
        keepInterrupted: offset === 0 ? this.#kept?.index : undefined,
      });
      return { bytesWritten: result.bytesRead - (body === source ? 0 : offset), size: result.size, crc32: crc32OrUndefined(result.crc32) };
    } catch (error) {
      source.destroy();
      if (refusal !== undefined && error === refusal.error) throw error;
      throw this.#s3.failure(error, { operation: 'write', key: path, signal });
    }
  }

  async pendingUpload(path: string, options: OperationOptions = {}): Promise<PendingUpload | undefined> {
    const kept = await this.#kept?.of(this.#fileKey(path), options.signal);
    return kept === undefined ? undefined : pendingUploadOf(kept.upload.key, kept);
  }

  async pendingUploads(dir: string, options: OperationOptions = {}): Promise<readonly PendingUpload[]> {
    if (this.#kept === undefined) return [];
    const prefix = this.#keys.folderPrefix(dir);
    const uploads = await this.#kept.inFolder(prefix, options.signal);
    return uploads
      .filter((kept) => isValidEntryName(kept.upload.key.slice(prefix.length)))
      .map((kept) => pendingUploadOf(kept.upload.key, kept));
  }

  async pendingBytes(dir: string, options: OperationOptions = {}): Promise<number> {
    return (await this.#kept?.bytesBelow(this.#keys.folderPrefix(dir), options.signal)) ?? 0;
  }

  async discardPendingUpload(path: string, options: OperationOptions & { readonly reason?: 'replaced' | 'deleted' } = {}): Promise<boolean> {
    return (await this.#kept?.discard(this.#fileKey(path), options.reason ?? 'deleted', options.signal)) ?? false;
  }

  /** What every upload of this store shares. */
  #uploadSettings(key: string, options: WriteOptions) {
    return {
      client: this.#client,
      bucket: this.#bucket,
      key,
      buffers: this.#buffers,
      bufferOwners: options.bufferOwners,
      progressDeadline: this.#uploadProgress,
      firstPartBytes: this.#firstPartBytes,
      maxPartBytes: this.#maxPartBytes,
      maxObjectBytes: this.maxFileBytes,
      wholeFile: options.wholeFile,
    };
  }

  /**
   * Run once at start: discards expired pending uploads, and logs how many stay. With a
   * journal (one process), uploads that hold no whole part are discarded too: they were
   * cut before any could be kept (a killed process). Never throws.
   */
  async sweepPendingUploads(): Promise<void> {
    try {
      await this.#kept?.sweep(this.#keys.prefix === '' ? '' : `${this.#keys.prefix}/`, this.#kept.index instanceof JournalPendingUploadIndex);
    } catch (error) {
      toStorageError(error, { operation: 'sweep-pending-uploads', key: this.#keys.prefix }, this.#logger);
    }
  }

  async continueUpload(path: string, source: Readable, options: WriteOptions & { readonly offset: number }): Promise<WriteResult> {
    const { signal } = options;
    try {
      const key = this.#fileKey(path);
      if (this.#kept === undefined) throw new StorageError('not-found', 'No upload of this file to continue');
      const release = this.#kept.claim(key);
      try {
        const kept = await this.#kept.of(key, signal);
        if (kept === undefined) throw new StorageError('not-found', 'No upload of this file to continue');
        if (options.offset !== kept.bytes) {
          throw new StorageError('invalid-offset', `The upload of this file continues at byte ${kept.bytes}`);
        }
        this.#logger.info({ event: 'upload-resumed', key, uploadId: kept.upload.uploadId, durableBytes: kept.bytes });
        const result = await uploadStream({
          ...this.#uploadSettings(key, options),
          source,
          signal,
          logger: this.#logger,
          abortRetryDelaysMs: this.#abortRetryDelaysMs,
          checksums: this.#storeChecksums,
          onBufferUse: options.onBufferUse,
          keepInterrupted: this.#kept.index,
          continued: kept,
        });
        return { bytesWritten: result.bytesRead, size: result.size, crc32: crc32OrUndefined(result.crc32) };
      } finally {
        release();
      }
    } catch (error) {
      source.destroy();
      throw toStorageError(error, { operation: 'write', key: path, signal }, this.#logger);
    }
  }

  async delete(path: string, options: OperationOptions = {}): Promise<void> {
    const key = this.#fileKey(path);
    // DeleteObject succeeds on a missing key; the contract wants 'not-found'.
    if ((await this.#s3.head(key, options.signal)) === undefined) {
      throw new StorageError('not-found', 'No such file or folder');
    }
    await this.#s3.deleteObject(key, options.signal);
  }

  async makeDirectory(path: string, options: OperationOptions = {}): Promise<void> {
    if (path === '') throw new StorageError('already-exists', 'Already exists');
    const key = this.#keys.key(path, '/');
    if ((await this.stat(path, options)) !== undefined) throw new StorageError('already-exists', 'Already exists');
    await this.#s3.putEmpty(`${key}/`, options.signal);
  }

  async removeDirectory(path: string, options: OperationOptions = {}): Promise<void> {
    if (path === '') throw new StorageError('invalid-name', 'The root folder cannot be removed');
    const prefix = this.#keys.folderPrefix(path);
    // The marker sorts first, so two keys tell "missing", "only the marker" and "not empty" apart.
    const page = await this.#s3.listPage({ Prefix: prefix, MaxKeys: 2 }, options.signal);
    const keys = (page.Contents ?? []).map((object) => object.Key);
    if (keys.length === 0) throw new StorageError('not-found', 'No such file or folder');
    if (keys.some((key) => key !== prefix)) throw new StorageError('not-empty', 'Folder is not empty');
    await this.#s3.deleteObject(prefix, options.signal);
  }

  async rename(from: string, to: string, options: RenameOptions = {}): Promise<void> {
    if (from === '' || to === '') throw new StorageError('invalid-name', 'The root folder cannot be renamed');
    const fromKey = this.#keys.key(from);
    const toKey = this.#keys.key(to);
    if (to === from || to.startsWith(`${from}/`)) {
      throw new StorageError('invalid-name', 'A folder cannot be moved into itself');
    }
    const { signal } = options;
    const file = await this.#s3.head(fromKey, signal);
    if (file === undefined && (await this.stat(from, options)) === undefined) {
      throw new StorageError('not-found', 'No such file or folder');
    }
    if ((await this.stat(to, options)) !== undefined) throw new StorageError('already-exists', 'Already exists');
    if (file !== undefined) {
      options.beforeCopy?.(1);
      await this.#renameFile({ key: fromKey, size: file.ContentLength ?? 0, etag: file.ETag }, toKey, signal);
    } else {
      await this.#renameFolder(this.#keys.folderPrefix(from), this.#keys.folderPrefix(to), { signal, beforeCopy: options.beforeCopy });
    }
  }

  async setModified(path: string, time: Date, options: SetModifiedOptions = {}): Promise<SetModifiedResult> {
    const key = this.#fileKey(path);
    const { signal } = options;
    const head = await this.#s3.head(key, signal, { checksums: true });
    if (head === undefined) throw new StorageError('not-found', 'No such file or folder');
    const precision = options.precisionMs ?? 1;
    const current = parseClientMtime(head.Metadata);
    if (current !== undefined && Math.floor(current.getTime() / precision) === Math.floor(time.getTime() / precision)) {
      return { changed: false };
    }
    options.beforeCopy?.();
    await copyObjectServerSide({
      client: this.#client,
      bucket: this.#bucket,
      source: { key, size: head.ContentLength ?? 0, etag: head.ETag },
      targetKey: key,
      logger: this.#logger,
      signal,
      replace: { metadata: { ...head.Metadata, [MTIME_METADATA_KEY]: formatClientMtime(time) }, head },
    });
    return { changed: true };
  }

  async checksum(path: string, options: ChecksumOptions): Promise<ChecksumResult> {
    const key = this.#fileKey(path);
    const { algorithm, signal } = options;
    const head = await this.#s3.head(key, signal, { checksums: true });
    if (head === undefined) throw new StorageError('not-found', 'No such file or folder');
    const size = head.ContentLength ?? 0;
    const start = options.range?.start ?? 0;
    const end = options.range?.end ?? size;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end > size) {
      throw new StorageError('invalid-offset', 'Range outside the file');
    }
    if (start === 0 && end === size) {
      const stored = storedChecksum(head, algorithm);
      if (stored !== undefined) return { digest: stored, start, end, source: 'stored' };
    }
    if (end === start) return { digest: new IncrementalChecksum(algorithm).digest(), start, end, source: 'computed' };
    const read = (readSignal: AbortSignal): Promise<Buffer> => this.#readDigest({ key, etag: head.ETag, algorithm, start, end }, readSignal);
    if (head.ETag === undefined) {
      // No version to keep it under: read, within the caller's allowance.
      options.beforeRead?.(end - start);
      return { digest: await read(signal ?? new AbortController().signal), start, end, source: 'computed' };
    }
    const subject = { key, etag: head.ETag, lastModified: head.LastModified, algorithm, start, end };
    const { digest, how } = await this.#digests.compute(subject, { read, signal, beforeRead: () => options.beforeRead?.(end - start) });
    return { digest, start, end, source: how === 'read' ? 'computed' : 'remembered' };
  }

  /** Reads [start, end) of the version with `etag` once, hashing as it arrives. */
  async #readDigest(
    what: { readonly key: string; readonly etag: string | undefined; readonly algorithm: ChecksumAlgorithm; readonly start: number; readonly end: number },
    signal: AbortSignal,
  ): Promise<Buffer> {
    const { key, etag, algorithm, start, end } = what;
    const checksum = new IncrementalChecksum(algorithm);
    // Read once, at the pace hashing takes; the version HEAD saw, or a conflict.
    const { body: raw } = await this.#s3.read(key, { range: `bytes=${start}-${end - 1}`, ifMatch: etag }, signal);
    const body = this.#s3.guardBody(raw, key, signal);
    let read = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      // A store that ignored the range must not make the checksum cover other bytes.
      const wanted = chunk.subarray(0, Math.max(0, end - start - read));
      checksum.update(wanted);
      read += wanted.length;
    }
    if (read !== end - start) throw new StorageError('conflict', 'The file changed during the operation');
    return checksum.digest();
  }

  async #renameFile(
    source: { readonly key: string; readonly size: number; readonly etag: string | undefined },
    targetKey: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    await this.#copy(source, targetKey, signal);
    try {
      await this.#s3.deleteObject(source.key, signal);
    } catch (error) {
      // Leave things as they were rather than with two copies.
      await this.#s3.deleteQuietly([targetKey]);
      throw error;
    }
  }

  async #renameFolder(fromPrefix: string, toPrefix: string, options: Pick<RenameOptions, 'signal' | 'beforeCopy'>): Promise<void> {
    const { signal } = options;
    // Enumerate everything first: refuse before changing anything.
    const objects: { key: string; size: number; etag: string | undefined }[] = [];
    let token: string | undefined;
    do {
      const page = await this.#s3.listPage(
        { Prefix: fromPrefix, MaxKeys: LIST_PAGE_SIZE, ContinuationToken: token },
        signal,
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        objects.push({ key: object.Key, size: object.Size ?? 0, etag: object.ETag });
        if (objects.length > this.#renameMaxObjects) {
          throw new StorageError('too-many-objects', `Folder holds more than ${this.#renameMaxObjects} files; not renamed`);
        }
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    const moves = objects.map((object) => ({ source: object, targetKey: toPrefix + object.key.slice(fromPrefix.length) }));
    for (const move of moves) checkKeyLength(move.targetKey);
    options.beforeCopy?.(moves.length);

    const copied: string[] = [];
    const copyOne = async (move: (typeof moves)[number]): Promise<void> => {
      await this.#copy(move.source, move.targetKey, signal);
      copied.push(move.targetKey);
    };
    try {
      await forEachBounded(moves, RENAME_CONCURRENCY, copyOne);
    } catch (error) {
      await this.#s3.deleteQuietly(copied);
      throw this.#s3.failure(error, { operation: 'copy-object', key: toPrefix, signal });
    }
    // Every copy exists now; a failure below leaves the old folder partly in place,
    // never a file lost.
    await this.#s3.deleteKeys(objects.map((object) => object.key), signal);
  }

  #copy(
    source: { readonly key: string; readonly size: number; readonly etag: string | undefined },
    targetKey: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    return copyObjectServerSide({
      client: this.#client,
      bucket: this.#bucket,
      source,
      targetKey,
      logger: this.#logger,
      signal,
      abortRetryDelaysMs: this.#abortRetryDelaysMs,
    });
  }

  /** Store path of a file: '' (the root folder) is not one. */
  #fileKey(path: string): string {
    if (path === '') throw new StorageError('invalid-name', 'Invalid file name');
    return this.#keys.key(path);
  }

  /** Throws 'conflict' unless the object still exists with `etag`. */
  async #expectVersion(key: string, etag: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    const current = await this.#s3.head(key, signal);
    if (current?.ETag !== etag) {
      throw new StorageError('conflict', 'The file changed during the operation; nothing was stored');
    }
  }

  /** The first `bytes` bytes of an object, if it still has `etag`. */
  async #readKept(key: string, bytes: number, etag: string | undefined, signal: AbortSignal | undefined): Promise<Readable> {
    const { output, body } = await this.#s3.read(key, { range: `bytes=0-${bytes - 1}`, ifMatch: etag }, signal);
    if (output.ContentLength !== bytes) throw new StorageError('conflict', 'The file changed during the operation; nothing was stored');
    return this.#s3.guardBody(body, key, signal);
  }

  /** Fills `into` with the first `into.length` bytes of an object, if it still has `etag`. */
  async #readStart(key: string, into: Buffer, etag: string | undefined, signal: AbortSignal): Promise<void> {
    const { body } = await this.#s3.read(key, { range: `bytes=0-${into.length - 1}`, ifMatch: etag }, signal);
    await this.#s3.call({ operation: 'get-object', key, signal }, async () => {
      let filled = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        // More than asked for would mean the range was ignored: the copy below stops at the end.
        filled += chunk.copy(into, filled);
        if (filled === into.length) break;
      }
      if (filled !== into.length) throw new StorageError('conflict', 'The file changed during the operation; nothing was stored');
    });
  }
}

/** `first`'s bytes, then `then`'s. */
function concatenated(first: Readable, then: Readable): Readable {
  return Readable.from(
    (async function* () {
      yield* first;
      yield* then;
    })(),
  );
}

function fileEntry(name: string, head: HeadObjectCommandOutput): EntryInfo {
  const modified = parseClientMtime(head.Metadata) ?? head.LastModified;
  return { name, kind: 'file', size: head.ContentLength ?? 0, modified };
}

function pendingUploadOf(key: string, kept: { readonly bytes: number; readonly upload: { readonly initiated: Date }; readonly expires: Date }): PendingUpload {
  return { name: key.slice(key.lastIndexOf('/') + 1), durableBytes: kept.bytes, started: kept.upload.initiated, expires: kept.expires };
}

/** "bytes 0-9/1234" → 1234. */
function totalSize(contentRange: string | undefined): number | undefined {
  const match = contentRange === undefined ? null : /\/(\d+)$/.exec(contentRange);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * User metadata as S3 headers carry it: lower-case keys; values outside printable
 * ASCII are RFC 2047 encoded, as S3 itself returns them.
 */
export function encodeMetadata(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  checkMetadataNames(metadata);
  const encoded: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) {
    encoded[key] = PRINTABLE_ASCII.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
  }
  return encoded;
}

function crc32OrUndefined(crc: number | undefined): string | undefined {
  return crc === undefined ? undefined : crc32ToBase64(crc);
}
