import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { MAIN } from '../support/child-bridge.ts';
import { main } from '../../runtime/src/cli/command-line.ts';
import { unsupportedNodeVersion } from '../../runtime/src/node-version.ts';

describe('the supported Node.js range (22.11+ and 24.11+, as package.json engines)', () => {
  test('the LTS lines from their first LTS release are accepted', () => {
    for (const version of ['v22.11.0', 'v22.23.3', 'v24.11.0', 'v24.21.0', process.version]) {
      assert.equal(unsupportedNodeVersion(version), undefined, version);
    }
  });

  test('anything else gets one line naming the versions needed', () => {
    for (const version of ['v20.20.2', 'v22.10.0', 'v23.11.1', 'v24.10.0', 'v25.0.0', 'v18.20.8', 'nonsense']) {
      const message = unsupportedNodeVersion(version);
      assert.ok(message !== undefined, version);
      assert.doesNotMatch(message, /\n/);
      assert.match(message, new RegExp(`^Node\\.js ${version.replace(/\./g, '\\.')} is not supported: run the bridge on Node\\.js 22\\.11\\+ or 24\\.11\\+`));
    }
  });

  test('package.json engines says the same', async () => {
    const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
    assert.equal(pkg.engines.node, '^22.11.0 || ^24.11.0');
  });

  test('main refuses to start on another version before reading its configuration: exit 1, one line', async () => {
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as unknown as typeof process.stderr.write;
    let code: number;
    try {
      // An empty environment would be a configuration error (exit 2) if it were read.
      code = await main([], {}, 'v20.20.2');
    } finally {
      process.stderr.write = write;
    }
    assert.equal(code, 1);
    assert.deepEqual(written, ['ftp-s3-bridge: Node.js v20.20.2 is not supported: run the bridge on Node.js 22.11+ or 24.11+ (node_modules/.bin/node after npm ci)\n']);
  });

  test('the built bridge on the machine\'s own Node, when that is not a supported one, says so and exits 1', (context) => {
    const machineNode = '/usr/bin/node';
    const version = spawnSync(machineNode, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    if (!version || unsupportedNodeVersion(version) === undefined) {
      context.skip(`no unsupported Node at ${machineNode}`);
      return;
    }
    const run = spawnSync(machineNode, [MAIN], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, `ftp-s3-bridge: Node.js ${version} is not supported: run the bridge on Node.js 22.11+ or 24.11+ (node_modules/.bin/node after npm ci)\n`);
  });
});
