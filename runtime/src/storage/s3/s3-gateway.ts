import { Readable, finished } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type GetObjectCommandOutput,
  type HeadObjectCommandOutput,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { abortReadOn } from '../abort-read.ts';
import { StorageError } from '../storage-error.ts';
import { classifyS3Error, toStorageError, type FailureContext } from './s3-errors.ts';

/** One listing request: a prefix, and optionally a delimiter and where the last page stopped. */
export interface ListRequest {
  readonly Prefix: string;
  readonly Delimiter?: string;
  readonly MaxKeys: number;
  readonly ContinuationToken?: string | undefined;
}

/** A GetObject's answer with its body as a stream (an empty one when S3 sent none). */
export interface ObjectRead {
  readonly output: GetObjectCommandOutput;
  readonly body: Readable;
}

/**
 * The one way S3ObjectStore talks to its bucket: each request's failure becomes a
 * StorageError (logged once by toStorageError), and an SDK body becomes a Node stream
 * in one place. The store keeps the S3 semantics (folders, versions, conflicts) and
 * never catches an SDK error itself.
 */
export class S3Gateway {
  readonly client: S3Client;
  readonly bucket: string;
  readonly #logger: Logger;

  constructor(options: { readonly client: S3Client; readonly bucket: string; readonly logger: Logger }) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.#logger = options.logger;
  }

  /** Runs some S3 work (a request, a stream read through); whatever fails is thrown as a StorageError. */
  async call<T>(context: FailureContext, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.failure(error, context);
    }
  }

  /** The StorageError for a failure met outside call() (a body stream, a batch of copies); logged. */
  failure(error: unknown, context: FailureContext): StorageError {
    return toStorageError(error, context, this.#logger);
  }

  /** HeadObject, or undefined when the key does not exist. */
  async head(key: string, signal: AbortSignal | undefined, options: { readonly checksums?: boolean } = {}): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key, ...(options.checksums === true ? { ChecksumMode: 'ENABLED' } : {}) }),
        { abortSignal: signal },
      );
    } catch (error) {
      const kind = classifyS3Error(error, signal).kind;
      if (kind === 'not-found') return undefined;
      // S3 answers 403, not 404, for a missing key unless the caller may list the
      // bucket, and a ListBucket grant limited to a prefix (s3:prefix condition, as
      // the deployment's task role has) does not apply to a HEAD. A listing scoped
      // to the key tells a missing object from one that is really denied.
      if (kind === 'access-denied' && !(await this.#keyIsListed(key, signal))) return undefined;
      throw this.failure(error, { operation: 'head-object', key, signal });
    }
  }

  listPage(request: ListRequest, signal: AbortSignal | undefined): Promise<ListObjectsV2CommandOutput> {
    return this.call({ operation: 'list-objects', key: request.Prefix, signal }, () =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, ...request }), { abortSignal: signal }),
    );
  }

  /**
   * GetObject of `range` ('bytes=…'), of the version with `ifMatch` when given. With
   * `beyondEnd: 'undefined'`, a range starting past the object's end is an answer
   * (undefined), not a failure.
   */
  async get(
    key: string,
    options: { readonly range?: string | undefined; readonly ifMatch?: string | undefined; readonly beyondEnd?: 'undefined' },
    signal: AbortSignal | undefined,
  ): Promise<ObjectRead | undefined> {
    let output: GetObjectCommandOutput;
    try {
      output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: options.range, IfMatch: options.ifMatch }), {
        abortSignal: signal,
      });
    } catch (error) {
      if (options.beyondEnd === 'undefined' && classifyS3Error(error, signal).kind === 'invalid-offset') return undefined;
      throw this.failure(error, { operation: 'get-object', key, signal });
    }
    return { output, body: objectBody(output) };
  }

  /** GetObject that must give a body (no beyondEnd answer). */
  async read(key: string, options: { readonly range?: string; readonly ifMatch?: string | undefined }, signal: AbortSignal | undefined): Promise<ObjectRead> {
    const read = await this.get(key, options, signal);
    if (read === undefined) throw new StorageError('invalid-offset', 'Offset beyond end of file');
    return read;
  }

  /** A zero-byte object (a folder marker). */
  async putEmpty(key: string, signal: AbortSignal | undefined): Promise<void> {
    await this.call({ operation: 'put-object', key, signal }, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: Buffer.alloc(0), ContentLength: 0 }), { abortSignal: signal }),
    );
  }

  async deleteObject(key: string, signal: AbortSignal | undefined): Promise<void> {
    await this.call({ operation: 'delete-object', key, signal }, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal }),
    );
  }

  /** Deletes keys in batches of 1000; a key S3 could not delete fails the whole call ('transient'). */
  async deleteKeys(keys: readonly string[], signal: AbortSignal | undefined): Promise<void> {
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      const output = await this.call({ operation: 'delete-objects', key: batch[0] ?? '', signal }, () =>
        this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((key) => ({ Key: key })), Quiet: true } }),
          { abortSignal: signal },
        ),
      );
      const errors = output.Errors ?? [];
      if (errors.length > 0) {
        this.#logger.error(
          {
            event: 'storage-error',
            operation: 'delete-objects',
            kind: 'transient',
            key: errors[0]?.Key,
            failedKeys: errors.length,
            err: { code: errors[0]?.Code, message: errors[0]?.Message },
          },
          'S3 could not delete some objects',
        );
        throw new StorageError('transient', 'Storage temporarily unavailable');
      }
    }
  }

  /** Best-effort cleanup after a failure; the original failure is what the caller hears about. */
  async deleteQuietly(keys: readonly string[]): Promise<void> {
    try {
      await this.deleteKeys(keys, undefined);
    } catch {
      // deleteKeys / toStorageError already logged it.
    }
  }

  /**
   * An SDK body with errors turned into StorageErrors and the caller's signal
   * honoured. Flow control stays with the consumer: the body is paused whenever this
   * stream's buffer is full and resumed when the consumer reads.
   */
  guardBody(body: Readable, key: string, signal: AbortSignal | undefined): Readable {
    const failure = (error: unknown): StorageError => this.failure(error, { operation: 'get-object', key, signal });
    const guarded = new Readable({
      highWaterMark: body.readableHighWaterMark,
      read() {
        body.resume();
      },
      destroy(error, callback) {
        body.destroy();
        callback(error);
      },
    });
    body.pause();
    body.on('data', (chunk: Buffer) => {
      if (!guarded.push(chunk)) body.pause();
    });
    body.once('end', () => guarded.push(null));
    finished(body, { writable: false }, (error) => {
      if (error !== undefined && error !== null && !guarded.destroyed) guarded.destroy(failure(error));
    });
    abortReadOn(guarded, signal);
    return guarded;
  }

  async #keyIsListed(key: string, signal: AbortSignal | undefined): Promise<boolean> {
    const page = await this.listPage({ Prefix: key, MaxKeys: 1 }, signal);
    return page.Contents?.[0]?.Key === key;
  }
}

/** The body of a GetObject as a Node stream (the SDK gives one on Node; none means no bytes). */
export function objectBody(output: Pick<GetObjectCommandOutput, 'Body'>): Readable {
  return output.Body instanceof Readable ? output.Body : Readable.from([]);
}
