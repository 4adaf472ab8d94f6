import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ListMultipartUploadsCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { toStorageError } from './s3-errors.ts';

/** A multipart upload S3 holds for a key, not yet completed. */
export interface MultipartUploadRef {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

/** A part S3 holds for an upload. */
export interface StoredPart {
  readonly partNumber: number;
  readonly etag: string | undefined;
  readonly size: number;
  readonly checksumCrc32?: string | undefined;
}

/**
 * Where the bridge learns which multipart uploads S3 holds. On AWS S3 and Ceph RGW
 * S3 itself says (ListMultipartUploads, ListParts): every shard and every restart sees
 * the same. An S3 server that answers neither (fauxqs, the local stack's) gets a
 * journal file kept beside its own store instead (one bridge there, so one writer).
 */
export interface PendingUploadIndex {
  /** The uploads of exactly `key`, oldest first. */
  ofKey(key: string, signal?: AbortSignal): Promise<MultipartUploadRef[]>;
  /** The uploads of keys directly below `prefix` (a folder prefix ending in '/'; '' for the root): one page. */
  inFolder(prefix: string, signal?: AbortSignal): Promise<MultipartUploadRef[]>;
  /** The uploads of every key below `prefix`: at most `limit`. */
  below(prefix: string, limit: number, signal?: AbortSignal): Promise<MultipartUploadRef[]>;
  /** The parts S3 holds for `upload`, by part number. */
  parts(upload: MultipartUploadRef, signal?: AbortSignal): Promise<StoredPart[]>;
  /** Told of each upload's life; the S3-backed index needs none of it. */
  started(upload: MultipartUploadRef): Promise<void>;
  partStored(upload: MultipartUploadRef, part: StoredPart): Promise<void>;
  ended(upload: MultipartUploadRef): Promise<void>;
}

/** Parts listed per ListParts page, and the most pages read (S3 allows 10,000 parts). */
const PARTS_PAGE = 1000;
const UPLOADS_PAGE = 1000;

/**
 * The bytes of an upload that can be continued: parts 1..n without a gap, each at
 * least `minPartBytes` (S3's least for a part that is not the last, as every kept
 * part will be once more follow).
 */
export function durablePrefix(parts: readonly StoredPart[], minPartBytes: number): { readonly parts: StoredPart[]; readonly bytes: number } {
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  const kept: StoredPart[] = [];
  for (const part of sorted) {
    if (part.partNumber !== kept.length + 1 || part.size < minPartBytes) break;
    kept.push(part);
  }
  return { parts: kept, bytes: kept.reduce((sum, part) => sum + part.size, 0) };
}

export class S3PendingUploadIndex implements PendingUploadIndex {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #logger: Logger;

  constructor(options: { readonly client: S3Client; readonly bucket: string; readonly logger: Logger }) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#logger = options.logger;
  }

  async ofKey(key: string, signal?: AbortSignal): Promise<MultipartUploadRef[]> {
    // Prefix is the key: other keys starting with it come too, and are dropped.
    const uploads = await this.#list({ Prefix: key }, 1, signal);
    return uploads.filter((upload) => upload.key === key);
  }

  async inFolder(prefix: string, signal?: AbortSignal): Promise<MultipartUploadRef[]> {
    return await this.#list({ Prefix: prefix, Delimiter: '/' }, 1, signal);
  }

  async below(prefix: string, limit: number, signal?: AbortSignal): Promise<MultipartUploadRef[]> {
    return (await this.#list({ Prefix: prefix }, Math.ceil(limit / UPLOADS_PAGE), signal)).slice(0, limit);
  }

  async #list(query: { Prefix: string; Delimiter?: string }, pages: number, signal?: AbortSignal): Promise<MultipartUploadRef[]> {
    const found: MultipartUploadRef[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (let page = 0; page < pages; page++) {
      let output;
      try {
        output = await this.#client.send(
          new ListMultipartUploadsCommand({ Bucket: this.#bucket, ...query, MaxUploads: UPLOADS_PAGE, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
          { abortSignal: signal },
        );
      } catch (error) {
        throw toStorageError(error, { operation: 'list-multipart-uploads', key: query.Prefix, signal }, this.#logger);
      }
      for (const upload of output.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        found.push({ key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated ?? new Date(0) });
      }
      if (output.IsTruncated !== true) break;
      keyMarker = output.NextKeyMarker;
      uploadIdMarker = output.NextUploadIdMarker;
    }
    return found.sort((a, b) => a.initiated.getTime() - b.initiated.getTime());
  }

  async parts(upload: MultipartUploadRef, signal?: AbortSignal): Promise<StoredPart[]> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 10; page++) {
      let output;
      try {
        output = await this.#client.send(
          new ListPartsCommand({ Bucket: this.#bucket, Key: upload.key, UploadId: upload.uploadId, MaxParts: PARTS_PAGE, PartNumberMarker: marker }),
          { abortSignal: signal },
        );
      } catch (error) {
        throw toStorageError(error, { operation: 'list-parts', key: upload.key, signal, uploadId: upload.uploadId }, this.#logger);
      }
      for (const part of output.Parts ?? []) {
        if (part.PartNumber === undefined) continue;
        parts.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size ?? 0, checksumCrc32: part.ChecksumCRC32 });
      }
      if (output.IsTruncated !== true) break;
      marker = output.NextPartNumberMarker;
    }
    return parts;
  }

  async started(): Promise<void> {}
  async partStored(): Promise<void> {}
  async ended(): Promise<void> {}
}

interface JournalEntry {
  key: string;
  uploadId: string;
  initiated: string;
  parts: StoredPart[];
}

/**
 * The index as a JSON file, for an S3 server without ListMultipartUploads and
 * ListParts (fauxqs). Held in memory, written whole (temporary file, then rename) after
 * every change, so a killed bridge leaves the last complete state. For one bridge
 * process: it is the local stack's, never a shared store's.
 */
export class JournalPendingUploadIndex implements PendingUploadIndex {
  readonly #file: string;
  #entries: JournalEntry[] | undefined;
  /** Writes, one after another. */
  #writing: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

  async #load(): Promise<JournalEntry[]> {
    if (this.#entries !== undefined) return this.#entries;
    let entries: JournalEntry[] = [];
    try {
      const parsed = JSON.parse(await readFile(this.#file, 'utf8')) as { uploads?: JournalEntry[] };
      entries = Array.isArray(parsed.uploads) ? parsed.uploads : [];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
    }
    this.#entries ??= entries;
    return this.#entries;
  }

  #ref(entry: JournalEntry): MultipartUploadRef {
    return { key: entry.key, uploadId: entry.uploadId, initiated: new Date(entry.initiated) };
  }

  async ofKey(key: string): Promise<MultipartUploadRef[]> {
    return (await this.#load()).filter((entry) => entry.key === key).map((entry) => this.#ref(entry));
  }

  async inFolder(prefix: string): Promise<MultipartUploadRef[]> {
    return (await this.#load())
      .filter((entry) => entry.key.startsWith(prefix) && !entry.key.slice(prefix.length).includes('/'))
      .slice(0, UPLOADS_PAGE)
      .map((entry) => this.#ref(entry));
  }

  async below(prefix: string, limit: number): Promise<MultipartUploadRef[]> {
    return (await this.#load())
      .filter((entry) => entry.key.startsWith(prefix))
      .slice(0, limit)
      .map((entry) => this.#ref(entry));
  }

  async parts(upload: MultipartUploadRef): Promise<StoredPart[]> {
    const entry = (await this.#load()).find((candidate) => candidate.uploadId === upload.uploadId);
    return entry === undefined ? [] : [...entry.parts];
  }

  async started(upload: MultipartUploadRef): Promise<void> {
    const entries = await this.#load();
    entries.push({ key: upload.key, uploadId: upload.uploadId, initiated: upload.initiated.toISOString(), parts: [] });
    await this.#save();
  }

  async partStored(upload: MultipartUploadRef, part: StoredPart): Promise<void> {
    const entry = (await this.#load()).find((candidate) => candidate.uploadId === upload.uploadId);
    if (entry === undefined) return;
    entry.parts = [...entry.parts.filter((other) => other.partNumber !== part.partNumber), part];
    await this.#save();
  }

  async ended(upload: MultipartUploadRef): Promise<void> {
    const entries = await this.#load();
    const index = entries.findIndex((candidate) => candidate.uploadId === upload.uploadId);
    if (index === -1) return;
    entries.splice(index, 1);
    await this.#save();
  }

  #save(): Promise<void> {
    const write = async (): Promise<void> => {
      const temporary = `${this.#file}.${randomBytes(4).toString('hex')}.tmp`;
      await mkdir(dirname(this.#file), { recursive: true });
      await writeFile(temporary, JSON.stringify({ uploads: this.#entries ?? [] }));
      await rename(temporary, this.#file);
    };
    this.#writing = this.#writing.then(write, write);
    return this.#writing;
  }
}
