import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readContainerMemoryLimit } from '../../runtime/src/container-memory-limit.ts';

const GIB = 1024 ** 3;

describe('readContainerMemoryLimit', () => {
  const roots: string[] = [];
  after(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });

  /** A fake cgroup mount holding `files` (path below the mount → content). */
  async function cgroup(files: Record<string, string>): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-cgroup-'));
    roots.push(root);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), content);
    }
    return root;
  }

  const read = (cgroupRoot: string) => readContainerMemoryLimit({ cgroupRoot, physicalBytes: 16 * GIB });

  test('cgroup v2: memory.max in bytes', async () => {
    assert.equal(read(await cgroup({ 'memory.max': '1073741824\n' })), GIB);
  });

  test('cgroup v1: memory/memory.limit_in_bytes', async () => {
    assert.equal(read(await cgroup({ 'memory/memory.limit_in_bytes': '536870912\n' })), GIB / 2);
  });

  test('v2 wins when both are there', async () => {
    assert.equal(read(await cgroup({ 'memory.max': '2147483648', 'memory/memory.limit_in_bytes': '536870912' })), 2 * GIB);
  });

  test('no limit: "max", v1 unlimited (about 2^63), more than the machine has, garbage, no file', async () => {
    assert.equal(read(await cgroup({ 'memory.max': 'max\n' })), undefined);
    assert.equal(read(await cgroup({ 'memory/memory.limit_in_bytes': '9223372036854771712\n' })), undefined);
    assert.equal(read(await cgroup({ 'memory.max': String(32 * GIB) })), undefined);
    assert.equal(read(await cgroup({ 'memory.max': '-1' })), undefined);
    assert.equal(read(await cgroup({ 'memory.max': '0' })), undefined);
    assert.equal(read(await cgroup({})), undefined);
    assert.equal(readContainerMemoryLimit({ cgroupRoot: join(tmpdir(), 'no-such-cgroup-mount') }), undefined);
  });
});
