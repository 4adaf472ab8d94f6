import { setTimeout as delay } from 'node:timers/promises';
import { AbortMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { classifyS3Error, errorSummary } from './s3-errors.ts';

export const DEFAULT_ABORT_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000];

export interface AbortMultipartUploadOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly logger: Logger;
  /** Waits between attempts. @default DEFAULT_ABORT_RETRY_DELAYS_MS */
  readonly retryDelaysMs?: readonly number[] | undefined;
}

/**
 * Aborts a failed multipart upload, retrying a few times: S3 being briefly down must
 * not leave the upload (and its stored parts) behind. If it stays down, the failure
 * is logged as a storage-error and the bucket's lifecycle rule removes the upload.
 * Never throws; resolves to whether the upload is gone.
 */
export async function abortMultipartUpload(options: AbortMultipartUploadOptions): Promise<boolean> {
  const { client, bucket, key, uploadId, logger } = options;
  const delays = options.retryDelaysMs ?? DEFAULT_ABORT_RETRY_DELAYS_MS;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      logger.debug({ event: 'multipart-upload-aborted', key, uploadId });
      return true;
    } catch (error) {
      const { kind } = classifyS3Error(error);
      if (kind === 'not-found' || hasName(error, 'NoSuchUpload')) return true; // already gone
      const wait = delays[attempt];
      if (wait === undefined) {
        logger.error(
          { event: 'storage-error', operation: 'abort-multipart-upload', kind, key, uploadId, err: errorSummary(error) },
          'could not abort a failed multipart upload; the bucket lifecycle rule will remove it',
        );
        return false;
      }
      await delay(wait);
    }
  }
}

function hasName(error: unknown, name: string): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;
}
