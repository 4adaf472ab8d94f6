import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * What the container image holds, rebuilt the way runtime/Dockerfile builds it: the
 * production build (`npm run build`'s tsconfig) and the production dependencies only
 * (the Dockerfile's own `npm ci` line). The local stack and the dev dependencies it
 * needs (fauxqs, selfsigned) must stay out, and the entry point must start without them.
 */
const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCKERFILE = readFileSync(join(REPOSITORY_ROOT, 'runtime/Dockerfile'), 'utf8');

function dockerfileInstall(): string[] {
  const run = /^RUN (npm ci [^&\n]*)/m.exec(DOCKERFILE);
  assert.ok(run, 'runtime/Dockerfile installs the dependencies with npm ci');
  return run[1]!.trim().split(/\s+/).slice(1);
}

describe('the production image', () => {
  let image: string;

  before(() => {
    image = mkdtempSync(join(tmpdir(), 'production-image-'));
    execFileSync(process.execPath, [join(REPOSITORY_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(REPOSITORY_ROOT, 'runtime/tsconfig.json'), '--outDir', join(image, 'runtime/dist')]);
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(REPOSITORY_ROOT, file), join(image, file));
    // --prefer-offline: the packages come from the cache `npm ci` filled for this checkout.
    execFileSync('npm', [...dockerfileInstall(), '--prefer-offline', '--no-audit', '--no-fund'], { cwd: image, stdio: 'ignore' });
  });

  after(() => {
    if (image) rmSync(image, { recursive: true, force: true });
  });

  test('copies only the dependency list and the built runtime', () => {
    const copies = [...DOCKERFILE.matchAll(/^COPY (.+) \S+$/gm)].flatMap((match) => match[1]!.split(/\s+/));
    assert.deepEqual(copies, ['package.json', 'package-lock.json', 'runtime/dist']);
  });

  test('the build holds the bridge and not the local stack', () => {
    assert.ok(existsSync(join(image, 'runtime/dist/main.js')));
    assert.equal(existsSync(join(image, 'runtime/dist/local')), false, 'runtime/dist/local/ is built');
  });

  test('has no dev dependency installed, and the entry point starts without them', () => {
    for (const devOnly of ['fauxqs', 'selfsigned', 'typescript']) {
      assert.equal(existsSync(join(image, 'node_modules', devOnly)), false, `${devOnly} is installed`);
    }
    const help = spawnSync(process.execPath, [join(image, 'runtime/dist/main.js'), '--help'], {
      cwd: image,
      env: { PATH: process.env['PATH'], NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: node runtime\/dist\/main\.js/);
  });
});
