import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { DeploymentEnvironment } from '../runtime/src/container-environment.ts';
import { BridgeBucket, incompleteUploadDays } from './bridge-bucket.ts';
import { BridgeLogQueries } from './bridge-log-queries.ts';
import { BridgeMonitoring, metricsNamespace } from './bridge-monitoring.ts';
import { BridgeNetwork } from './bridge-network.ts';
import { BridgeSecrets } from './bridge-secrets.ts';
import { BridgeSecurityGroups } from './bridge-security-groups.ts';
import { BridgeStateTable } from './bridge-state-table.ts';
import { BridgeTaskRole } from './bridge-task-role.ts';
import { firewallRules } from './firewall-rules.ts';
import { FtpLoadBalancer } from './ftp-load-balancer.ts';
import { FtpShardService } from './ftp-shard-service.ts';
import { addNagSuppressions } from './nag-suppressions.ts';
import { ObjectCreatedQueue } from './object-created-queue.ts';
import { S3PrefixList } from './s3-prefix-list.ts';
import { portPlan } from './deployment-ports.ts';
import { UsersTable } from './users-table.ts';
import { validateSettings } from './settings.ts';
import type { BridgeSettings, SettingName } from './settings.ts';
import { planShards } from './shard-plan.ts';

/** The repository root: the runtime image's build context. */
const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface FtpS3BridgeProps {
  /**
   * The deployment's settings, as docs/deploy.md "Settings" lists them (lib/settings-schema.ts),
   * checked in the constructor against each other and the AWS limits; every problem is
   * reported at once (SettingsError).
   * @default - every setting at its default
   */
  readonly settings?: Partial<BridgeSettings>;
  /**
   * A VPC of yours, used as it is: each zone with a public subnet (load balancer) and a
   * private or isolated one (tasks) that reaches ECR, CloudWatch Logs, Secrets Manager and
   * S3. Not together with `settings.vpcId`.
   * @default - a new VPC, or the one `settings.vpcId` describes
   */
  readonly vpc?: ec2.IVpc;
  /**
   * A bucket of yours to serve; enable its EventBridge notifications for the object-created
   * queue. Not together with `settings.bucketName`.
   * @default - a new bucket, or the one `settings.bucketName` names
   */
  readonly bucket?: s3.IBucket;
  /**
   * The customer managed key of `bucket`.
   * @default - none
   */
  readonly bucketKmsKey?: kms.IKey;
  /**
   * An ECS cluster of yours, in `vpc`; enable Container Insights on it, which the
   * shard-down alarms read.
   * @default - a new cluster with Container Insights
   */
  readonly cluster?: ecs.ICluster;
  /**
   * An SNS topic of yours the alarms notify. Not together with `settings.alarmTopicArn` or `settings.alarmEmail`.
   * @default - a new topic, or the one `settings.alarmTopicArn` names
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The runtime image.
   * @default - built from runtime/Dockerfile with the repository root as context
   */
  readonly image?: ecs.ContainerImage;
}

/**
 * The FTP/FTPS bridge on AWS: network, load balancer, shards, storage, secrets, events,
 * alarms and saved queries, as constructs teams can embed in their own stacks. Pass in a
 * VPC, bucket, cluster or alarm topic of yours, or let it create them.
 */
export class FtpS3Bridge extends Construct {
  /** The validated settings, every default filled in. */
  readonly settings: BridgeSettings;
  readonly network: BridgeNetwork;
  readonly s3PrefixList: S3PrefixList;
  /** DynamoDB's prefix list: the tasks reach the shared-state table through its gateway endpoint. */
  readonly dynamodbPrefixList: S3PrefixList;
  readonly securityGroups: BridgeSecurityGroups;
  readonly ftpLoadBalancer: FtpLoadBalancer;
  readonly storage: BridgeBucket;
  readonly objectCreated: ObjectCreatedQueue;
  readonly secrets: BridgeSecrets;
  /** The state every shard shares: partner limits across shards, lockouts across deploys. */
  readonly state: BridgeStateTable;
  readonly taskRole: BridgeTaskRole;
  /** The partners table, when the setting usersStore is `table`. */
  readonly usersTable: UsersTable | undefined;
  readonly cluster: ecs.ICluster;
  readonly logGroup: logs.LogGroup;
  readonly executionRole: iam.Role;
  /** One per shard, in shard order; each deploys after the previous one. */
  readonly shards: readonly FtpShardService[];
  readonly monitoring: BridgeMonitoring;
  readonly logQueries: BridgeLogQueries;
  /**
   * Every address partners must allow (tokens): the load balancer's Elastic IPs, and in
   * active mode the NAT addresses data connections come from.
   */
  readonly partnerAddresses: readonly string[];
  /** The alias record partners connect to (settings.hostedZoneId), if any. */
  readonly dnsRecord: route53.ARecord | undefined;

  constructor(scope: Construct, id: string, props: FtpS3BridgeProps = {}) {
    super(scope, id);
    const settings = validateSettings(props.settings ?? {});
    checkPassedIn(props, settings);
    this.settings = settings;
    const ports = portPlan(settings);
    const tlsEnabled = settings.tlsMode !== 'off';

    this.network = new BridgeNetwork(this, 'Network', {
      vpc: props.vpc,
      existingVpc:
        settings.vpcId === undefined
          ? undefined
          : {
              vpcId: settings.vpcId,
              availabilityZones: settings.vpcAvailabilityZones,
              publicSubnetIds: settings.vpcPublicSubnetIds,
              taskSubnetIds: settings.vpcTaskSubnetIds,
            },
      maxAzs: settings.maxAzs,
      egress: settings.egress,
      retainNatAddresses: settings.activeMode,
    });
    const vpc = this.network.vpc;
    this.s3PrefixList = new S3PrefixList(this, 'S3PrefixList');
    this.dynamodbPrefixList = new S3PrefixList(this, 'DynamoDbPrefixList', { service: 'dynamodb' });
    this.securityGroups = new BridgeSecurityGroups(this, 'SecurityGroups', {
      vpc,
      // A VPC passed in is one the stack adds no endpoints to: its tasks reach AWS as with an existing VPC.
      rules: firewallRules(this.network.usesInterfaceEndpoints ? settings : { ...settings, egress: 'nat' }),
      allowedCidrs: settings.allowedCidrs,
      s3PrefixListId: this.s3PrefixList.prefixListId,
      dynamodbPrefixListId: this.dynamodbPrefixList.prefixListId,
      interfaceEndpoints: this.network.interfaceEndpointsSecurityGroup,
    });

    const shardPlans = planShards(settings, this.network.zones.length);
    this.ftpLoadBalancer = new FtpLoadBalancer(this, 'LoadBalancer', {
      vpc,
      zones: this.network.zones,
      securityGroup: this.securityGroups.loadBalancer,
      controlPort: ports.controlPort,
      implicitTlsPort: ports.implicitTlsPort,
      passivePorts: shardPlans.flatMap((shard) => shard.passivePorts),
      existingAllocationIds: settings.elasticIpAllocationIds.length > 0 ? settings.elasticIpAllocationIds : undefined,
      idleTimeout: Duration.seconds(settings.idleTimeoutSeconds),
      deregistrationDelay: Duration.seconds(settings.deregistrationDelaySeconds),
    });

    this.storage = new BridgeBucket(this, 'Storage', {
      bucket: props.bucket,
      kmsKey: props.bucketKmsKey,
      existingBucketName: settings.bucketName,
      existingKmsKeyArn: settings.bucketKmsKeyArn,
      versioned: settings.bucketVersioning,
      incompleteUploadDays: incompleteUploadDays(settings.pendingUploadHours),
      noncurrentVersionExpiration:
        settings.bucketVersioning && settings.bucketNoncurrentVersionDays > 0 ? Duration.days(settings.bucketNoncurrentVersionDays) : undefined,
    });
    this.objectCreated = new ObjectCreatedQueue(this, 'ObjectCreated', { bucket: this.storage.bucket, keyPrefix: settings.bucketPrefix });
    this.secrets = new BridgeSecrets(this, 'Secrets', {
      usersSecretArn: settings.usersSecretArn,
      usersSecretKmsKeyArn: settings.usersSecretKmsKeyArn,
      tlsSecretArn: settings.tlsSecretArn,
      tlsSecretKmsKeyArn: settings.tlsSecretKmsKeyArn,
      tlsEnabled,
    });
    this.usersTable = settings.usersStore === 'table' ? new UsersTable(this, 'Users') : undefined;
    // Upload events go to the account's default bus, where the object-created queue's rule listens.
    const eventBus = events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    this.state = new BridgeStateTable(this, 'State');
    this.taskRole = new BridgeTaskRole(this, 'TaskRole', {
      eventBus,
      stateTable: this.state.table,
      bucket: this.storage.bucket,
      keyPrefix: settings.bucketPrefix,
      kmsKey: this.storage.kmsKey,
      // With a users table the users secret is only what `users import` may start from: the task does not read it.
      secrets: [...(this.usersTable === undefined ? [this.secrets.usersSecret] : []), ...(this.secrets.tlsSecret === undefined ? [] : [this.secrets.tlsSecret])],
      secretKeys: this.secrets.encryptionKeys,
      usersTable: this.usersTable?.table,
    });

    this.cluster = props.cluster ?? new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
      // Transfer and login events are the audit trail.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      description: 'FTP bridge task execution: pull the image, write logs',
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });
    const image =
      props.image ??
      ecs.ContainerImage.fromDockerImageAsset(
        new ecrAssets.DockerImageAsset(this, 'Image', {
          directory: REPOSITORY_ROOT,
          file: 'runtime/Dockerfile',
          platform: ecrAssets.Platform.LINUX_AMD64,
        }),
      );

    const deployment: DeploymentEnvironment = {
      bucket: this.storage.bucket.bucketName,
      bucketPrefix: settings.bucketPrefix,
      activeMode: settings.activeMode,
      tlsMode: settings.tlsMode,
      usersSecretId: this.secrets.usersSecret.secretArn,
      usersTableName: this.usersTable?.table.tableName,
      tlsSecretId: this.secrets.tlsSecret?.secretArn,
      logLevel: settings.logLevel,
      metricsNamespace: metricsNamespace(this),
      uploadEventsBus: eventBus.eventBusName,
      limits: {
        maxConnections: settings.maxConnections,
        maxConnectionsPerAddress: settings.maxConnectionsPerAddress,
        idleTimeoutSeconds: settings.ftpIdleTimeoutSeconds,
        loginTimeoutSeconds: settings.ftpLoginTimeoutSeconds,
        dataTimeoutSeconds: settings.ftpDataTimeoutSeconds,
      },
      stateTable: this.state.table.tableName,
      pendingUploadHours: settings.pendingUploadHours,
    };
    const lb = this.ftpLoadBalancer;
    const shards: FtpShardService[] = [];
    for (const plan of shardPlans) {
      const zone = this.network.zones[plan.zoneIndex]!;
      const shard = new FtpShardService(this, `Shard${plan.index + 1}`, {
        cluster: this.cluster,
        shardIndex: plan.index,
        subnet: zone.taskSubnet,
        securityGroup: this.securityGroups.task,
        image,
        logGroup: this.logGroup,
        taskRole: this.taskRole.role,
        executionRole: this.executionRole,
        passivePorts: plan.passivePorts,
        passiveAddress: lb.addresses[plan.zoneIndex]!.publicIp,
        controlTargetGroup: lb.controlTargetGroup,
        implicitTlsTargetGroup: lb.implicitTlsTargetGroup,
        passiveTargetGroups: plan.passivePorts.map((port) => lb.passiveTargetGroups.get(port)!),
        deployment,
        cpu: settings.taskCpu,
        memoryLimitMiB: settings.taskMemoryMiB,
        uploadBufferMiB: settings.uploadBufferMiB,
      });
      // Roll shard by shard: CloudFormation updates a service only after the previous one is stable.
      const previous = shards[shards.length - 1];
      if (previous !== undefined) shard.service.node.addDependency(previous.service);
      shards.push(shard);
    }
    this.shards = shards;

    const targetGroups = new Map<string, elbv2.NetworkTargetGroup>([['Control', lb.controlTargetGroup]]);
    if (lb.implicitTlsTargetGroup !== undefined) targetGroups.set('ImplicitTls', lb.implicitTlsTargetGroup);
    for (const [port, group] of lb.passiveTargetGroups) targetGroups.set(`Passive${port}`, group);
    this.monitoring = new BridgeMonitoring(this, 'Monitoring', {
      logGroup: this.logGroup,
      cluster: this.cluster,
      services: shards.map((shard) => shard.service),
      loadBalancer: lb.loadBalancer,
      targetGroups,
      deadLetterQueue: this.objectCreated.deadLetterQueue,
      alarmTopic: props.alarmTopic ?? (settings.alarmTopicArn === undefined ? undefined : sns.Topic.fromTopicArn(this, 'AlarmTopic', settings.alarmTopicArn)),
      alarmEmail: settings.alarmEmail,
      tlsEnabled,
      thresholds: {
        failedTransfers: settings.alarmFailedTransfers,
        failedLogins: settings.alarmFailedLogins,
        shardDownMinutes: settings.alarmShardDownMinutes,
        deadLetterMessages: settings.alarmDeadLetterMessages,
        memoryPercent: settings.alarmMemoryPercent,
        taskStops: settings.alarmTaskStops,
        certificateDays: settings.alarmCertificateDays,
      },
    });

    const natAddresses = settings.activeMode ? this.network.natAddresses : [];
    this.partnerAddresses = [...this.ftpLoadBalancer.addresses.map((address) => address.publicIp), ...natAddresses.map((address) => address.attrPublicIp)];

    this.logQueries = new BridgeLogQueries(this, 'LogQueries', { logGroup: this.logGroup });

    if (settings.hostedZoneId !== undefined && settings.hostedZoneName !== undefined) {
      const zone = route53.PublicHostedZone.fromHostedZoneAttributes(this, 'HostedZone', {
        hostedZoneId: settings.hostedZoneId,
        zoneName: settings.hostedZoneName,
      });
      this.dnsRecord = new route53.ARecord(this, 'DnsName', {
        zone,
        recordName: `${settings.dnsName ?? `ftp.${settings.hostedZoneName}`}.`,
        target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(this.ftpLoadBalancer.loadBalancer)),
        comment: 'FTP bridge: the name partners connect to',
      });
    } else {
      this.dnsRecord = undefined;
    }

    addNagSuppressions(this);
  }
}

/** What is passed in must not also be described by settings, and must fit together. */
function checkPassedIn(props: FtpS3BridgeProps, settings: BridgeSettings): void {
  const problems: string[] = [];
  const setting = (name: SettingName) => `settings.${name}`;
  if (props.vpc !== undefined && settings.vpcId !== undefined) problems.push(`vpc and ${setting('vpcId')} both name a VPC; pass one`);
  if (props.bucket !== undefined) {
    for (const name of ['bucketName', 'bucketKmsKeyArn'] as const) {
      if (settings[name] !== undefined) problems.push(`bucket and ${setting(name)} both describe the bucket; pass one`);
    }
    if (settings.bucketVersioning) problems.push(`${setting('bucketVersioning')} applies to a bucket the bridge creates; turn versioning on for your bucket yourself`);
  }
  if (props.bucketKmsKey !== undefined && props.bucket === undefined) problems.push('bucketKmsKey applies to a bucket passed in: pass bucket too');
  if (props.cluster !== undefined) {
    if (props.vpc === undefined) problems.push('cluster needs the vpc it runs in: pass vpc too');
    else if (props.cluster.vpc !== props.vpc) problems.push('cluster must be in the vpc passed in');
  }
  if (props.alarmTopic !== undefined) {
    for (const name of ['alarmTopicArn', 'alarmEmail'] as const) {
      if (settings[name] !== undefined) problems.push(`alarmTopic and ${setting(name)} both say where alarms go; subscribe to your topic there`);
    }
  }
  if (problems.length > 0) throw new Error(`FtpS3Bridge: ${problems.join('; ')}`);
}
