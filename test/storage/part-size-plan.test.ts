import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_FIRST_PART_BYTES,
  GIB,
  MIB,
  PART_SIZE_CAP_BYTES,
  S3_MAX_OBJECT_BYTES,
  S3_MAX_PARTS,
  S3_MAX_PART_BYTES,
  S3_MIN_PART_BYTES,
  copyPartRanges,
  largestPartBytes,
  largestStreamBytes,
  partSizeFor,
} from '../../runtime/src/storage/s3/part-size-plan.ts';

function capacity(firstPartBytes: number, fromPart = 1): number {
  let total = 0;
  for (let part = fromPart; part <= S3_MAX_PARTS; part += 1) total += partSizeFor(part, firstPartBytes);
  return total;
}

const FIRST_PART_SIZES = [S3_MIN_PART_BYTES, 5 * MIB + 1, DEFAULT_FIRST_PART_BYTES, 100 * MIB, 700 * MIB, 2 * GIB, S3_MAX_PART_BYTES];

describe('partSizeFor', () => {
  it('covers at least 5 TiB in 10,000 parts for every allowed first part size', () => {
    for (const first of FIRST_PART_SIZES) {
      assert.ok(capacity(first) >= S3_MAX_OBJECT_BYTES, `first part ${first}: ${capacity(first)}`);
    }
  });

  it('still covers 5 TiB when a resume spends up to 1,024 part numbers on copied parts', () => {
    // A 5 TiB object copies as at most 1,024 parts of <= 5 GiB; those hold their own bytes.
    for (const first of FIRST_PART_SIZES) assert.ok(capacity(first, 1025) >= S3_MAX_OBJECT_BYTES);
  });

  it('keeps every part within 5 MiB..5 GiB, never shrinking', () => {
    for (const first of FIRST_PART_SIZES) {
      let previous = 0;
      for (let part = 1; part <= S3_MAX_PARTS; part += 1) {
        const size = partSizeFor(part, first);
        assert.ok(size >= S3_MIN_PART_BYTES && size <= S3_MAX_PART_BYTES);
        assert.ok(Number.isSafeInteger(size));
        assert.ok(size >= previous);
        previous = size;
      }
    }
  });

  it('starts at the configured size, doubles every 500 parts, and caps at 1 GiB', () => {
    assert.equal(partSizeFor(1), 8 * MIB);
    assert.equal(partSizeFor(500), 8 * MIB);
    assert.equal(partSizeFor(501), 16 * MIB);
    assert.equal(partSizeFor(1001), 32 * MIB);
    assert.equal(partSizeFor(3501), PART_SIZE_CAP_BYTES);
    assert.equal(partSizeFor(10_000), PART_SIZE_CAP_BYTES);
    // A file under 3.9 GiB never leaves the first size.
    assert.equal(partSizeFor(500) * 500, 4000 * MIB);
    assert.equal(partSizeFor(1, 2 * GIB), 2 * GIB);
    assert.equal(partSizeFor(10_000, 2 * GIB), 2 * GIB);
  });

  it('refuses part numbers and first sizes outside what S3 allows', () => {
    assert.throws(() => partSizeFor(0), RangeError);
    assert.throws(() => partSizeFor(10_001), RangeError);
    assert.throws(() => partSizeFor(1.5), RangeError);
    assert.throws(() => partSizeFor(1, S3_MIN_PART_BYTES - 1), RangeError);
    assert.throws(() => partSizeFor(1, S3_MAX_PART_BYTES + 1), RangeError);
  });
});

describe('partSizeFor with a budget-bound cap', () => {
  it('stops growing at the cap, but never goes below the first part', () => {
    assert.equal(partSizeFor(501, 8 * MIB, 8 * MIB), 8 * MIB);
    assert.equal(partSizeFor(1001, 8 * MIB, 20 * MIB), 20 * MIB);
    assert.equal(partSizeFor(10_000, 8 * MIB, 128 * MIB), 128 * MIB);
    assert.equal(partSizeFor(1, 16 * MIB, 8 * MIB), 16 * MIB);
  });
});

describe('largestPartBytes', () => {
  it('is a quarter of the budget, at least the first part, at most 1 GiB', () => {
    assert.equal(largestPartBytes(512 * MIB, 8 * MIB), 128 * MIB);
    assert.equal(largestPartBytes(32 * MIB, 5 * MIB), 8 * MIB);
    assert.equal(largestPartBytes(20 * MIB, 8 * MIB), 8 * MIB);
    assert.equal(largestPartBytes(8 * MIB, 8 * MIB), 8 * MIB);
    assert.equal(largestPartBytes(64 * GIB, 8 * MIB), PART_SIZE_CAP_BYTES);
  });

  it('refuses a budget that cannot hold one first part', () => {
    assert.throws(() => largestPartBytes(8 * MIB - 1, 8 * MIB), RangeError);
  });
});

describe('largestStreamBytes', () => {
  /** The same sum written out: parts at each size times their count. */
  function byHand(first: number, counts: ReadonlyArray<readonly [number, number]>): number {
    return counts.reduce((total, [parts, multiple]) => total + parts * multiple * first, 0);
  }

  it('sums 10,000 parts of the capped plan', () => {
    // A cap at the first part: a fixed part size.
    assert.equal(largestStreamBytes(8 * MIB, 8 * MIB), 10_000 * 8 * MIB);
    // 8 MiB parts doubling every 500 parts up to 128 MiB: 500 each of 8, 16, 32, 64, then 8,000 of 128.
    assert.equal(largestStreamBytes(8 * MIB, 128 * MIB), byHand(8 * MIB, [[500, 1], [500, 2], [500, 4], [500, 8], [8000, 16]]));
    // A cap that is no power-of-two multiple of the first part: 500 of 5, then 9,500 of 8.
    assert.equal(largestStreamBytes(5 * MIB, 8 * MIB), 500 * 5 * MIB + 9500 * 8 * MIB);
  });

  it('reaches S3\'s 5 TiB once the cap is large enough, and never passes it', () => {
    assert.equal(largestStreamBytes(8 * MIB, PART_SIZE_CAP_BYTES), S3_MAX_OBJECT_BYTES);
    assert.ok(largestStreamBytes(8 * MIB, 512 * MIB) < S3_MAX_OBJECT_BYTES);
  });
});

describe('copyPartRanges', () => {
  it('is one range up to the maximum part size', () => {
    assert.deepEqual(copyPartRanges(7 * MIB), [{ start: 0, end: 7 * MIB - 1 }]);
    assert.deepEqual(copyPartRanges(S3_MAX_PART_BYTES), [{ start: 0, end: S3_MAX_PART_BYTES - 1 }]);
  });

  it('splits larger sizes into contiguous near-equal ranges of 5 MiB..5 GiB', () => {
    for (const total of [S3_MAX_PART_BYTES + 1, 12 * GIB + 3, 5 * 1024 * GIB]) {
      const ranges = copyPartRanges(total);
      assert.equal(ranges[0]?.start, 0);
      assert.equal(ranges.at(-1)?.end, total - 1);
      for (let index = 0; index < ranges.length; index += 1) {
        const range = ranges[index];
        assert.ok(range !== undefined);
        const length = range.end - range.start + 1;
        assert.ok(length >= S3_MIN_PART_BYTES && length <= S3_MAX_PART_BYTES, `${length}`);
        if (index > 0) assert.equal(range.start, (ranges[index - 1]?.end ?? -2) + 1);
      }
      assert.ok(ranges.length <= 1024);
    }
  });

  it('refuses empty or invalid sizes', () => {
    assert.throws(() => copyPartRanges(0), RangeError);
    assert.throws(() => copyPartRanges(10, 0), RangeError);
  });
});
