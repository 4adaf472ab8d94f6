import { Transform, type TransformCallback } from 'node:stream';

/**
 * TYPE A line-end conversion (RFC 959 3.1.1.1): the network form ends lines with
 * CRLF, the stored form (Unix) with LF. State across chunk boundaries is one flag.
 */
const CR = 0x0d;
const LF = 0x0a;

/** Stored → network: a LF not already preceded by CR becomes CRLF. */
export function toNetworkAscii(): Transform {
  let previous = -1;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const out: number[] = [];
      for (const byte of chunk) {
        if (byte === LF && previous !== CR) out.push(CR);
        out.push(byte);
        previous = byte;
      }
      callback(null, Buffer.from(out));
    },
  });
}

/** Network → stored: CRLF becomes LF; a lone CR stays. */
export function fromNetworkAscii(): Transform {
  let heldCr = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const out: number[] = [];
      for (const byte of chunk) {
        if (heldCr) {
          heldCr = false;
          if (byte !== LF) out.push(CR);
        }
        if (byte === CR) heldCr = true;
        else out.push(byte);
      }
      callback(null, Buffer.from(out));
    },
    flush(callback: TransformCallback) {
      callback(null, heldCr ? Buffer.from([CR]) : undefined);
    },
  });
}
