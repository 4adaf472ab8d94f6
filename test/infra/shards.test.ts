import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AssetManifestArtifact } from 'aws-cdk-lib/cx-api';
import { SHUTDOWN_GRACE_SECONDS, STOP_TIMEOUT } from '../../lib/ftp-shard-service.ts';
import { CONTAINER_PORTS } from '../../lib/deployment-ports.ts';
import { loadConfig } from '../../runtime/src/config.ts';
import { SHUTDOWN_ABORT_WAIT_MS } from '../../runtime/src/protocol/ftp-server.ts';
import type { BridgeSettings } from '../../lib/settings.ts';
import { RUNTIME_DEFAULTS } from '../../lib/settings-schema.ts';
import { EXISTING_VPC, getAttOf, refOf, resourcesOfType, synthesize } from './stack-fixture.ts';
import type { Synthesized } from './stack-fixture.ts';

interface ServiceView {
  readonly id: string;
  readonly targetGroups: { group: string; containerPort: number }[];
  readonly subnets: unknown[];
  readonly environment: Record<string, unknown>;
  readonly container: Record<string, unknown>;
  readonly task: Record<string, unknown>;
  readonly properties: Record<string, unknown>;
  readonly dependsOn: string[];
}

function services({ template }: Synthesized): ServiceView[] {
  const tasks = resourcesOfType(template, 'AWS::ECS::TaskDefinition');
  return Object.entries(resourcesOfType(template, 'AWS::ECS::Service')).map(([id, service]) => {
    const properties = service.Properties!;
    const task = tasks[refOf(properties['TaskDefinition'])!]!.Properties!;
    const container = (task['ContainerDefinitions'] as Record<string, unknown>[])[0]!;
    const environment = Object.fromEntries((container['Environment'] as { Name: string; Value: unknown }[]).map((v) => [v.Name, v.Value]));
    const network = properties['NetworkConfiguration'] as { AwsvpcConfiguration: { Subnets: unknown[]; AssignPublicIp: string } };
    return {
      id,
      targetGroups: (properties['LoadBalancers'] as { TargetGroupArn: unknown; ContainerPort: number }[]).map((lb) => ({
        group: refOf(lb.TargetGroupArn)!,
        containerPort: lb.ContainerPort,
      })),
      subnets: network.AwsvpcConfiguration.Subnets,
      environment,
      container,
      task,
      properties,
      dependsOn: ([] as string[]).concat(service.DependsOn ?? []),
    };
  });
}

function passivePortsOf(view: ServiceView): number[] {
  const [first, last] = String(view.environment['FTP_PASSIVE_PORTS']).split('-').map(Number) as [number, number];
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

describe('shards', () => {
  // Settings to check the shard topology against.
  const cases: [string, Partial<BridgeSettings>][] = [
    ['defaults', {}],
    ['five shards over three zones of an existing VPC', { ...EXISTING_VPC, shardCount: 5, passivePortsPerShard: 2 }],
    ['implicit FTPS off, four passive ports each', { implicitTlsPort: 0, passivePortsPerShard: 4, shardCount: 3 }],
  ];
  for (const [name, overrides] of cases) {
    test(`one service per shard, each alone in its passive ports' target groups: ${name}`, () => {
      const synthesized = synthesize(overrides);
      const { settings, template } = synthesized;
      const groups = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup');
      const listenerPortOf = new Map(
        Object.values(resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::Listener')).map((listener) => [
          refOf((listener.Properties!['DefaultActions'] as { TargetGroupArn: unknown }[])[0]!.TargetGroupArn)!,
          listener.Properties!['Port'] as number,
        ]),
      );
      const views = services(synthesized);
      assert.equal(views.length, settings.shardCount);

      const membersOf = new Map<string, string[]>();
      for (const view of views) {
        assert.ok(view.targetGroups.length <= 5, `${view.id} has ${view.targetGroups.length} target groups`);
        for (const { group } of view.targetGroups) membersOf.set(group, [...(membersOf.get(group) ?? []), view.id]);
      }
      for (const group of Object.keys(groups)) {
        const port = listenerPortOf.get(group)!;
        const members = membersOf.get(group) ?? [];
        if (port === settings.controlPort || port === settings.implicitTlsPort) {
          assert.equal(members.length, settings.shardCount, `shared group of port ${port} holds every shard`);
        } else {
          assert.equal(members.length, 1, `passive port ${port} must hold exactly one shard, holds ${members.length}`);
          const owner = views.find((view) => view.id === members[0])!;
          assert.ok(passivePortsOf(owner).includes(port), `${owner.id} is registered for ${port} but does not offer it`);
          assert.ok(owner.targetGroups.some((registration) => registration.group === group && registration.containerPort === port));
        }
      }
      // The slices tile the passive range without overlap.
      const offered = views.flatMap(passivePortsOf).sort((a, b) => a - b);
      assert.deepEqual(offered, Array.from({ length: settings.shardCount * settings.passivePortsPerShard }, (_, i) => settings.firstPassivePort + i));
    });
  }

  test('each shard runs in one subnet and advertises the Elastic IP of that subnet\'s zone; shards go round-robin over zones', () => {
    const synthesized = synthesize({ ...EXISTING_VPC, shardCount: 5 });
    const nlb = Object.values(resourcesOfType(synthesized.template, 'AWS::ElasticLoadBalancingV2::LoadBalancer'))[0]!;
    const eipOfPublicSubnet = new Map(
      (nlb.Properties!['SubnetMappings'] as { SubnetId: string; AllocationId: unknown }[]).map((mapping) => [mapping.SubnetId, getAttOf(mapping.AllocationId)!.split('.')[0]]),
    );
    const zoneOfTaskSubnet = new Map(EXISTING_VPC.vpcTaskSubnetIds!.map((id, index) => [id, index]));
    const views = services(synthesized).sort((a, b) => passivePortsOf(a)[0]! - passivePortsOf(b)[0]!);
    views.forEach((view, index) => {
      assert.equal(view.subnets.length, 1, `${view.id} is pinned to one subnet`);
      const zone = zoneOfTaskSubnet.get(view.subnets[0] as string)!;
      assert.equal(zone, index % 3, 'round-robin over the zones');
      const expectedEip = eipOfPublicSubnet.get(EXISTING_VPC.vpcPublicSubnetIds![zone]!);
      assert.equal(getAttOf(view.environment['FTP_PASSIVE_ADDRESS']), `${expectedEip}.PublicIp`);
    });
  });

  test('services: one task, stop-first replacement, no public IP, circuit breaker, rolled one after the other', () => {
    const views = services(synthesize({ shardCount: 3 })).sort((a, b) => passivePortsOf(a)[0]! - passivePortsOf(b)[0]!);
    for (const view of views) {
      assert.equal(view.properties['DesiredCount'], 1);
      assert.equal(view.properties['LaunchType'], 'FARGATE');
      assert.deepEqual(view.properties['DeploymentConfiguration'], {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MaximumPercent: 100,
        MinimumHealthyPercent: 0,
      });
      assert.equal((view.properties['NetworkConfiguration'] as { AwsvpcConfiguration: { AssignPublicIp: string } }).AwsvpcConfiguration.AssignPublicIp, 'DISABLED');
    }
    assert.ok(!views[0]!.dependsOn.some((id) => views.some((view) => view.id === id)), 'the first shard waits for no other');
    for (let i = 1; i < views.length; i++) assert.ok(views[i]!.dependsOn.includes(views[i - 1]!.id), `${views[i]!.id} deploys after ${views[i - 1]!.id}`);
  });

  test('container: non-root, read-only root file system, 120 s stop timeout, awslogs with retention, ports and environment', () => {
    const synthesized = synthesize({ bucketPrefix: 'ftp', taskCpu: 1024, taskMemoryMiB: 2048, logLevel: 'debug' });
    const { template, settings } = synthesized;
    const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    for (const view of services(synthesized)) {
      const { container, environment, task } = view;
      assert.equal(task['Cpu'], '1024');
      assert.equal(task['Memory'], '2048');
      assert.deepEqual(task['RuntimePlatform'], { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' });
      assert.equal(container['User'], 'node');
      assert.equal(container['ReadonlyRootFilesystem'], true);
      assert.equal(container['StopTimeout'], 120);
      assert.equal(container['Essential'], true);
      const logging = container['LogConfiguration'] as { LogDriver: string; Options: Record<string, unknown> };
      assert.equal(logging.LogDriver, 'awslogs');
      const group = logGroups[refOf(logging.Options['awslogs-group'])!]!;
      assert.equal(group.Properties!['RetentionInDays'], settings.logRetentionDays);
      assert.equal(group.DeletionPolicy, 'Retain');
      const ports = (container['PortMappings'] as { ContainerPort: number; Protocol: string }[]).map((mapping) => mapping.ContainerPort);
      assert.deepEqual(ports, [CONTAINER_PORTS.control, CONTAINER_PORTS.implicitTls, CONTAINER_PORTS.health, ...passivePortsOf(view)]);

      assert.deepEqual(Object.keys(environment).sort(), [
        'FTPS_IMPLICIT_PORT', 'FTP_ACTIVE_MODE', 'FTP_METRICS_NAMESPACE', 'FTP_METRICS_SHARD', 'FTP_PASSIVE_ADDRESS', 'FTP_PASSIVE_PORTS',
        'FTP_PORT', 'FTP_SHUTDOWN_GRACE_SECONDS', 'FTP_TLS_MODE', 'FTP_TLS_SECRET_ID', 'FTP_UPLOAD_BUFFER_MIB', 'FTP_UPLOAD_EVENTS_BUS',
        'FTP_USERS_SECRET_ID', 'HEALTH_PORT', 'LOG_LEVEL', 'S3_BUCKET', 'S3_PREFIX',
      ]);
      assert.equal(environment['FTP_PORT'], '2121');
      assert.equal(environment['FTPS_IMPLICIT_PORT'], '2990');
      assert.equal(environment['HEALTH_PORT'], '8080');
      assert.equal(environment['FTP_ACTIVE_MODE'], 'off');
      assert.equal(environment['FTP_TLS_MODE'], 'required');
      assert.equal(environment['FTP_SHUTDOWN_GRACE_SECONDS'], '105');
      // After the grace the runtime waits for cut-off uploads to be aborted: all before SIGKILL.
      assert.ok(SHUTDOWN_GRACE_SECONDS + SHUTDOWN_ABORT_WAIT_MS / 1000 < STOP_TIMEOUT.toSeconds());
      assert.equal(environment['FTP_UPLOAD_BUFFER_MIB'], '1024', 'half of the 2048 MiB task');
      assert.equal(environment['LOG_LEVEL'], 'debug');
      assert.equal(environment['S3_PREFIX'], 'ftp');
      assert.match(String(refOf(environment['S3_BUCKET'])), /^StorageBucket/);
      assert.match(String(refOf(environment['FTP_USERS_SECRET_ID'])), /^SecretsUsers/);
      assert.match(String(refOf(environment['FTP_TLS_SECRET_ID'])), /^SecretsTls/);
      assert.match(String(environment['FTP_PASSIVE_PORTS']), /^\d+-\d+$/);
    }
  });

  test('the upload buffer budget follows the task memory: half of it', () => {
    for (const [taskCpu, taskMemoryMiB, budget] of [[512, 1024, '512'], [1024, 3072, '1536'], [4096, 30720, '15360']] as const) {
      for (const view of services(synthesize({ taskCpu, taskMemoryMiB }))) {
        assert.equal(view.environment['FTP_UPLOAD_BUFFER_MIB'], budget, `${taskMemoryMiB} MiB task`);
      }
    }
  });

  test('runtime limits set as settings reach every container, and the runtime reads them as meant; unset ones leave its defaults', () => {
    const limits: Partial<BridgeSettings> = {
      maxConnections: 200,
      maxConnectionsPerAddress: 5,
      ftpIdleTimeoutSeconds: 300,
      ftpLoginTimeoutSeconds: 20,
      ftpDataTimeoutSeconds: 15,
      uploadBufferMiB: 700,
    };
    const stand = { S3_BUCKET: 'partner-files', FTP_USERS_SECRET_ID: 'users', FTP_TLS_SECRET_ID: 'tls', FTP_PASSIVE_ADDRESS: '203.0.113.10' };
    for (const view of services(synthesize(limits))) {
      const env = { ...Object.fromEntries(Object.entries(view.environment).filter(([, value]) => typeof value === 'string')), ...stand } as Record<string, string>;
      const config = loadConfig(env);
      assert.deepEqual(
        [config.maxConnections, config.maxConnectionsPerAddress, config.idleTimeoutMs, config.loginTimeoutMs, config.dataConnectionTimeoutMs, config.uploadBuffer.bytes],
        [200, 5, 300_000, 20_000, 15_000, 700 * 1024 * 1024],
      );
    }
    const defaults = loadConfig({ S3_BUCKET: 'partner-files', FTP_USERS_FILE: '/u.json' });
    for (const view of services(synthesize())) {
      for (const name of ['FTP_MAX_CONNECTIONS', 'FTP_MAX_CONNECTIONS_PER_ADDRESS', 'FTP_IDLE_TIMEOUT_SECONDS', 'FTP_LOGIN_TIMEOUT_SECONDS', 'FTP_DATA_TIMEOUT_SECONDS']) {
        assert.equal(view.environment[name], undefined, name);
      }
    }
    // The settings table names the runtime's own defaults for the limits it leaves unset.
    assert.deepEqual(
      [defaults.maxConnections, defaults.maxConnectionsPerAddress, defaults.idleTimeoutMs / 1000, defaults.loginTimeoutMs / 1000, defaults.dataConnectionTimeoutMs / 1000],
      [RUNTIME_DEFAULTS.maxConnections, RUNTIME_DEFAULTS.maxConnectionsPerAddress, RUNTIME_DEFAULTS.ftpIdleTimeoutSeconds, RUNTIME_DEFAULTS.ftpLoginTimeoutSeconds, RUNTIME_DEFAULTS.ftpDataTimeoutSeconds],
    );
  });

  test('implicit FTPS off and TLS off: port 0, no implicit mapping, no TLS secret', () => {
    for (const view of services(synthesize({ implicitTlsPort: 0, tlsMode: 'off', activeMode: true, egress: 'nat' }))) {
      assert.equal(view.environment['FTPS_IMPLICIT_PORT'], '0');
      assert.equal(view.environment['FTP_TLS_MODE'], 'off');
      assert.equal(view.environment['FTP_ACTIVE_MODE'], 'on');
      assert.equal(view.environment['FTP_TLS_SECRET_ID'], undefined);
      assert.equal(view.environment['S3_PREFIX'], undefined);
      const ports = (view.container['PortMappings'] as { ContainerPort: number }[]).map((mapping) => mapping.ContainerPort);
      assert.ok(!ports.includes(CONTAINER_PORTS.implicitTls));
    }
  });

  test("every shard's synthesized environment is one the runtime's own loadConfig accepts, meaning what the settings say", () => {
    // What CloudFormation resolves at deploy time, stood in for by values of the same form.
    const STAND_INS: Record<string, string> = {
      S3_BUCKET: 'partner-files',
      FTP_USERS_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp-users-AbCdEf',
      FTP_TLS_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp-tls-AbCdEf',
      FTP_PASSIVE_ADDRESS: '203.0.113.10',
    };
    const cases: Partial<BridgeSettings>[] = [
      { bucketPrefix: 'ftp', taskCpu: 1024, taskMemoryMiB: 2048, logLevel: 'debug' },
      { implicitTlsPort: 0, tlsMode: 'off', activeMode: true, egress: 'nat' },
      { tlsMode: 'optional', shardCount: 3, passivePortsPerShard: 2 },
    ];
    for (const overrides of cases) {
      const synthesized = synthesize(overrides);
      const { settings } = synthesized;
      for (const view of services(synthesized)) {
        const env = Object.fromEntries(
          Object.entries(view.environment).map(([name, value]) => {
            if (typeof value === 'string') return [name, value];
            assert.ok(name in STAND_INS, `${name} is resolved at deploy time but has no stand-in here`);
            return [name, STAND_INS[name]!];
          }),
        );
        const config = loadConfig(env);
        assert.equal(config.controlPort, CONTAINER_PORTS.control);
        assert.equal(config.implicitTlsPort, settings.implicitTlsPort === 0 ? 0 : CONTAINER_PORTS.implicitTls);
        assert.equal(config.healthPort, CONTAINER_PORTS.health);
        assert.deepEqual(passivePortsOf(view), Array.from({ length: config.passivePorts.last - config.passivePorts.first + 1 }, (_, i) => config.passivePorts.first + i));
        assert.equal(config.passivePorts.last - config.passivePorts.first + 1, settings.passivePortsPerShard);
        assert.equal(config.passiveAddress, STAND_INS['FTP_PASSIVE_ADDRESS']);
        assert.equal(config.tlsMode, settings.tlsMode);
        assert.equal(config.activeMode, settings.activeMode);
        assert.equal(config.logLevel, settings.logLevel);
        assert.equal(config.s3.bucket, STAND_INS['S3_BUCKET']);
        assert.equal(config.s3.prefix, settings.bucketPrefix);
        assert.deepEqual(config.users, { kind: 'secret', secretId: STAND_INS['FTP_USERS_SECRET_ID'] });
        assert.deepEqual(config.tlsCredentials, settings.tlsMode === 'off' ? undefined : { kind: 'secret', secretId: STAND_INS['FTP_TLS_SECRET_ID'] });
        assert.equal(config.shutdownGraceMs, SHUTDOWN_GRACE_SECONDS * 1000);
        assert.deepEqual(config.uploadBuffer, { bytes: (settings.taskMemoryMiB / 2) * 1024 * 1024, source: 'FTP_UPLOAD_BUFFER_MIB' });
      }
    }
  });

  test('the image is built once from runtime/Dockerfile with the repository root as context (kept small by .dockerignore), for linux/amd64', () => {
    const { app } = synthesize();
    const assembly = app.synth();
    const manifest = assembly.artifacts.find((artifact) => artifact instanceof AssetManifestArtifact) as AssetManifestArtifact;
    const images = Object.values(manifest.contents.dockerImages ?? {});
    assert.equal(images.length, 1, 'one image for every shard');
    const source = images[0]!.source;
    assert.equal(source.dockerFile, 'runtime/Dockerfile');
    assert.equal(source.platform, 'linux/amd64');
    const context = readdirSync(join(assembly.directory, source.directory!));
    assert.ok(context.includes('package.json') && context.includes('package-lock.json'), context.join(', '));
    for (const excluded of ['node_modules', 'lib', 'bin', 'test', 'cdk.json']) assert.ok(!context.includes(excluded), `${excluded} is in the build context`);
  });
});
