/**
 * Pure arithmetic for S3 multipart uploads and copies: how big each part is, how a
 * byte range splits into copy parts, and how large a file a buffer budget allows.
 *
 * S3 allows at most 10,000 parts of 5 MiB to 5 GiB each (the last part may be
 * smaller). A stream of unknown length must therefore grow its part size as it goes:
 * a fixed 8 MiB part would cap a file at 78 GiB. Every part is held in memory once,
 * so the process-wide buffer budget bounds the part size, and with it the largest
 * stream the bridge can take.
 */

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;
export const TIB = 1024 * GIB;

export const S3_MIN_PART_BYTES = 5 * MIB;
export const S3_MAX_PART_BYTES = 5 * GIB;
export const S3_MAX_PARTS = 10_000;
/** Largest object S3 stores, and the stream length the plan must reach in 10,000 parts. */
export const S3_MAX_OBJECT_BYTES = 5 * TIB;

export const DEFAULT_FIRST_PART_BYTES = 8 * MIB;
/** The part size doubles after every this many parts... */
export const PARTS_PER_DOUBLING = 500;
/**
 * ...until it reaches this size (or the first part size, if that is larger), unless
 * the buffer budget allows less (see largestPartBytes). With a first part of at least
 * 5 MiB the cap is reached by part 4,001 at the latest (5 MiB * 2^8 > 1 GiB), so parts
 * 4,001..10,000 alone hold 6,000 GiB > 5 TiB. A lower cap leaves the plan short of
 * 5 TiB, which is what a small budget does.
 */
export const PART_SIZE_CAP_BYTES = 1 * GIB;

/**
 * A part is at most this fraction of the buffer budget, so one upload's part never
 * takes more than a quarter of the memory every upload shares, and at least four
 * uploads can always hold a part of the largest size at once.
 */
export const BUDGET_SHARES_PER_PART = 4;

/**
 * Part buffers one upload holds at most at once: one uploading while the next fills
 * (or both uploading, when the client is faster than S3). Measured against fauxqs on
 * loopback, a second buffer made a single upload about 17 % faster than one; four
 * were no faster than two, so more parallel parts would only take budget from others.
 */
export const MAX_BUFFERS_PER_UPLOAD = 2;

/** Throws RangeError unless `bytes` is a valid first part size (5 MiB..5 GiB). */
export function checkFirstPartBytes(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < S3_MIN_PART_BYTES || bytes > S3_MAX_PART_BYTES) {
    throw new RangeError(
      `partSizeBytes must be an integer between ${S3_MIN_PART_BYTES} (5 MiB) and ${S3_MAX_PART_BYTES} (5 GiB), got ${bytes}`,
    );
  }
}

/**
 * Size of part `partNumber` (1-based) of a streamed upload whose first part is
 * `firstPartBytes`: doubles every PARTS_PER_DOUBLING parts, capped at
 * `maxPartBytes` (see largestPartBytes), never below the first part nor above 5 GiB.
 */
export function partSizeFor(
  partNumber: number,
  firstPartBytes: number = DEFAULT_FIRST_PART_BYTES,
  maxPartBytes: number = PART_SIZE_CAP_BYTES,
): number {
  checkFirstPartBytes(firstPartBytes);
  if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > S3_MAX_PARTS) {
    throw new RangeError(`partNumber must be an integer between 1 and ${S3_MAX_PARTS}, got ${partNumber}`);
  }
  const cap = Math.min(S3_MAX_PART_BYTES, Math.max(maxPartBytes, firstPartBytes));
  const doublings = Math.floor((partNumber - 1) / PARTS_PER_DOUBLING);
  // 2^doublings overflows nothing: doublings <= 19 and the result is capped.
  return Math.min(cap, firstPartBytes * 2 ** doublings);
}

/**
 * The largest part an upload uses with a buffer budget of `budgetBytes`: a quarter of
 * the budget (BUDGET_SHARES_PER_PART), at most PART_SIZE_CAP_BYTES, never below the
 * first part (the budget must hold at least one first part).
 */
export function largestPartBytes(budgetBytes: number, firstPartBytes: number = DEFAULT_FIRST_PART_BYTES): number {
  checkFirstPartBytes(firstPartBytes);
  if (!Number.isSafeInteger(budgetBytes) || budgetBytes < firstPartBytes) {
    throw new RangeError(`the buffer budget must be an integer of at least one first part (${firstPartBytes} bytes), got ${budgetBytes}`);
  }
  const share = Math.floor(budgetBytes / BUDGET_SHARES_PER_PART);
  return Math.max(firstPartBytes, Math.min(PART_SIZE_CAP_BYTES, share));
}

/**
 * The largest stream of unknown length the part plan can store: 10,000 parts of
 * partSizeFor(n, firstPartBytes, maxPartBytes), and never more than S3's 5 TiB.
 */
export function largestStreamBytes(firstPartBytes: number, maxPartBytes: number): number {
  let total = 0;
  for (let part = 1; part <= S3_MAX_PARTS; part += 1) total += partSizeFor(part, firstPartBytes, maxPartBytes);
  return Math.min(S3_MAX_OBJECT_BYTES, total);
}

export interface ByteRange {
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive. */
  readonly end: number;
}

/**
 * Splits bytes 0..totalBytes-1 into the fewest near-equal ranges of at most
 * `maxPartBytes` (for UploadPartCopy). With totalBytes >= minPartBytes every range
 * is at least minPartBytes, because two or more ranges only occur when totalBytes >
 * maxPartBytes, making each range larger than maxPartBytes / 2.
 */
export function copyPartRanges(totalBytes: number, maxPartBytes: number = S3_MAX_PART_BYTES): ByteRange[] {
  if (!Number.isSafeInteger(totalBytes) || totalBytes <= 0) {
    throw new RangeError(`totalBytes must be a positive integer, got ${totalBytes}`);
  }
  if (!Number.isSafeInteger(maxPartBytes) || maxPartBytes <= 0) {
    throw new RangeError(`maxPartBytes must be a positive integer, got ${maxPartBytes}`);
  }
  const count = Math.ceil(totalBytes / maxPartBytes);
  const base = Math.floor(totalBytes / count);
  const larger = totalBytes - base * count; // this many ranges get one extra byte
  const ranges: ByteRange[] = [];
  let start = 0;
  for (let index = 0; index < count; index += 1) {
    const length = base + (index < larger ? 1 : 0);
    ranges.push({ start, end: start + length - 1 });
    start += length;
  }
  return ranges;
}
