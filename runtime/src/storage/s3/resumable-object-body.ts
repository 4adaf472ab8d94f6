import { finished, Readable } from 'node:stream';
import { abortReadOn } from '../abort-read.ts';
import { StorageError } from '../storage-error.ts';

export interface ResumableObjectBodyOptions {
  /** The body of the GetObject already made, starting at `offset`. */
  readonly first: Readable;
  /** Where `first` starts in the object. */
  readonly offset: number;
  /** The object's size: where the body ends. */
  readonly size: number;
  /** A GetObject of the same object version from `offset` on; throws StorageError. */
  readonly reopen: (offset: number, signal: AbortSignal) => Promise<Readable>;
  /**
   * How long the consumer may leave the body unread before the S3 connection is let
   * go: shorter than the S3 client's socket timeout, or that fires first.
   */
  readonly releaseAfterMs: number;
  /** The StorageError for a failure of a body the consumer was reading (logs it). */
  readonly toError: (error: unknown) => StorageError;
  readonly signal?: AbortSignal | undefined;
}

/**
 * An object's bytes, read only as fast as the consumer takes them, and never failed
 * by the consumer's pace.
 *
 * Paused S3 body streams time out: the S3 client ends a request after its socket
 * timeout without bytes moving, and a consumer that stops reading (an FTP client
 * that stops reading a RETR) stops the bytes, so the client's pace became a storage
 * error. Here, a body left unread for `releaseAfterMs` is let go (its S3 connection
 * goes back to the pool instead of being held by a stalled client), as is one that
 * fails while unread; when the consumer reads again the rest is fetched anew from
 * where it stopped, of the same version (If-Match, see `reopen`). A body that fails
 * while the consumer is reading is a storage error as before.
 */
export function resumableObjectBody(options: ResumableObjectBodyOptions): Readable {
  const { reopen, releaseAfterMs, toError, signal } = options;
  const cancel = new AbortController();
  let position = options.offset;
  let body: Readable | undefined;
  /** The consumer's buffer is full: the body is paused until it reads. */
  let unread = false;
  let releaseTimer: NodeJS.Timeout | undefined;
  let opening = false;

  const detach = (): void => {
    clearTimeout(releaseTimer);
    const current = body;
    body = undefined;
    if (current === undefined) return;
    current.removeAllListeners('data');
    current.removeAllListeners('end');
    current.on('error', () => undefined);
    current.destroy();
  };

  const attach = (next: Readable): void => {
    body = next;
    next.pause();
    next.on('data', (chunk: Buffer) => {
      position += chunk.length;
      if (stream.push(chunk)) return;
      next.pause();
      unread = true;
      releaseTimer = setTimeout(detach, releaseAfterMs);
    });
    next.once('end', () => {
      clearTimeout(releaseTimer);
      stream.push(null);
    });
    finished(next, { writable: false }, (error) => {
      if (error === undefined || error === null || body !== next || stream.destroyed) return;
      // Unread: the failure is the consumer's pace (a timeout, S3 closing an idle
      // connection), not the store's; read again when asked.
      if (unread) detach();
      else stream.destroy(toError(error));
    });
  };

  const stream = new Readable({
    highWaterMark: options.first.readableHighWaterMark,
    read() {
      unread = false;
      clearTimeout(releaseTimer);
      if (body !== undefined) {
        body.resume();
        return;
      }
      if (opening) return;
      if (position >= options.size) {
        // Let go after its last byte, before its end was seen.
        stream.push(null);
        return;
      }
      opening = true;
      reopen(position, cancel.signal).then(
        (next) => {
          opening = false;
          if (stream.destroyed) {
            next.destroy();
            return;
          }
          attach(next);
          next.resume();
        },
        (error: unknown) => {
          opening = false;
          stream.destroy(error instanceof StorageError ? error : toError(error));
        },
      );
    },
    destroy(error, callback) {
      cancel.abort();
      detach();
      callback(error);
    },
  });
  attach(options.first);
  abortReadOn(stream, signal);
  return stream;
}
