import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { ChecksumAlgorithm } from './object-store.ts';

/** A checksum of bytes computed as they arrive (an upload's parts, a streamed read), for any backend. */
export class IncrementalChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly #hash: Hash | undefined;
  #crc = 0;

  constructor(algorithm: ChecksumAlgorithm) {
    this.algorithm = algorithm;
    this.#hash = algorithm === 'crc32' ? undefined : createHash(algorithm);
  }

  update(bytes: Uint8Array): void {
    if (this.#hash) this.#hash.update(bytes);
    else this.#crc = crc32(bytes, this.#crc);
  }

  /** The checksum as bytes (CRC32: 4 bytes, big-endian, as S3 and XCRC give it). */
  digest(): Buffer {
    if (this.#hash) return this.#hash.digest();
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(this.#crc >>> 0);
    return bytes;
  }
}
