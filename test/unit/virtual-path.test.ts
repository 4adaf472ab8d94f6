import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseName, parentPath, PathError, resolvePath, toStorePath } from '../../runtime/src/protocol/virtual-path.ts';

test('paths resolve lexically like a chroot', () => {
  const cases: Array<[cwd: string, argument: string, expected: string]> = [
    ['/', 'a.txt', '/a.txt'],
    ['/docs', 'a.txt', '/docs/a.txt'],
    ['/docs', '/a.txt', '/a.txt'],
    ['/docs', '..', '/'],
    ['/', '../../..', '/'],
    ['/a/b', '../../../../etc/passwd', '/etc/passwd'],
    ['/', 'a//b///c', '/a/b/c'],
    ['/', './a/./b/.', '/a/b'],
    ['/', 'a\\..\\..\\b', '/b'],
    ['/', '\\windows\\style', '/windows/style'],
    ['/', '%2e%2e/x', '/%2e%2e/x'],
    ['/', '....', '/....'],
    ['/docs', '', '/docs'],
    ['/', 'name with spaces ', '/name with spaces '],
  ];
  for (const [cwd, argument, expected] of cases) assert.equal(resolvePath(cwd, argument), expected, `${cwd} + ${argument}`);
});

test('NUL, control characters and paths over 1024 bytes are refused', () => {
  for (const argument of ['a\u0000b', 'a\nb', 'tab\there', 'del\u007f', 'é'.repeat(600)]) {
    assert.throws(() => resolvePath('/', argument), PathError, JSON.stringify(argument.slice(0, 20)));
  }
});

test('store paths are the home prefix plus the path', () => {
  assert.equal(toStorePath('partners/acme', '/'), 'partners/acme');
  assert.equal(toStorePath('partners/acme', '/in/a.csv'), 'partners/acme/in/a.csv');
  assert.equal(toStorePath('', '/a.csv'), 'a.csv');
  assert.equal(toStorePath('', '/'), '');
});

test('baseName and parentPath', () => {
  assert.equal(baseName('/a/b.txt'), 'b.txt');
  assert.equal(parentPath('/a/b.txt'), '/a');
  assert.equal(parentPath('/a'), '/');
  assert.equal(parentPath('/'), '/');
});
