import { randomUUID } from 'node:crypto';
import { ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { StorageError } from '../storage-error.ts';

/** What one part of a multipart upload built by UploadPartCopy must hold. */
export interface ExpectedPart {
  readonly partNumber: number;
  readonly bytes: number;
  /**
   * The part's ETag when it is known in advance: a copy of a whole object whose ETag is
   * the MD5 of its bytes (stored by one PutObject, not KMS-encrypted) has that ETag.
   */
  readonly etag?: string | undefined;
}

/**
 * 226 means verified: throws StorageError('transient') (451, "nothing was changed"),
 * logged as a storage-error, when copiedPartsProblem finds one. The caller aborts the
 * upload, so the object stays as it was.
 */
export async function verifyCopiedParts(options: Parameters<typeof copiedPartsProblem>[0]): Promise<void> {
  const problem = await copiedPartsProblem(options);
  if (problem === undefined) return;
  options.logger.error(
    { event: 'storage-error', operation: 'verify-copy', kind: 'transient', key: options.key, uploadId: options.uploadId, problem },
    'a server-side copy did not copy what was planned; nothing was stored',
  );
  throw new StorageError('transient', 'Storage temporarily unavailable');
}

/**
 * Checks, before CompleteMultipartUpload, that the parts S3 copied are the ones meant:
 * the ETag of a copied part where it is known in advance (free: UploadPartCopy returns
 * it), and otherwise its size (one ListParts). A server-side copy
 * that read another object (Ceph RGW 16 decodes a copy source with '%' twice) or another
 * version (stores that ignore x-amz-copy-source-if-match) is found here, before it could
 * replace anything. Returns what is wrong, or undefined.
 */
export async function copiedPartsProblem(options: {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly expected: readonly ExpectedPart[];
  /** ETags the UploadPartCopy answers gave, by part number. */
  readonly copied: ReadonlyMap<number, string | undefined>;
  readonly signal?: AbortSignal | undefined;
  readonly logger: Logger;
  /** Whether the store has ListParts, found out once per store; without it, asked each time. */
  readonly partListing?: PartListing | undefined;
}): Promise<string | undefined> {
  const { expected, copied, partListing } = options;
  for (const part of expected) {
    if (part.etag !== undefined && unquoted(copied.get(part.partNumber)) !== unquoted(part.etag)) {
      return `part ${part.partNumber} has ETag ${copied.get(part.partNumber)}, not the source's ${part.etag}`;
    }
  }
  // A part whose ETag matched has the source's bytes, so its size too.
  const unknown = expected.filter((part) => part.etag === undefined);
  if (unknown.length === 0) return undefined;
  if ((await partListing?.available(options.client, options.signal)) === false) return undefined;
  const stored = await storedPartSizes(options, Math.max(...unknown.map((part) => part.partNumber)));
  if (stored === undefined) {
    partListing?.unavailable();
    return undefined;
  }
  for (const part of unknown) {
    const size = stored.get(part.partNumber);
    if (size !== part.bytes) return `part ${part.partNumber} holds ${size ?? 'no'} bytes, not ${part.bytes}`;
  }
  return undefined;
}

/** Part sizes by ListParts up to part `last`; undefined where the store has no ListParts (fauxqs). */
async function storedPartSizes(
  options: Parameters<typeof copiedPartsProblem>[0],
  last: number,
): Promise<Map<number, number | undefined> | undefined> {
  const { client, bucket, key, uploadId, signal, logger } = options;
  const sizes = new Map<number, number | undefined>();
  let marker: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }), {
        abortSignal: signal,
      });
    } catch (error) {
      const { $metadata, name } = error as { $metadata?: { httpStatusCode?: number }; name?: string };
      const status = $metadata?.httpStatusCode;
      // Not a ListParts answer: 501 or 405, or a GetObject's (the object's bytes, or
      // NoSuchKey: an upload S3 does not know is NoSuchUpload).
      if (status !== 200 && status !== 501 && status !== 405 && name !== 'NoSuchKey') throw error;
      logger.debug({ event: 'storage-outcome', operation: 'list-parts', key, uploadId, status }, 'the store cannot list parts: copied part sizes unchecked');
      return undefined;
    }
    for (const part of page.Parts ?? []) if (part.PartNumber !== undefined) sizes.set(part.PartNumber, part.Size);
    marker = page.IsTruncated === true && !sizes.has(last) ? page.NextPartNumberMarker : undefined;
  } while (marker !== undefined && marker !== '');
  return sizes;
}

/**
 * Whether the store has ListParts. A store without it (the emulator) answers the
 * request as a GetObject of the upload's key: for an append, the whole object, which
 * the SDK then parses as XML (64 MiB read, hundreds of MiB of memory, seconds of CPU).
 * So it is asked once, about an upload that does not exist under a key that does not
 * either: NoSuchUpload means ListParts is there; NoSuchKey, 405 or 501 that it is not.
 */
export class PartListing {
  readonly #bucket: string;
  readonly #probeKey: string;
  #known: boolean | undefined;
  #asking: Promise<boolean | undefined> | undefined;

  /** `prefix`: the store's root prefix ('' or 'a/b'), below which the probe names a key. */
  constructor(options: { readonly bucket: string; readonly prefix: string }) {
    this.#bucket = options.bucket;
    this.#probeKey = `${options.prefix === '' ? '' : `${options.prefix}/`}.ftp-s3-bridge-probe/list-parts-${randomUUID()}`;
  }

  /** True or false once known; undefined when the store's answer did not tell. */
  async available(client: S3Client, signal: AbortSignal | undefined): Promise<boolean | undefined> {
    if (this.#known !== undefined) return this.#known;
    this.#asking ??= this.#ask(client, signal).finally(() => (this.#asking = undefined));
    return this.#asking;
  }

  /** A real ListParts was not answered as one. */
  unavailable(): void {
    this.#known = false;
  }

  async #ask(client: S3Client, signal: AbortSignal | undefined): Promise<boolean | undefined> {
    try {
      await client.send(new ListPartsCommand({ Bucket: this.#bucket, Key: this.#probeKey, UploadId: 'ftp-s3-bridge-probe' }), { abortSignal: signal });
      // A listing of an upload that does not exist is no ListParts answer.
      return (this.#known = false);
    } catch (error) {
      const { $metadata, name } = error as { $metadata?: { httpStatusCode?: number }; name?: string };
      const status = $metadata?.httpStatusCode;
      if (name === 'NoSuchUpload') return (this.#known = true);
      if (name === 'NoSuchKey' || status === 405 || status === 501 || status === 200) return (this.#known = false);
      return undefined;
    }
  }
}

/** The ETag a copy of the whole object has when it is the MD5 of the object's bytes. */
export function md5Etag(etag: string | undefined, encryption: string | undefined): string | undefined {
  if (etag === undefined || (encryption !== undefined && encryption.startsWith('aws:kms'))) return undefined;
  return /^"?[0-9a-f]{32}"?$/.test(etag) ? etag : undefined;
}

/** An ETag without its quotes: stores differ in sending them. */
export function unquoted(etag: string | undefined): string | undefined {
  return etag?.replace(/^"(.*)"$/, '$1');
}
