import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VerifiedPasswordCache } from '../../runtime/src/auth/verified-password-cache.ts';

test('remembers a verified triple until it expires; any other triple is unknown', () => {
  let now = 1000;
  const cache = new VerifiedPasswordCache({ ttlMs: 100, maxEntries: 10, now: () => now });
  cache.remember('acme', '$hash1', 'secret');
  assert.equal(cache.has('acme', '$hash1', 'secret'), true);
  assert.equal(cache.has('acme', '$hash1', 'Secret'), false, 'another password');
  assert.equal(cache.has('acme', '$hash2', 'secret'), false, 'a changed hash');
  assert.equal(cache.has('acm', '$hash1', 'esecret'), false, 'the parts cannot slide into each other');
  assert.equal(cache.has('acme', '$hash1', 'sec\u0072et'.normalize('NFD')), true, 'passwords compare as scrypt sees them (NFC)');
  now += 100;
  assert.equal(cache.has('acme', '$hash1', 'secret'), false, 'expired');
  assert.equal(cache.size, 0);
});

test('holds at most maxEntries, forgetting the oldest first', () => {
  const cache = new VerifiedPasswordCache({ ttlMs: 60_000, maxEntries: 3 });
  for (const user of ['a', 'b', 'c', 'd']) cache.remember(user, 'h', 'p');
  assert.equal(cache.size, 3);
  assert.equal(cache.has('a', 'h', 'p'), false);
  assert.equal(cache.has('d', 'h', 'p'), true);
});
