import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Nothing in the repository points at a file that is not in it: every TypeScript or
 * Markdown file that code, comments and documents mention is a tracked file (by path, or
 * at least by name). Markdown links are checked by test/unit/docs.test.ts.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Written by test runs, never committed. */
const GENERATED = new Set(['matrix.md']);
const MENTION = /(?<![\w@/.-])((?:[\w.-]+\/)*[\w.-]+\.(?:ts|md))\b/g;

const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
const paths = new Set(tracked);
const names = new Set(tracked.map((file) => basename(file)));
const texts = tracked.filter((file) => /\.(ts|md|py)$/.test(file) || file === '.ci/run').filter((file) => !file.startsWith('bench/results/'));

test('every file name mentioned in code and documents is a file of the repository', () => {
  const missing: string[] = [];
  for (const file of texts) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const match of text.matchAll(MENTION)) {
      const mention = match[1]!;
      if (paths.has(mention) || names.has(basename(mention)) || GENERATED.has(basename(mention))) continue;
      missing.push(`${file}: ${mention}`);
    }
  }
  assert.deepEqual(missing, []);
});
