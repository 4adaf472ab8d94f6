import {
  AbortMultipartUploadCommand,
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
import { S3_MAX_PART_BYTES, copyPartRanges } from './part-size-plan.ts';
import { encodeKey } from './multipart-upload.ts';
import { errorSummary, toStorageError } from './s3-errors.ts';

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
  /**
   * User metadata for the copy instead of the source's (a copy onto itself that
   * changes metadata), with the source's HeadObject (made with ChecksumMode ENABLED)
   * whose other headers the copy keeps.
   */
  readonly replace?: { readonly metadata: Readonly<Record<string, string>>; readonly head: HeadObjectCommandOutput } | undefined;
}

const COPY_CONCURRENCY = 4;

/**
 * Copies an object inside the bucket without moving its bytes through this process:
 * CopyObject up to 5 GiB, a multipart UploadPartCopy above. Both are conditional on
 * the source's ETag, so a concurrent overwrite fails the copy instead of mixing
 * versions. A failed multipart copy is aborted. Throws StorageError.
 */
export async function copyObjectServerSide(options: ServerSideCopyOptions): Promise<void> {
  const { client, bucket, source, targetKey, signal, logger } = options;
  const copySource = `${bucket}/${encodeKey(source.key)}`;
  if (source.size <= (options.maxSingleCopyBytes ?? S3_MAX_PART_BYTES)) {
    try {
      await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: targetKey,
          CopySource: copySource,
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
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (next < ranges.length && !failed) {
        const index = next;
        next += 1;
        const range = ranges[index];
        if (range === undefined) return;
        const output = await client.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: targetKey,
            UploadId: uploadId,
            PartNumber: index + 1,
            CopySource: copySource,
            CopySourceIfMatch: source.etag,
            CopySourceRange: `bytes=${range.start}-${range.end}`,
          }),
          { abortSignal: signal },
        ).catch((error: unknown) => {
          failed = true;
          throw error;
        });
        parts[index] = { PartNumber: index + 1, ETag: output.CopyPartResult?.ETag };
      }
    };
    // allSettled: abort the upload only once no part copy is still running.
    const results = await Promise.allSettled(Array.from({ length: Math.min(COPY_CONCURRENCY, ranges.length) }, worker));
    const rejected = results.find((result) => result.status === 'rejected');
    if (rejected !== undefined) throw rejected.reason;
    operation = 'complete-multipart-upload';
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: targetKey, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
    );
  } catch (error) {
    if (uploadId !== undefined) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: targetKey, UploadId: uploadId }));
      } catch (abortError) {
        logger.error(
          { event: 'storage-error', operation: 'abort-multipart-upload', key: targetKey, uploadId, err: errorSummary(abortError) },
          'could not abort a failed multipart copy; the bucket lifecycle rule will remove it',
        );
      }
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
