import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { crc32Combine, crc32ToBase64 } from '../../runtime/src/storage/crc32-combine.ts';

test('combining two CRC32s gives the CRC32 of the bytes joined', () => {
  for (const [first, second] of [[0, 0], [1, 0], [0, 1], [3, 5], [1000, 1], [5 << 20, 12_345], [64, 8 << 20]] as const) {
    const a = randomBytes(first);
    const b = randomBytes(second);
    assert.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(Buffer.concat([a, b])), `${first} + ${second} bytes`);
  }
});

test('parts combined in order give the whole object, as CompleteMultipartUpload sends it', () => {
  const parts = [randomBytes(5 << 20), randomBytes(5 << 20), randomBytes(777)];
  const whole = parts.reduce((crc, part) => crc32Combine(crc, crc32(part), part.length), 0);
  assert.equal(crc32ToBase64(whole), Buffer.from(crc32(Buffer.concat(parts)).toString(16).padStart(8, '0'), 'hex').toString('base64'));
});

test('lengths past 32 bits (parts reach 5 GiB): joining is associative', () => {
  const [a, b, c] = [0x12345678, 0x9abcdef0, 0x0f1e2d3c];
  const m = 3 * 2 ** 30 + 7;
  const n = 5 * 2 ** 30 - 1;
  assert.equal(crc32Combine(crc32Combine(a, b, m), c, n), crc32Combine(a, crc32Combine(b, c, n), m + n));
  assert.throws(() => crc32Combine(a, b, -1), RangeError);
});
