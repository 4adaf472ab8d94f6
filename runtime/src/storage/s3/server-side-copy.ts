import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { abortMultipartUpload } from './abort-multipart-upload.ts';
import { forEachBounded } from '../bounded-concurrency.ts';
import { COPY_PART_CONCURRENCY, copySource } from './copy-source.ts';
import { S3_MAX_PART_BYTES, copyPartRanges, type ByteRange } from './part-size-plan.ts';
import { toStorageError } from './s3-errors.ts';
import { verifyCopiedParts } from './verify-copied-parts.ts';

export interface CopySourceObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string | undefined;
}

export interface ServerSideCopyOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly source: CopySourceObject;
  readonly targetKey: string;
  readonly logger: Logger;
  readonly signal?: AbortSignal | undefined;
  /** Largest object copied with one CopyObject (S3: 5 GiB); lowered only by tests. */
  readonly maxSingleCopyBytes?: number;
  /** Largest UploadPartCopy part (S3: 5 GiB); lowered only by tests. */
  readonly maxCopyPartBytes?: number;
  /** Waits between attempts to abort a failed multipart copy. */
  readonly abortRetryDelaysMs?: readonly number[] | undefined;
  /**
   * User metadata for the copy instead of the source's (a copy onto itself that
   * changes metadata), with the source's HeadObject (made with ChecksumMode ENABLED)
   * whose other headers the copy keeps.
   */
  readonly replace?: { readonly metadata: Readonly<Record<string, string>>; readonly head: HeadObjectCommandOutput } | undefined;
}

/**
 * Copies an object inside the bucket without moving its bytes through this process:
 * CopyObject up to 5 GiB, a multipart UploadPartCopy above. Both are conditional on
 * the source's ETag, so a concurrent overwrite fails the copy instead of mixing
 * versions. A failed multipart copy is aborted (see abortMultipartUpload). Throws
 * StorageError.
 */
export async function copyObjectServerSide(options: ServerSideCopyOptions): Promise<void> {
  const { client, bucket, source, targetKey, signal, logger } = options;
  const sourceName = copySource(bucket, source.key);
  if (source.size <= (options.maxSingleCopyBytes ?? S3_MAX_PART_BYTES)) {
    try {
      await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: targetKey,
          CopySource: sourceName,
          CopySourceIfMatch: source.etag,
          ...(options.replace === undefined ? { MetadataDirective: 'COPY' as const } : replacedHeaders(options.replace)),
        }),
        { abortSignal: signal },
      );
      return;
    } catch (error) {
      throw toStorageError(error, { operation: 'copy-object', key: targetKey, signal }, logger);
    }
  }

  let uploadId: string | undefined;
  let operation = 'create-multipart-upload';
  try {
    // A multipart copy does not carry metadata over by itself.
    operation = 'head-object';
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: source.key, IfMatch: source.etag }), {
      abortSignal: signal,
    });
    operation = 'create-multipart-upload';
    const created = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: targetKey,
        Metadata: options.replace?.metadata ?? head.Metadata,
        ContentType: head.ContentType,
      }),
      { abortSignal: signal },
    );
    uploadId = created.UploadId;
    operation = 'upload-part-copy';
    const ranges = copyPartRanges(source.size, options.maxCopyPartBytes ?? S3_MAX_PART_BYTES);
    const parts: CompletedPart[] = [];
    const copied = new Map<number, string | undefined>();
    const copyPart = async (range: ByteRange, index: number): Promise<void> => {
      const output = await client.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: targetKey,
          UploadId: uploadId,
          PartNumber: index + 1,
          CopySource: sourceName,
          CopySourceIfMatch: source.etag,
          CopySourceRange: `bytes=${range.start}-${range.end}`,
        }),
        { abortSignal: signal },
      );
      parts[index] = { PartNumber: index + 1, ETag: output.CopyPartResult?.ETag };
      copied.set(index + 1, output.CopyPartResult?.ETag);
    };
    // Settles only once no part copy is still running: the abort below must come after them.
    await forEachBounded(ranges, COPY_PART_CONCURRENCY, copyPart);
    operation = 'list-parts';
    const expected = ranges.map((range, index) => ({ partNumber: index + 1, bytes: range.end - range.start + 1 }));
    await verifyCopiedParts({ client, bucket, key: targetKey, uploadId: uploadId ?? '', expected, copied, signal, logger });
    operation = 'complete-multipart-upload';
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: targetKey, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
    );
  } catch (error) {
    if (uploadId !== undefined) {
      await abortMultipartUpload({ client, bucket, key: targetKey, uploadId, logger, retryDelaysMs: options.abortRetryDelaysMs });
    }
    throw toStorageError(error, { operation, key: targetKey, signal, uploadId }, logger);
  }
}

/**
 * MetadataDirective REPLACE drops every header of the source, so the ones a client
 * can see are carried over (content type and friends), and the checksum algorithm,
 * so that S3 keeps a full-object checksum of the copy.
 */
function replacedHeaders(replace: NonNullable<ServerSideCopyOptions['replace']>) {
  const { head } = replace;
  const algorithm = head.ChecksumSHA256 ? 'SHA256' : head.ChecksumCRC32 ? 'CRC32' : undefined;
  return {
    MetadataDirective: 'REPLACE' as const,
    Metadata: { ...replace.metadata },
    ContentType: head.ContentType,
    ContentEncoding: head.ContentEncoding,
    ContentDisposition: head.ContentDisposition,
    ContentLanguage: head.ContentLanguage,
    CacheControl: head.CacheControl,
    ...(algorithm === undefined ? {} : { ChecksumAlgorithm: algorithm as 'SHA256' | 'CRC32' }),
  };
}
