import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GlobPattern, MAX_GLOB_LENGTH } from '../../runtime/src/protocol/glob-pattern.ts';

function glob(pattern: string): GlobPattern {
  const parsed = GlobPattern.parse(pattern);
  assert.ok(parsed, pattern);
  return parsed;
}

/** The obvious definition, by recursion (exponential: only for short inputs). */
function reference(pattern: readonly string[], name: readonly string[]): boolean {
  if (pattern.length === 0) return name.length === 0;
  const [head, ...rest] = pattern;
  if (head === '*') return reference(rest, name) || (name.length > 0 && reference(pattern, name.slice(1)));
  return name.length > 0 && (head === '?' || head === name[0]) && reference(rest, name.slice(1));
}

test('* and ? match as in a shell, every other character stands for itself', () => {
  assert.ok(glob('*.csv').matches('a.csv'));
  assert.ok(!glob('*.csv').matches('a.csvx'));
  assert.ok(glob('f?.txt').matches('f1.txt'));
  assert.ok(!glob('f?.txt').matches('f.txt'));
  assert.ok(glob('a+(b).txt').matches('a+(b).txt'));
  assert.ok(!glob('a.txt').matches('abtxt'));
  assert.ok(glob('*').matches(''));
  assert.ok(glob('**x**').matches('x'));
  assert.ok(glob('?').matches('ü'), 'one character, not one UTF-16 unit');
  assert.ok(glob('?').matches('😀'));
  assert.ok(!glob('Report*').matches('report.csv'), 'case-sensitive, like S3 keys');
  assert.ok(glob('[a].txt').matches('[a].txt'), 'brackets are not character classes');
});

test('agrees with the recursive definition on every short pattern and name over a small alphabet', () => {
  const alphabet = ['a', 'b', '*', '?'];
  const patterns: string[][] = [[]];
  for (let length = 1; length <= 5; length += 1) {
    for (const pattern of patterns.filter((p) => p.length === length - 1)) {
      for (const symbol of alphabet) patterns.push([...pattern, symbol]);
    }
  }
  const names: string[][] = [[]];
  for (let length = 1; length <= 6; length += 1) {
    for (const name of names.filter((n) => n.length === length - 1)) for (const symbol of ['a', 'b']) names.push([...name, symbol]);
  }
  let checked = 0;
  for (const pattern of patterns) {
    const compiled = glob(pattern.join(''));
    for (const name of names) {
      assert.equal(compiled.matches(name.join('')), reference(pattern, name), `${pattern.join('')} vs ${name.join('')}`);
      checked += 1;
    }
  }
  assert.ok(checked > 100_000);
});

test('patterns that make a backtracking matcher exponential take linear time', () => {
  // A backtracking regex needed 13 s for *a*a*a*a*a*b against 100 "a"s; these are far worse.
  const hostile = [`${'*a'.repeat(40)}*b`, `${'*a?'.repeat(60)}*b`, `${'*'.repeat(MAX_GLOB_LENGTH - 1)}b`];
  const names = Array.from({ length: 1000 }, (_, index) => 'a'.repeat(1000 + (index % 24)));
  const started = performance.now();
  for (const pattern of hostile) {
    const compiled = glob(pattern);
    for (const name of names) assert.equal(compiled.matches(name), false);
  }
  const ms = performance.now() - started;
  assert.ok(ms < 3000, `3,000 names of 1,000+ characters against hostile patterns took ${ms.toFixed(0)} ms`);
});

test(`patterns longer than ${MAX_GLOB_LENGTH} characters are refused`, () => {
  assert.ok(GlobPattern.parse('*'.repeat(MAX_GLOB_LENGTH)));
  assert.equal(GlobPattern.parse('*'.repeat(MAX_GLOB_LENGTH + 1)), undefined);
});
