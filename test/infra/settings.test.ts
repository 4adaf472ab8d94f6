import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { cdkJsonContext } from '../../lib/cdk-json-settings.ts';
import { DEFAULT_SETTINGS, SETTINGS_PREFIX, SettingsError, settingsFromContext } from '../../lib/settings.ts';
import { CDK_JSON, EXISTING_VPC, REPOSITORY_ROOT } from './stack-fixture.ts';

const fromContext = (context: Record<string, unknown>) => settingsFromContext((key) => context[key], Object.keys(context));
const withPrefix = (values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [SETTINGS_PREFIX + key, value]));

describe('settings from context', () => {
  test('cdk.json documents every setting, with the defaults the code uses', () => {
    const context = cdkJsonContext(CDK_JSON);
    const documented = Object.keys(context).filter((key) => key.startsWith(SETTINGS_PREFIX)).sort();
    assert.deepEqual(documented, Object.keys(DEFAULT_SETTINGS).map((key) => SETTINGS_PREFIX + key).sort());
    assert.deepEqual(fromContext(context), DEFAULT_SETTINGS);
  });

  test('no context at all gives the defaults', () => {
    assert.deepEqual(fromContext({}), DEFAULT_SETTINGS);
  });

  test('values from `-c key=value` arrive as strings and are converted', () => {
    const settings = fromContext(
      withPrefix({
        shardCount: '4',
        activeMode: 'on',
        egress: 'nat',
        allowedCidrs: '203.0.113.0/24, 198.51.100.0/24',
        implicitTlsPort: '0',
        bucketPrefix: '/ftp/inbound/',
        bucketName: 'partner-files',
        vpcId: '',
      }),
    );
    assert.equal(settings.shardCount, 4);
    assert.equal(settings.activeMode, true);
    assert.deepEqual(settings.allowedCidrs, ['203.0.113.0/24', '198.51.100.0/24']);
    assert.equal(settings.implicitTlsPort, 0);
    assert.equal(settings.bucketPrefix, 'ftp/inbound');
    assert.equal(settings.bucketName, 'partner-files');
    assert.equal(settings.vpcId, undefined);
  });

  test('a JSON array string is a list too', () => {
    assert.deepEqual(fromContext(withPrefix({ allowedCidrs: '["192.0.2.0/24"]' })).allowedCidrs, ['192.0.2.0/24']);
  });

  test('an existing VPC is taken with its zones and subnets', () => {
    const settings = fromContext(
      withPrefix({
        vpcId: EXISTING_VPC.vpcId,
        vpcAvailabilityZones: EXISTING_VPC.vpcAvailabilityZones!.join(','),
        vpcPublicSubnetIds: EXISTING_VPC.vpcPublicSubnetIds!.join(','),
        vpcTaskSubnetIds: EXISTING_VPC.vpcTaskSubnetIds!.join(','),
      }),
    );
    assert.deepEqual(settings.vpcTaskSubnetIds, EXISTING_VPC.vpcTaskSubnetIds);
  });

  test('the AWS limits are reached exactly, not refused', () => {
    // 2 + 16 × 3 = 50 listeners; 1 + 49 × 1 = 50 listeners; 1 + 4 = 5 target groups per service.
    assert.equal(fromContext(withPrefix({ shardCount: 16 })).shardCount, 16);
    assert.equal(fromContext(withPrefix({ shardCount: 49, passivePortsPerShard: 1, implicitTlsPort: 0 })).shardCount, 49);
    assert.equal(fromContext(withPrefix({ passivePortsPerShard: 4, implicitTlsPort: 0 })).passivePortsPerShard, 4);
  });

  // Each case: the settings (without prefix) and a fragment of the one message that must name the problem.
  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['unknown setting (typo)', { shardcount: 3 }, /bridge:shardcount is not a setting/],
    ['shard count not a number', { shardCount: 'two' }, /bridge:shardCount must be an integer, got "two"/],
    ['zero shards', { shardCount: 0 }, /bridge:shardCount must be an integer from 1 to 50, got 0/],
    ['more than 50 listeners', { shardCount: 17, passivePortsPerShard: 3 }, /need 53 NLB listeners .* at most 50/],
    ['50 passive ports without implicit TLS still break 50', { shardCount: 50, passivePortsPerShard: 1, implicitTlsPort: 0, tlsMode: 'optional' }, /need 51 NLB listeners/],
    ['more than 5 target groups per service', { passivePortsPerShard: 4 }, /gives each shard's service 6 target groups .* at most 5/],
    ['zero passive ports per shard', { passivePortsPerShard: 0 }, /bridge:passivePortsPerShard must be an integer from 1 to 4/],
    ['passive range overlaps the control port', { controlPort: 30001 }, /passive range 30000-30005 overlaps bridge:controlPort 30001/],
    ['passive range overlaps the implicit TLS port', { implicitTlsPort: 30005 }, /passive range 30000-30005 overlaps bridge:implicitTlsPort 30005/],
    ['passive range overlaps a container port', { firstPassivePort: 8078 }, /overlaps the container's health port 8080/],
    ['passive range below 1024', { firstPassivePort: 990 }, /bridge:firstPassivePort must be an integer from 1024 to 65535/],
    ['passive range beyond 65535', { firstPassivePort: 65533 }, /ends above port 65535/],
    ['control and implicit ports equal', { controlPort: 990 }, /must differ, both are 990/],
    ['implicit TLS without TLS', { tlsMode: 'off' }, /bridge:implicitTlsPort 990 needs TLS/],
    ['unknown TLS mode', { tlsMode: 'strict' }, /bridge:tlsMode must be one of off, optional, required, got "strict"/],
    ['active mode without NAT', { activeMode: true }, /bridge:activeMode needs bridge:egress=nat/],
    ['active mode not a boolean', { activeMode: 'maybe' }, /bridge:activeMode must be true or false/],
    ['no client networks', { allowedCidrs: [] }, /must list at least one IPv4 CIDR/],
    ['a host address, not a network', { allowedCidrs: ['203.0.113.7/24'] }, /"203.0.113.7\/24" is not an IPv4 CIDR/],
    ['an IPv6 network', { allowedCidrs: ['2001:db8::/32'] }, /"2001:db8::\/32" is not an IPv4 CIDR/],
    ['too many client networks for one security group', { allowedCidrs: Array.from({ length: 21 }, (_, i) => `10.${i}.0.0/16`) }, /need 63 inbound rules .* default quota is 60/],
    ['idle timeout out of NLB limits', { idleTimeoutSeconds: 7200 }, /bridge:idleTimeoutSeconds must be an integer from 60 to 6000/],
    ['deregistration delay out of range', { deregistrationDelaySeconds: -1 }, /bridge:deregistrationDelaySeconds must be an integer from 0 to 3600/],
    ['log retention CloudWatch refuses', { logRetentionDays: 10 }, /bridge:logRetentionDays must be one of 1, 3, 5/],
    ['memory that does not fit the CPU', { taskCpu: 256, taskMemoryMiB: 4096 }, /bridge:taskMemoryMiB 4096 does not fit bridge:taskCpu 256/],
    ['CPU Fargate does not offer', { taskCpu: 768 }, /bridge:taskCpu must be one of 256, 512, 1024/],
    ['bad bucket name', { bucketName: 'Partner_Files' }, /bridge:bucketName "Partner_Files" is not a valid S3 bucket name/],
    ['prefix escaping upwards', { bucketPrefix: 'ftp/../other' }, /bridge:bucketPrefix "ftp\/..\/other" must be path segments/],
    ['KMS key without an existing bucket', { bucketKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abcd' }, /applies to an existing bucket only/],
    ['partial secret ARN', { usersSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp-users' }, /is not a complete Secrets Manager secret ARN/],
    ['existing VPC without subnets', { vpcId: 'vpc-0a1b2c3d4e5f60718' }, /bridge:vpcId needs bridge:vpcAvailabilityZones/],
    ['subnets without an existing VPC', { vpcTaskSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1'] }, /bridge:vpcTaskSubnetIds applies to an existing VPC only/],
    ['existing VPC with a missing task subnet', { ...EXISTING_VPC, vpcTaskSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1'] }, /bridge:vpcTaskSubnetIds must list one subnet per zone .* \(3\), got 1/],
    ['bad log level', { logLevel: 'verbose' }, /bridge:logLevel must be one of fatal, error, warn, info, debug, trace, silent/],
  ];
  for (const [name, values, message] of invalid) {
    test(`refuses: ${name}`, () => {
      assert.throws(() => fromContext(withPrefix(values)), (error: unknown) => {
        assert.ok(error instanceof SettingsError, `expected a SettingsError, got ${String(error)}`);
        assert.match(error.message, /^Invalid ftp-s3-bridge settings:\n/);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('several problems are reported together, one per line', () => {
    assert.throws(
      () => fromContext(withPrefix({ shardCount: 0, tlsMode: 'off', logRetentionDays: 2 })),
      (error: unknown) => error instanceof SettingsError && error.problems.length === 3,
    );
  });
});

describe('the CDK app', () => {
  test('invalid settings stop synth with the message alone, no stack trace', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'bridge-app-'));
    try {
      const result = spawnSync(process.execPath, ['bin/ftp-s3-bridge.ts'], {
        cwd: fileURLToPath(REPOSITORY_ROOT),
        env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ 'bridge:shardCount': '20' }) },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /^Invalid ftp-s3-bridge settings:\n {2}- bridge:shardCount × bridge:passivePortsPerShard = 60 passive ports need 62 NLB listeners/);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
