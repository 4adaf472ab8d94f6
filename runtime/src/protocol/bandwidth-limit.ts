import { Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** Most bytes passed on at once: a tenth of a second's worth, at least 1 KiB, so the rate stays even. */
function sliceBytes(bytesPerSecond: number): number {
  return Math.max(1024, Math.floor(bytesPerSecond / 10));
}

/**
 * Passes bytes on at no more than `kibPerSecond`, for one transfer. It holds at most
 * the chunk it is given: it calls back only once that chunk is out, so the stream
 * before it (the data socket of an upload, the S3 body of a download) is paused by
 * backpressure and nothing piles up. Works the same on clear and TLS data connections,
 * since it sits between the socket's bytes and the store. A burst of a tenth of a
 * second is allowed after an idle moment, no more.
 */
export function bandwidthLimit(kibPerSecond: number, signal: AbortSignal): Transform {
  const bytesPerSecond = kibPerSecond * 1024;
  const slice = sliceBytes(bytesPerSecond);
  /** When the bytes passed so far are paid for (ms, performance clock). */
  let paidUntil = performance.now();
  return new Transform({
    // The hold is the chunk being paced: keep what queues on either side small too.
    readableHighWaterMark: slice,
    writableHighWaterMark: slice,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      void (async () => {
        for (let offset = 0; offset < chunk.length; offset += slice) {
          const piece = chunk.subarray(offset, offset + slice);
          const now = performance.now();
          // An idle moment earns at most a tenth of a second of burst.
          paidUntil = Math.max(paidUntil, now - 100) + (piece.length / bytesPerSecond) * 1000;
          if (paidUntil > now) await sleep(paidUntil - now, undefined, { signal });
          this.push(piece);
        }
      })().then(() => callback(), callback);
    },
  });
}
