/**
 * The CRC32 of two byte runs joined, from the CRC32 of each and the second's length
 * (zlib's crc32_combine, which Node does not expose). A multipart upload computes each
 * part's CRC32 for UploadPart anyway; combining them gives the full-object CRC32 that
 * CompleteMultipartUpload sends without reading every byte a second time (that second
 * pass was half the CRC32 time of an upload's profile).
 *
 * Arithmetic on polynomials over GF(2) modulo the CRC-32 polynomial, bit-reflected as
 * zlib has it: combine(a, b, n) = a * x^(8n) + b (mod P).
 */
const POLY = 0xedb88320;
/** x^0 in the reflected representation. */
const ONE = 0x80000000;

/** a * b modulo P. */
function multiplyModP(a: number, b: number): number {
  let product = 0;
  let factor = b >>> 0;
  for (let bit = ONE; bit !== 0; bit >>>= 1) {
    if ((a & bit) !== 0) product ^= factor;
    factor = (factor & 1) !== 0 ? (factor >>> 1) ^ POLY : factor >>> 1;
  }
  return product >>> 0;
}

/** X2N[k] = x^(2^k) modulo P. */
const X2N: readonly number[] = (() => {
  const table = [ONE >>> 1];
  for (let k = 1; k < 64; k += 1) table.push(multiplyModP(table[k - 1]!, table[k - 1]!));
  return table;
})();

/** x^(8 * bytes) modulo P: the factor that shifts a CRC past `bytes` zero bytes. */
function shiftFactor(bytes: number): number {
  let factor = ONE;
  // Division, not shifts: part lengths reach 5 GiB, past 32-bit integers.
  for (let rest = bytes, k = 3; rest > 0; rest = Math.floor(rest / 2), k += 1) {
    if (rest % 2 === 1) factor = multiplyModP(X2N[k % 64]!, factor);
  }
  return factor;
}

/** CRC32 of A followed by B, from crc32(A), crc32(B) and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw new RangeError(`lengthB must be a non-negative integer, got ${lengthB}`);
  return (multiplyModP(shiftFactor(lengthB), crcA >>> 0) ^ crcB) >>> 0;
}

/** A CRC32 as S3's x-amz-checksum-crc32 carries it: four bytes, big-endian, base64. */
export function crc32ToBase64(crc: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc >>> 0);
  return bytes.toString('base64');
}
