import type { Readable } from 'node:stream';
import { StorageError } from './storage-error.ts';

/** Destroys `stream` with StorageError('aborted') when `signal` aborts (at once if it has), until the stream closes. */
export function abortReadOn(stream: Readable, signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  const onAbort = (): void => {
    stream.destroy(new StorageError('aborted', 'Transfer aborted'));
  };
  if (signal.aborted) {
    onAbort();
    return;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', onAbort));
}
