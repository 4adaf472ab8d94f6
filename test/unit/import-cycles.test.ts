import assert from 'node:assert/strict';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importSpecifiers, sourceFiles } from '../support/import-graph.ts';

/**
 * No module imports itself back through others, type imports included (the command
 * table, handlers and session meet in a leaf contract module). Checked here so a cycle
 * fails the build instead of waiting for a review; which way imports may go is
 * layering.test.ts.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function cycles(files: readonly string[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const relativeImports = importSpecifiers(file).filter((specifier) => specifier.startsWith('.'));
    graph.set(file, relativeImports.map((specifier) => resolve(dirname(file), specifier)));
  }
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next].map((path) => relative(ROOT, path)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

for (const folders of [['runtime/src'], ['lib', 'bin']]) {
  test(`no import cycle in ${folders.join('/ and ')}/ (type imports included)`, () => {
    assert.deepEqual(cycles(folders.flatMap((folder) => sourceFiles(join(ROOT, folder)))), []);
  });
}
