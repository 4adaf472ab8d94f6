import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import type { ChecksumAlgorithm } from '../object-store.ts';

export { IncrementalChecksum } from '../incremental-checksum.ts';

/**
 * What S3 keeps (see docs/design.md, "Checksums"): an object written by one PutObject
 * carries a full-object SHA-256; a multipart upload carries a full-object CRC32,
 * which S3 combines from the parts' CRCs, copied parts included. Only values of type
 * FULL_OBJECT are the checksum of the bytes a client downloads: a COMPOSITE value is a
 * checksum of part checksums.
 */

/**
 * The full-object checksum S3 keeps for `algorithm`, as bytes, from a HeadObject
 * made with ChecksumMode ENABLED; undefined when there is none or it is composite.
 */
export function storedChecksum(head: HeadObjectCommandOutput, algorithm: ChecksumAlgorithm): Buffer | undefined {
  const value = algorithm === 'sha256' ? head.ChecksumSHA256 : algorithm === 'sha1' ? head.ChecksumSHA1 : algorithm === 'crc32' ? head.ChecksumCRC32 : undefined;
  if (value === undefined || value === '') return undefined;
  // A composite value ends in "-<parts>"; older objects may lack ChecksumType.
  if (head.ChecksumType === 'COMPOSITE' || value.includes('-')) return undefined;
  if (head.ChecksumType !== undefined && head.ChecksumType !== 'FULL_OBJECT') return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === DIGEST_BYTES[algorithm] ? bytes : undefined;
}

const DIGEST_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = { sha256: 32, sha1: 20, md5: 16, crc32: 4 };
