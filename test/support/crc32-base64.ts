import { crc32 } from 'node:zlib';

/** The CRC32 of `data` as S3's ChecksumCRC32 (and a store's WriteResult) carries it: four bytes, big-endian, base64. */
export function crc32Base64(data: Buffer): string {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data) >>> 0);
  return crc.toString('base64');
}
