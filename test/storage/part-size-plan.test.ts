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
  UPLOAD_BUFFER_BUDGET_BYTES,
  copyPartRanges,
  partSizeFor,
  uploadBufferLimit,
} from '../../runtime/src/storage/part-size-plan.ts';

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

describe('uploadBufferLimit', () => {
  it('is the fixed budget for small parts and two parts for large ones', () => {
    assert.equal(uploadBufferLimit(8 * MIB), UPLOAD_BUFFER_BUDGET_BYTES);
    assert.equal(uploadBufferLimit(PART_SIZE_CAP_BYTES), 2 * GIB);
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
