import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The exit hook every test run loads must keep what a run reports: its results and its exit code. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOOK = './test/support/exit-without-teardown.ts';
/** The environment of a run of its own: without NODE_TEST_CONTEXT, which makes a child a file of this run. */
const { NODE_TEST_CONTEXT: _, ...OWN_RUN_ENV } = process.env;

test('a test run with the exit hook reports every result and fails when a test fails', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'exit-hook-'));
  try {
    const file = join(dir, 'sample.test.mjs');
    const cases = Array.from({ length: 200 }, (_, index) => `test('case ${index}', () => {});`).join('\n');
    await writeFile(file, `import { test } from 'node:test';\n${cases}\ntest('fails', () => { throw new Error('planted'); });\n`);
    const result = spawnSync(process.execPath, ['--test', '--import', HOOK, '--test-reporter=tap', file], { cwd: ROOT, env: OWN_RUN_ENV, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /^# tests 201$/m);
    assert.match(result.stdout, /^# pass 200$/m);
    assert.match(result.stdout, /^# fail 1$/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a process that ends by itself keeps its exit code', () => {
  const result = spawnSync(process.execPath, ['--import', HOOK, '-e', 'process.exitCode = 3; setTimeout(() => {}, 10);'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 3, result.stderr);
});
