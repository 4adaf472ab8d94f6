import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * Incompressible bytes made on the fly: one random block, copied over and over with
 * a stamp (stream id, offset) at the start of every copy, so no two objects and no
 * two blocks of one object are the same. Cheap enough (a memcpy per MiB) that the
 * generator is never what a measurement waits for.
 */
const BLOCK_BYTES = 1024 * 1024;
const block = randomBytes(BLOCK_BYTES);

/** `bytes` synthetic bytes; `id` makes the content differ between streams. */
export function syntheticStream(bytes: number, id = 0): Readable {
  let offset = 0;
  return new Readable({
    highWaterMark: BLOCK_BYTES,
    read() {
      if (offset >= bytes) {
        this.push(null);
        return;
      }
      const length = Math.min(BLOCK_BYTES, bytes - offset);
      const chunk = Buffer.allocUnsafe(length);
      block.copy(chunk, 0, 0, length);
      if (length >= 16) {
        chunk.writeDoubleLE(id, 0);
        chunk.writeDoubleLE(offset, 8);
      }
      offset += length;
      this.push(chunk);
    },
  });
}

/** A view of the shared block, for servers that send the same bytes many times (never modified). */
export function syntheticBlock(): Buffer {
  return block;
}
