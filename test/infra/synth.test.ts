import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { cdkJsonContext } from '../../lib/cdk-json-settings.ts';
import { CDK_JSON, REPOSITORY_ROOT } from './stack-fixture.ts';

const cwd = fileURLToPath(REPOSITORY_ROOT);

function withOutdir(run: (outdir: string) => void): void {
  const outdir = mkdtempSync(join(tmpdir(), 'bridge-synth-'));
  try {
    run(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function assertAssembly(outdir: string): void {
  const template = JSON.parse(readFileSync(join(outdir, 'FtpS3Bridge.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
  assert.ok(Object.values(template.Resources).some((resource) => resource.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer'));
  assert.ok(existsSync(join(outdir, 'FtpS3Bridge.assets.json')));
}

describe('synth', () => {
  test('the app synthesizes offline with the context of cdk.json, as the CLI runs it', () => {
    withOutdir((outdir) => {
      const result = spawnSync(process.execPath, ['bin/ftp-s3-bridge.ts'], {
        cwd,
        env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(cdkJsonContext(CDK_JSON)), CDK_DEFAULT_ACCOUNT: '', CDK_DEFAULT_REGION: '' },
        encoding: 'utf8',
        timeout: 90_000,
      });
      assert.equal(result.status, 0, result.stderr);
      assertAssembly(outdir);
    });
  });

  test('`npx cdk synth --quiet` (the command README and docs/deploy.md give) runs, including `npm run build`', () => {
    withOutdir((outdir) => {
      const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '--output', outdir], {
        cwd,
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
        encoding: 'utf8',
        timeout: 180_000,
      });
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
      assertAssembly(outdir);
    });
  });
});
