import { randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { withDeadline } from '../../deadline.ts';
import { copySource, copySourceIsSafe, type PercentCopyMode } from './copy-source.ts';
import { unquoted } from './verify-copied-parts.ts';

/**
 * Whether this store's UploadPartCopy copies a key holding '%' right (see
 * copySourceIsSafe): configured, or found out once per process by a probe the first
 * time an append or resume needs it. Until a probe has said yes, and whenever it could
 * not tell (S3 unreachable, a permission missing), the kept bytes are read back:
 * slower, never wrong.
 *
 * The probe: a small scratch object named with "%41" (which a second decoding turns
 * into "A", a key that does not exist), copied as part 1 of a multipart upload that is
 * aborted, never completed; the copy is right when the part's ETag is the scratch
 * object's. The scratch object is deleted again: one "Object Created" event per task
 * start at most, under `<prefix>/.ftp-s3-bridge-probe/`.
 */
/** How long an append waits for the probe before reading back instead (the probe goes on). */
const PROBE_WAIT_MS = 30_000;
/** After a probe that could not tell, appends read back this long before the next probe. */
const PROBE_RETRY_MS = 5 * 60_000;

export class PercentCopyCheck {
  readonly #options: PercentCopyCheckOptions;
  #verdict: Promise<boolean> | undefined;
  /** When an inconclusive probe may be tried again. */
  #nextProbeAt = 0;

  constructor(options: PercentCopyCheckOptions) {
    this.#options = options;
  }

  /** True when the kept start of `key` may be copied inside S3. */
  async mayCopy(key: string, signal?: AbortSignal): Promise<boolean> {
    if (copySourceIsSafe(key)) return true;
    const { mode } = this.#options;
    if (mode !== 'detect') return mode === 'copy';
    if (this.#verdict === undefined && Date.now() < this.#nextProbeAt) return false;
    // One probe at a time per process, never under an append's signal: an ABOR must not
    // make it inconclusive, or APPE + ABOR in a loop would write a scratch object each
    // round. One that could not tell (S3 failing) is tried again after a pause.
    this.#verdict ??= this.#probe().then((verdict) => {
      if (verdict === undefined) {
        this.#verdict = undefined;
        this.#nextProbeAt = Date.now() + PROBE_RETRY_MS;
      }
      return verdict === true;
    });
    return await withDeadline(this.#verdict, PROBE_WAIT_MS, () => false, signal);
  }

  /** true: copied right; false: copied something else or refused; undefined: could not tell. */
  async #probe(): Promise<boolean | undefined> {
    const { client, bucket, logger } = this.#options;
    const id = randomUUID();
    const scratch = `${this.#options.prefix === '' ? '' : `${this.#options.prefix}/`}.ftp-s3-bridge-probe/${id}-%41`;
    const target = `${scratch}-copy`;
    let uploadId: string | undefined;
    let put = false;
    const log = (verdict: boolean | undefined, detail: Record<string, unknown>): boolean | undefined => {
      const mode = verdict === true ? 'copy' : 'read-back';
      logger.info({ event: 'copy-probe', percentNames: mode, conclusive: verdict !== undefined, ...detail }, `names with '%': ${mode}`);
      return verdict;
    };
    try {
      // Deleted afterwards even if the answer is lost: S3 may have stored it all the same.
      put = true;
      const source = await client.send(new PutObjectCommand({ Bucket: bucket, Key: scratch, Body: `ftp-s3-bridge copy probe ${id}\n` }));
      const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: target }));
      uploadId = created.UploadId;
      let copied;
      try {
        copied = await client.send(
          new UploadPartCopyCommand({ Bucket: bucket, Key: target, UploadId: uploadId, PartNumber: 1, CopySource: copySource(bucket, scratch), CopySourceIfMatch: source.ETag }),
        );
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        // The store answered: it looked for another key (or refused the name).
        if (status !== undefined && status >= 400 && status < 500) return log(false, { status });
        throw error;
      }
      const right = unquoted(copied.CopyPartResult?.ETag) === unquoted(source.ETag);
      return log(right, right ? {} : { copiedEtag: copied.CopyPartResult?.ETag, sourceEtag: source.ETag });
    } catch (error) {
      return log(undefined, { error: (error as Error).name });
    } finally {
      // Quietly: a leftover is harmless (the bucket's lifecycle rule ends the upload).
      if (uploadId !== undefined) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: target, UploadId: uploadId })).catch(() => undefined);
      if (put) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: scratch })).catch(() => undefined);
    }
  }
}

export interface PercentCopyCheckOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** The store's root prefix ('' or 'a/b'): the probe's scratch objects go below it. */
  readonly prefix: string;
  readonly mode: PercentCopyMode;
  readonly logger: Logger;
}
