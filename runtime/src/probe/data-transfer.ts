import type { Socket } from 'node:net';
import { networkError, ProbeError, seconds } from './probe-error.ts';

/** A listing may be long; the probe keeps this much of it and counts the rest. */
const MAX_KEPT_BYTES = 1024 * 1024;

/**
 * Everything the server sends on a data connection until it closes its side. The
 * timeout is for silence: a large listing that keeps coming is not a failure.
 */
export async function readData(
  socket: Socket,
  options: { readonly timeoutMs: number; readonly what: string },
): Promise<{ data: Buffer; bytes: number }> {
  // Closed (or reset) before the probe started reading: nothing more will come.
  if (socket.destroyed) return { data: Buffer.alloc(0), bytes: 0 };
  return await new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let bytes = 0;
    let timer = setTimeout(onSilence, options.timeoutMs);
    function onSilence(): void {
      finish(new ProbeError('timeout', `${options.what}: no data for ${seconds(options.timeoutMs)} (${bytes} bytes so far)`));
    }
    const onData = (chunk: Buffer): void => {
      clearTimeout(timer);
      timer = setTimeout(onSilence, options.timeoutMs);
      bytes += chunk.length;
      if (kept < MAX_KEPT_BYTES) {
        chunks.push(chunk);
        kept += chunk.length;
      }
    };
    const onEnd = (): void => finish();
    const onError = (error: Error): void => finish(networkError(error, options.what));
    function finish(error?: ProbeError): void {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve({ data: Buffer.concat(chunks), bytes });
      }
    }
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.on('error', onError);
  });
}

/** Writes `data` and ends the stream (over TLS, with close_notify, so the server may commit the upload). */
export async function writeData(
  socket: Socket,
  data: Buffer,
  options: { readonly timeoutMs: number; readonly what: string },
): Promise<void> {
  if (socket.destroyed) throw new ProbeError('closed', `${options.what}: the server closed the data connection before the upload`);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new ProbeError('timeout', `${options.what}: the server took no data for ${seconds(options.timeoutMs)}`)),
      options.timeoutMs,
    );
    const onError = (error: Error): void => finish(networkError(error, options.what));
    function finish(error?: ProbeError): void {
      clearTimeout(timer);
      socket.off('error', onError);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve();
      }
    }
    socket.on('error', onError);
    socket.end(data, () => finish());
  });
}

/** Closes a data connection the probe is done with. */
export function discard(socket: Socket | undefined): void {
  if (socket && !socket.destroyed) socket.destroy();
}
