import { Transform, type TransformCallback } from 'node:stream';

/**
 * TYPE A line-end conversion (RFC 959 3.1.1.1): the network form ends lines with
 * CRLF, the stored form (Unix) with LF. Chunks are scanned with indexOf and copied
 * in slices; the state carried across chunk boundaries is one byte.
 */
const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from([CR, LF]);

/** Stored → network: a LF not already preceded by CR becomes CRLF. */
export function toNetworkAscii(): Transform {
  let previous = -1;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const parts: Buffer[] = [];
      let start = 0;
      for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, lf + 1)) {
        const before = lf > 0 ? chunk[lf - 1] : previous;
        if (before === CR) continue;
        parts.push(chunk.subarray(start, lf), CRLF);
        start = lf + 1;
      }
      parts.push(chunk.subarray(start));
      if (chunk.length > 0) previous = chunk[chunk.length - 1]!;
      callback(null, parts.length === 1 ? chunk : Buffer.concat(parts));
    },
  });
}

/** Network → stored: CRLF becomes LF; a lone CR stays. */
export function fromNetworkAscii(): Transform {
  let heldCr = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const parts: Buffer[] = [];
      let start = 0;
      if (heldCr) {
        heldCr = false;
        // The CR that ended the previous chunk: dropped before a LF, kept otherwise.
        if (chunk[0] !== LF) parts.push(Buffer.from([CR]));
      }
      for (let cr = chunk.indexOf(CR); cr !== -1; cr = chunk.indexOf(CR, cr + 1)) {
        if (cr === chunk.length - 1) {
          parts.push(chunk.subarray(start, cr));
          start = chunk.length;
          heldCr = true;
        } else if (chunk[cr + 1] === LF) {
          parts.push(chunk.subarray(start, cr));
          start = cr + 1;
        }
      }
      parts.push(chunk.subarray(start));
      callback(null, Buffer.concat(parts));
    },
    flush(callback: TransformCallback) {
      callback(null, heldCr ? Buffer.from([CR]) : undefined);
    },
  });
}
