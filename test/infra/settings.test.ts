import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { cdkJsonContext } from '../../lib/cdk-json-settings.ts';
import { defaultSettings, SETTINGS_PREFIX, SettingsError, settingsFromContext } from '../../lib/settings.ts';
import { CDK_JSON, EXISTING_VPC, REPOSITORY_ROOT } from './stack-fixture.ts';

const withPrefix = (values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [SETTINGS_PREFIX + key, value]));
const fromContext = (values: Record<string, unknown>) => settingsFromContext(withPrefix(values));

/** The problems `values` are refused with (fails the test if they are accepted). */
function problemsOf(values: Record<string, unknown>): readonly string[] {
  try {
    fromContext(values);
  } catch (error) {
    assert.ok(error instanceof SettingsError, `expected a SettingsError, got ${String(error)}`);
    assert.equal(error.message, `Invalid ftp-s3-bridge settings:\n${error.problems.map((p) => `  - ${p}`).join('\n')}`);
    return error.problems;
  }
  assert.fail(`accepted ${JSON.stringify(values)}`);
}

/** The CDK app as the CLI runs it, with `context` as `-c` would give it. */
function runApp(context: Record<string, unknown>): { status: number | null; stderr: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'bridge-app-'));
  try {
    return spawnSync(process.execPath, ['bin/ftp-s3-bridge.ts'], {
      cwd: fileURLToPath(REPOSITORY_ROOT),
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
      encoding: 'utf8',
      timeout: 60_000,
    });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('settings from context', () => {
  test('no context gives the defaults, which are what they were when cdk.json held them', () => {
    assert.deepEqual(
      defaultSettings(),
      {
        stackName: 'FtpS3Bridge',
        allowedCidrs: ['0.0.0.0/0'],
        shardCount: 2,
        passivePortsPerShard: 3,
        firstPassivePort: 30000,
        controlPort: 21,
        implicitTlsPort: 990,
        activeMode: false,
        tlsMode: 'required',
        vpcId: undefined,
        vpcAvailabilityZones: [],
        vpcPublicSubnetIds: [],
        vpcTaskSubnetIds: [],
        maxAzs: 2,
        egress: 'endpoints',
        elasticIpAllocationIds: [],
        elasticIpQuota: 5,
        bucketName: undefined,
        bucketKmsKeyArn: undefined,
        bucketVersioning: false,
        bucketNoncurrentVersionDays: 30,
        bucketPrefix: '',
        usersStore: 'secret',
        usersSecretArn: undefined,
        tlsSecretArn: undefined,
        usersSecretKmsKeyArn: undefined,
        tlsSecretKmsKeyArn: undefined,
        taskCpu: 512,
        taskMemoryMiB: 1024,
        uploadBufferMiB: undefined,
        maxConnections: undefined,
        maxConnectionsPerAddress: undefined,
        ftpIdleTimeoutSeconds: undefined,
        ftpLoginTimeoutSeconds: undefined,
        ftpDataTimeoutSeconds: undefined,
        pendingUploadHours: 24,
        idleTimeoutSeconds: 3600,
        // Was 120 before deploys were made quiet (docs/deploys.md): a stopping task gets SIGTERM, and says 421, 10 s after it leaves the load balancer.
        deregistrationDelaySeconds: 10,
        hostedZoneId: undefined,
        hostedZoneName: undefined,
        dnsName: undefined,
        alarmEmail: undefined,
        alarmTopicArn: undefined,
        alarmShardDownMinutes: 10,
        alarmFailedTransfers: 10,
        alarmFailedLogins: 20,
        alarmDeadLetterMessages: 1,
        alarmMemoryPercent: 85,
        alarmTaskStops: 3,
        alarmCertificateDays: 30,
        logRetentionDays: 90,
        logLevel: 'info',
      },
    );
  });

  test('cdk.json repeats no default: it sets no setting at all', () => {
    assert.deepEqual(Object.keys(cdkJsonContext(CDK_JSON)).filter((key) => key.startsWith(SETTINGS_PREFIX)), []);
  });

  test('the empty strings and nulls an older cdk.json held mean unset', () => {
    const settings = fromContext({ vpcId: '', bucketName: '', bucketKmsKeyArn: null, usersSecretArn: '', tlsSecretArn: '', bucketPrefix: '' });
    assert.deepEqual(settings, defaultSettings());
  });

  test('values from `-c key=value` arrive as strings and are converted', () => {
    const settings = fromContext({
      shardCount: '4',
      activeMode: 'on',
      egress: 'nat',
      allowedCidrs: '203.0.113.0/24, 198.51.100.0/24',
      implicitTlsPort: '0',
      bucketPrefix: '/ftp//inbound/',
      bucketName: 'partner-files',
      vpcId: '',
    });
    assert.equal(settings.shardCount, 4);
    assert.equal(settings.activeMode, true);
    assert.deepEqual(settings.allowedCidrs, ['203.0.113.0/24', '198.51.100.0/24']);
    assert.equal(settings.implicitTlsPort, 0);
    assert.equal(settings.bucketPrefix, 'ftp/inbound');
    assert.equal(settings.bucketName, 'partner-files');
    assert.equal(settings.vpcId, undefined);
  });

  test('a JSON array string is a list too', () => {
    assert.deepEqual(fromContext({ allowedCidrs: '["192.0.2.0/24"]' }).allowedCidrs, ['192.0.2.0/24']);
  });

  test('an existing VPC is taken with its zones and subnets', () => {
    const settings = fromContext({
      vpcId: EXISTING_VPC.vpcId,
      vpcAvailabilityZones: EXISTING_VPC.vpcAvailabilityZones!.join(','),
      vpcPublicSubnetIds: EXISTING_VPC.vpcPublicSubnetIds!.join(','),
      vpcTaskSubnetIds: EXISTING_VPC.vpcTaskSubnetIds!.join(','),
    });
    assert.deepEqual(settings.vpcTaskSubnetIds, EXISTING_VPC.vpcTaskSubnetIds);
  });

  test('the Elastic IP quota is reached exactly, not refused; existing addresses take none of it', () => {
    // 5 zones × 1 address = 5; with existing addresses only the 3 NAT gateways allocate.
    assert.equal(fromContext({ maxAzs: 5 }).maxAzs, 5);
    const ids = ['eipalloc-0123456789abcdef0', 'eipalloc-0123456789abcdef1', 'eipalloc-0123456789abcdef2'];
    assert.deepEqual(fromContext({ maxAzs: 3, egress: 'nat', elasticIpAllocationIds: ids.join(',') }).elasticIpAllocationIds, ids);
    assert.equal(fromContext({ maxAzs: 3, egress: 'nat', elasticIpQuota: 6 }).elasticIpQuota, 6);
  });

  test('the AWS limits are reached exactly, not refused', () => {
    // 2 + 16 × 3 = 50 listeners; 1 + 49 × 1 = 50 listeners; 1 + 4 = 5 target groups per service.
    assert.equal(fromContext({ shardCount: 16 }).shardCount, 16);
    assert.equal(fromContext({ shardCount: 49, passivePortsPerShard: 1, implicitTlsPort: 0 }).shardCount, 49);
    assert.equal(fromContext({ passivePortsPerShard: 4, implicitTlsPort: 0 }).passivePortsPerShard, 4);
  });

  // Each case: the settings (without prefix) and the one problem they are refused with.
  const invalid: [string, Record<string, unknown>, string][] = [
    ['unknown setting (typo)', { shardcount: 3 }, 'bridge:shardcount is not a setting; did you mean bridge:shardCount?'],
    ['unknown setting (nothing near)', { colour: 'blue' }, 'bridge:colour is not a setting; the settings are listed in docs/deploy.md, "Settings"'],
    ['shard count not a number', { shardCount: 'two' }, 'bridge:shardCount: expected a whole number from 1 to 50, got "two"'],
    ['zero shards', { shardCount: 0 }, 'bridge:shardCount: expected a whole number from 1 to 50, got 0'],
    ['more than 50 listeners', { shardCount: 17, passivePortsPerShard: 3 },
      'bridge:shardCount: 17 shards × bridge:passivePortsPerShard 3 = 51 passive ports need 53 NLB listeners with the control and implicit-TLS port; a Network Load Balancer has at most 50'],
    ['50 passive ports without implicit TLS still break 50', { shardCount: 50, passivePortsPerShard: 1, implicitTlsPort: 0, tlsMode: 'optional' },
      'bridge:shardCount: 50 shards × bridge:passivePortsPerShard 1 = 50 passive ports need 51 NLB listeners with the control port; a Network Load Balancer has at most 50'],
    ['more than 5 target groups per service', { passivePortsPerShard: 4 },
      "bridge:passivePortsPerShard: 4 gives each shard's service 6 target groups (control + implicit TLS + passive ports); an ECS service can attach at most 5: at most 3, or bridge:implicitTlsPort=0"],
    ['zero passive ports per shard', { passivePortsPerShard: 0 }, 'bridge:passivePortsPerShard: expected a whole number from 1 to 4, got 0'],
    ['passive range overlaps the control port', { controlPort: 30001 }, 'bridge:controlPort: 30001 is inside the passive range 30000-30005; expected a port outside it'],
    ['passive range overlaps the implicit TLS port', { implicitTlsPort: 30005 }, 'bridge:implicitTlsPort: 30005 is inside the passive range 30000-30005; expected a port outside it'],
    ['passive range overlaps a container port', { firstPassivePort: 8078 },
      "bridge:firstPassivePort: the passive range 8078-8083 contains the container's health port 8080; expected a range without it"],
    ['passive range below 1024', { firstPassivePort: 990 }, 'bridge:firstPassivePort: expected a whole number from 1024 to 65535, got 990'],
    ['passive range beyond 65535', { firstPassivePort: 65533 }, 'bridge:firstPassivePort: the passive range 65533-65538 ends above port 65535; expected at most 65530'],
    ['control and implicit ports equal', { controlPort: 990 }, 'bridge:implicitTlsPort: is the same port as bridge:controlPort (990); they must differ'],
    ['control port out of range', { controlPort: 70000 }, 'bridge:controlPort: expected a whole number from 1 to 65535, got 70000'],
    ['implicit TLS without TLS', { tlsMode: 'off' }, 'bridge:implicitTlsPort: 990 needs TLS: set bridge:tlsMode to optional or required, or bridge:implicitTlsPort to 0'],
    ['unknown TLS mode', { tlsMode: 'strict' }, 'bridge:tlsMode: expected one of off, optional, required, got "strict"'],
    ['active mode without NAT', { activeMode: true }, 'bridge:activeMode: needs bridge:egress=nat: in active mode tasks open data connections to clients on the internet'],
    ['active mode not a boolean', { activeMode: 'maybe' }, 'bridge:activeMode: expected on or off (also true/false, 1/0, yes/no), got "maybe"'],
    ['unknown egress', { egress: 'internet' }, 'bridge:egress: expected one of endpoints, nat, got "internet"'],
    ['no client networks', { allowedCidrs: [] }, 'bridge:allowedCidrs: expected at least 1 item, got []'],
    ['a host address, not a network', { allowedCidrs: ['203.0.113.7/24'] }, 'bridge:allowedCidrs: expected an IPv4 network such as 203.0.113.0/24 (no host bits set), got "203.0.113.7/24"'],
    ['an IPv6 network', { allowedCidrs: ['2001:db8::/32'] }, 'bridge:allowedCidrs: expected an IPv4 network such as 203.0.113.0/24 (no host bits set), got "2001:db8::/32"'],
    ['a network twice', { allowedCidrs: '192.0.2.0/24,192.0.2.0/24' }, 'bridge:allowedCidrs: expected each network once, got "192.0.2.0/24" twice'],
    ['a list that is not one', { allowedCidrs: '[192.0.2.0/24' }, 'bridge:allowedCidrs: expected a list of strings (a JSON array, or comma-separated with -c), got "[192.0.2.0/24"'],
    ['too many client networks for one security group', { allowedCidrs: Array.from({ length: 21 }, (_, i) => `10.${i}.0.0/16`) },
      "bridge:allowedCidrs: 21 networks need 63 inbound rules on the load balancer's security group; the default quota is 60 (merge networks into larger CIDRs)"],
    ['idle timeout out of NLB limits', { idleTimeoutSeconds: 7200 }, 'bridge:idleTimeoutSeconds: expected a whole number from 60 to 6000 (NLB TCP listener limits), got 7200'],
    ['deregistration delay out of range', { deregistrationDelaySeconds: -1 }, 'bridge:deregistrationDelaySeconds: expected a whole number from 0 to 3600, got -1'],
    ['log retention CloudWatch refuses', { logRetentionDays: 10 },
      'bridge:logRetentionDays: expected a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653), got 10'],
    ['memory that does not fit the CPU', { taskCpu: 256, taskMemoryMiB: 4096 }, 'bridge:taskMemoryMiB: 4096 does not fit bridge:taskCpu 256; Fargate accepts 512, 1024, 2048 MiB with it'],
    ['memory between the steps', { taskCpu: 4096, taskMemoryMiB: 9000 }, 'bridge:taskMemoryMiB: 9000 does not fit bridge:taskCpu 4096; Fargate accepts 8192-30720 MiB in steps of 1024 with it'],
    ['CPU Fargate does not offer', { taskCpu: 768 }, 'bridge:taskCpu: expected one of 256, 512, 1024, 2048, 4096, 8192, 16384, got 768'],
    ['bad bucket name', { bucketName: 'Partner_Files' },
      "bridge:bucketName: expected an S3 bucket name (3-63 lowercase letters, digits, '.' and '-', a letter or digit at each end), got \"Partner_Files\""],
    ['prefix escaping upwards', { bucketPrefix: 'ftp/../other' },
      "bridge:bucketPrefix: expected a key prefix of folders of letters, digits and !-_.'() joined by '/' (no '.' or '..' folder, at most 512 bytes), got \"ftp/../other\""],
    ['prefix with an IAM wildcard', { bucketPrefix: 'ftp/*' },
      "bridge:bucketPrefix: expected a key prefix of folders of letters, digits and !-_.'() joined by '/' (no '.' or '..' folder, at most 512 bytes), got \"ftp/*\""],
    ['KMS key without an existing bucket', { bucketKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abcd' }, 'bridge:bucketKmsKeyArn: applies to an existing bucket only: set bridge:bucketName too'],
    ['partial secret ARN', { usersSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp-users' },
      'bridge:usersSecretArn: expected a complete Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>), got "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp-users"'],
    ['bad stack name', { stackName: '1st-bridge' }, 'bridge:stackName: expected a name of letters, digits and hyphens that starts with a letter (at most 128), got "1st-bridge"'],
    ['bad VPC id', { vpcId: 'my-vpc', vpcAvailabilityZones: ['eu-west-1a'], vpcPublicSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1'], vpcTaskSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1'] },
      'bridge:vpcId: expected a VPC id such as vpc-0123456789abcdef0, got "my-vpc"'],
    ['existing VPC without its task subnets', { ...EXISTING_VPC, vpcTaskSubnetIds: [] },
      'bridge:vpcTaskSubnetIds: is needed with bridge:vpcId: one private subnet (tasks) per zone of bridge:vpcAvailabilityZones, in the same order'],
    ['subnets without an existing VPC', { vpcTaskSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1'] }, 'bridge:vpcTaskSubnetIds: applies to an existing VPC only: set bridge:vpcId too'],
    ['existing VPC with a missing task subnet', { ...EXISTING_VPC, vpcTaskSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1'] },
      'bridge:vpcTaskSubnetIds: expected one subnet per zone of bridge:vpcAvailabilityZones (3), got 1'],
    ['zone name that is not one', { ...EXISTING_VPC, vpcAvailabilityZones: ['eu-west-1a', 'eu-west-1b', 'west'] },
      'bridge:vpcAvailabilityZones: expected an availability zone name such as eu-west-1a, got "west"'],
    ['NAT and load balancer addresses beyond the Elastic IP quota', { maxAzs: 3, egress: 'nat' },
      'bridge:maxAzs: 3 zones need 6 new Elastic IPs (3 for the load balancer + 3 for the NAT gateways of bridge:egress=nat); bridge:elasticIpQuota is 5 ' +
        '(the default quota per region, shared with everything else there): use fewer zones, existing addresses (bridge:elasticIpAllocationIds), bridge:egress=endpoints, or raise the quota and bridge:elasticIpQuota'],
    ['load balancer addresses beyond a lower quota', { ...EXISTING_VPC, elasticIpQuota: 2 },
      'bridge:vpcAvailabilityZones: 3 zones need 3 new Elastic IPs (3 for the load balancer); bridge:elasticIpQuota is 2 ' +
        '(the default quota per region, shared with everything else there): use fewer zones, existing addresses (bridge:elasticIpAllocationIds), or raise the quota and bridge:elasticIpQuota'],
    ['an existing address for one zone of two', { elasticIpAllocationIds: ['eipalloc-0123456789abcdef0'] },
      'bridge:elasticIpAllocationIds: expected one allocation ID per zone (2, from bridge:maxAzs), got 1'],
    ['an allocation ID that is not one', { elasticIpAllocationIds: '203.0.113.10,eipalloc-0123456789abcdef0' },
      'bridge:elasticIpAllocationIds: expected an Elastic IP allocation ID such as eipalloc-0123456789abcdef0, got "203.0.113.10"'],
    ['an alarm address and an alarm topic', { alarmEmail: 'ops@example.com', alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-paging' },
      'bridge:alarmEmail: is subscribed to the topic the stack creates; with bridge:alarmTopicArn, subscribe the address to that topic instead'],
    ['an alarm address that is not one', { alarmEmail: 'ops at example.com' }, 'bridge:alarmEmail: expected an e-mail address such as ops@example.com, got "ops at example.com"'],
    ['a shard-down window as short as a deploy', { alarmShardDownMinutes: 5 }, 'bridge:alarmShardDownMinutes: expected a whole number from 6 to 60, got 5'],
    ['a memory alarm above 100 %', { alarmMemoryPercent: 120 }, 'bridge:alarmMemoryPercent: expected a whole number from 1 to 100, got 120'],
    ['a secret key without an existing secret', { tlsSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abcd' },
      'bridge:tlsSecretKmsKeyArn: applies to an existing secret only: set bridge:tlsSecretArn too'],
    ['versioning an existing bucket', { bucketName: 'partner-files', bucketVersioning: true },
      'bridge:bucketVersioning: applies to a bucket the stack creates only: turn versioning on for partner-files yourself'],
    ['an upload budget that leaves the task no memory', { uploadBufferMiB: 900 },
      'bridge:uploadBufferMiB: 900 leaves the task less than 256 MiB of bridge:taskMemoryMiB 1024 for Node, sessions and downloads; expected at most 768'],
    ['an upload budget below one part', { uploadBufferMiB: 5 }, 'bridge:uploadBufferMiB: expected a whole number from 8 to 4194304, got 5'],
    ['more connections per address than in all', { maxConnections: 10 }, 'bridge:maxConnectionsPerAddress: 20 is more than bridge:maxConnections (10); expected at most that'],
    ['a task idle timeout the load balancer cuts first', { ftpIdleTimeoutSeconds: 4000 },
      "bridge:ftpIdleTimeoutSeconds: the task's idle timeout (4000 s) must be shorter than the load balancer's bridge:idleTimeoutSeconds (3600 s), or the load balancer drops quiet sessions without the 421 the task sends"],
    ['a load balancer idle timeout below the task\'s default', { idleTimeoutSeconds: 600 },
      "bridge:idleTimeoutSeconds: the task's idle timeout (900 s) must be shorter than the load balancer's bridge:idleTimeoutSeconds (600 s), or the load balancer drops quiet sessions without the 421 the task sends"],
    ['a hosted zone without its domain', { hostedZoneId: 'Z0123456789ABCDEFGHIJ' }, "bridge:hostedZoneName: is needed with bridge:hostedZoneId: the zone's domain"],
    ['a name outside the hosted zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', hostedZoneName: 'example.com', dnsName: 'ftp.example.org' },
      'bridge:dnsName: ftp.example.org is not in the hosted zone example.com'],
    ['a name with a trailing dot', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', hostedZoneName: 'example.com', dnsName: 'ftp.example.com.' },
      'bridge:dnsName: expected a lowercase domain name such as ftp.example.com (no trailing dot), got "ftp.example.com."'],
    ['bad log level', { logLevel: 'verbose' }, 'bridge:logLevel: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
  ];
  test('an existing VPC alone is told all three settings it needs', () => {
    assert.deepEqual(problemsOf({ vpcId: 'vpc-0a1b2c3d4e5f60718' }), [
      'bridge:vpcAvailabilityZones: is needed with bridge:vpcId: the zones to use, e.g. eu-west-1a,eu-west-1b',
      'bridge:vpcPublicSubnetIds: is needed with bridge:vpcId: one public subnet (load balancer) per zone of bridge:vpcAvailabilityZones, in the same order',
      'bridge:vpcTaskSubnetIds: is needed with bridge:vpcId: one private subnet (tasks) per zone of bridge:vpcAvailabilityZones, in the same order',
    ]);
  });

  for (const [name, values, problem] of invalid) {
    test(`refuses: ${name}`, () => {
      assert.deepEqual(problemsOf(values), [problem]);
    });
  }

  test('several problems of every kind are reported together, each naming its key', () => {
    const problems = problemsOf({
      shardCount: 'two', // not a number
      logRetentionDays: 2, // not a value CloudWatch takes
      shardcont: 3, // unknown key
      tlsMode: 'off', // clashes with the implicit TLS port (a rule between settings)
      vpcTaskSubnetIds: 'subnet-0bbbbbbbbbbbbbbb1', // without an existing VPC
      taskCpu: 256, // with the memory below, not a Fargate size
      taskMemoryMiB: 4096,
    });
    assert.deepEqual(
      problems.map((problem) => /^bridge:\w+/.exec(problem)?.[0]),
      ['bridge:shardCount', 'bridge:logRetentionDays', 'bridge:shardcont', 'bridge:implicitTlsPort', 'bridge:vpcTaskSubnetIds', 'bridge:taskMemoryMiB'],
      problems.join('\n'),
    );
  });

  test('a rule between settings waits for the settings it reads to be valid', () => {
    // The passive range cannot be placed while the shard count is unknown: one problem, not a second about the range.
    assert.deepEqual(problemsOf({ shardCount: 'many', controlPort: 30001 }), ['bridge:shardCount: expected a whole number from 1 to 50, got "many"']);
  });

  test('settings built in code are checked by the same rules', async () => {
    const { settingsWith } = await import('./stack-fixture.ts');
    assert.throws(() => settingsWith({ controlPort: 990 }), /bridge:implicitTlsPort: is the same port as bridge:controlPort \(990\)/);
    assert.equal(settingsWith({ bucketPrefix: '/ftp/in/' }).bucketPrefix, 'ftp/in');
  });
});

describe('the CDK app', () => {
  test('five bad settings stop synth with all five listed, the message alone, no stack trace', () => {
    const result = runApp(
      withPrefix({ shardCount: 'two', tlsMode: 'off', bucketName: 'Partner_Files', shardcont: 3, vpcTaskSubnetIds: 'subnet-0bbbbbbbbbbbbbbb1' }),
    );
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /^Invalid ftp-s3-bridge settings:\n/);
    const problems = result.stderr.trim().split('\n').slice(1);
    assert.deepEqual(
      problems.map((line) => /^ {2}- (bridge:\w+)/.exec(line)?.[1]),
      ['bridge:shardCount', 'bridge:bucketName', 'bridge:shardcont', 'bridge:implicitTlsPort', 'bridge:vpcTaskSubnetIds'],
      result.stderr,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});
