import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStorageError } from '../../runtime/src/storage/storage-error.ts';
import { KeyMapper, isValidEntryName } from '../../runtime/src/storage/store-path.ts';

const invalid = (error: unknown): boolean => isStorageError(error, 'invalid-name');

describe('KeyMapper', () => {
  it('maps store paths below the prefix', () => {
    const keys = new KeyMapper('partners/acme');
    assert.equal(keys.key('a/b.txt'), 'partners/acme/a/b.txt');
    assert.equal(keys.key(''), 'partners/acme');
    assert.equal(keys.folderPrefix(''), 'partners/acme/');
    assert.equal(keys.folderPrefix('a'), 'partners/acme/a/');
    const root = new KeyMapper('');
    assert.equal(root.key('a'), 'a');
    assert.equal(root.folderPrefix(''), '');
    assert.equal(root.folderPrefix('a/b'), 'a/b/');
  });

  it('keeps unusual but harmless names', () => {
    const keys = new KeyMapper('p');
    for (const name of ['...', '.hidden', 'a..b', 'spaces in name', 'Grüße 😀', 'back\\slash', '%2e%2e']) {
      assert.equal(keys.key(name), `p/${name}`);
    }
  });

  it('refuses empty, dot and dot-dot segments, control characters and lone surrogates', () => {
    const keys = new KeyMapper('p');
    for (const path of ['.', '..', 'a/..', '../a', 'a/./b', '/a', 'a/', 'a//b', 'a\u0000b', 'a\rb', 'a\u007fb', 'a\u0085b', 'a\ud800b']) {
      assert.throws(() => keys.key(path), invalid, JSON.stringify(path));
    }
  });

  it('counts the key limit in UTF-8 bytes with the prefix and the folder slash', () => {
    const keys = new KeyMapper('p'); // 'p/' takes 2 bytes
    assert.equal(keys.key('x'.repeat(1022)).length, 1024);
    assert.throws(() => keys.key('x'.repeat(1023)), invalid);
    assert.throws(() => keys.key('x'.repeat(1022), '/'), invalid);
    assert.throws(() => keys.key('é'.repeat(512)), invalid); // 1,024 bytes + prefix
    assert.throws(() => keys.key('x'.repeat(1100)), invalid);
  });

  it('refuses a malformed root prefix at construction', () => {
    for (const prefix of ['/p', 'p/', 'a//b', '..']) assert.throws(() => new KeyMapper(prefix), TypeError);
  });
});

describe('isValidEntryName', () => {
  it('accepts plain names and rejects what no path could address', () => {
    assert.equal(isValidEntryName('file.txt'), true);
    for (const name of ['', '.', '..', 'a/b', 'line\nbreak']) assert.equal(isValidEntryName(name), false, name);
  });
});
