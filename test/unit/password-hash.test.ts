import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashPassword, isPasswordHash, verifyPassword } from '../../runtime/src/auth/password-hash.ts';

/** Cheap parameters where the test is about the format, not the cost. */
const FAST = { parameters: { logN: 10, r: 8, p: 1 } } as const;

describe('password hashes', () => {
  test('round trip with the default parameters', async () => {
    const hash = await hashPassword('correct horse battery staple');
    assert.match(hash, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(isPasswordHash(hash), true);
    assert.equal(await verifyPassword('correct horse battery staple', hash), true);
    assert.equal(await verifyPassword('correct horse battery stapler', hash), false);
    assert.equal(await verifyPassword('', hash), false);
  });

  test('a fresh salt every time', async () => {
    const [a, b] = await Promise.all([hashPassword('same', FAST), hashPassword('same', FAST)]);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword('same', a), true);
    assert.equal(await verifyPassword('same', b), true);
  });

  test('parameters are read back from the hash', async () => {
    const hash = await hashPassword('pw', { parameters: { logN: 11, r: 4, p: 2 } });
    assert.match(hash, /^\$scrypt\$ln=11,r=4,p=2\$/);
    assert.equal(await verifyPassword('pw', hash), true);
    // The same salt and key under other parameters must not verify.
    assert.equal(await verifyPassword('pw', hash.replace('ln=11', 'ln=12')), false);
    assert.equal(await verifyPassword('pw', hash.replace('r=4', 'r=5')), false);
    assert.equal(await verifyPassword('pw', hash.replace('p=2', 'p=1')), false);
  });

  test('unicode passwords; composed and decomposed forms are the same password', async () => {
    const hash = await hashPassword('pässwörd', FAST);
    assert.equal(await verifyPassword('pässwörd', hash), true);
    assert.equal(await verifyPassword('pa\u0308sswo\u0308rd', hash), true);
    assert.equal(await verifyPassword('passwort', hash), false);
  });

  test('a tampered salt or key does not verify', async () => {
    const hash = await hashPassword('secret', FAST);
    const parts = hash.split('$');
    const flip = (text: string): string => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
    // ['', 'scrypt', 'ln=10,r=8,p=1', salt, key]
    const badSalt = [...parts.slice(0, 3), flip(parts[3] ?? ''), parts[4]].join('$');
    const badKey = [...parts.slice(0, 4), flip(parts[4] ?? '')].join('$');
    assert.equal(isPasswordHash(badSalt), true);
    assert.equal(isPasswordHash(badKey), true);
    assert.equal(await verifyPassword('secret', badSalt), false);
    assert.equal(await verifyPassword('secret', badKey), false);
  });

  test('malformed hashes are refused and verify false', async () => {
    const good = await hashPassword('secret', FAST);
    const malformed = [
      '',
      'secret',
      good.slice(0, -1) + '=', // padding
      good.slice(0, -5), // truncated key
      good.replace('$scrypt$', '$argon2id$'),
      good.replace('ln=10', 'ln=9'), // too cheap
      good.replace('ln=10', 'ln=40'), // too expensive
      good.replace('ln=10', 'ln=22').replace('r=8', 'r=64'), // memory bound
      good.replace('p=1', 'p=0'),
      good + '$extra',
      ` ${good}`,
      good.replace(/\$[^$]+$/, '$' + 'A'.repeat(21)), // short key
    ];
    for (const hash of malformed) {
      assert.equal(isPasswordHash(hash), false, hash);
      assert.equal(await verifyPassword('secret', hash), false, hash);
    }
  });

  test('hashing refuses out-of-range parameters', async () => {
    await assert.rejects(hashPassword('x', { parameters: { logN: 30, r: 8, p: 1 } }), RangeError);
  });
});
