import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { DeploymentEnvironment } from '../runtime/src/container-environment.ts';
import { BridgeBucket } from './bridge-bucket.ts';
import { BridgeLogQueries } from './bridge-log-queries.ts';
import { BridgeMonitoring } from './bridge-monitoring.ts';
import { BridgeNetwork } from './bridge-network.ts';
import { BridgeSecrets } from './bridge-secrets.ts';
import { BridgeSecurityGroups } from './bridge-security-groups.ts';
import { BridgeTaskRole } from './bridge-task-role.ts';
import { firewallRules } from './firewall-rules.ts';
import { FtpLoadBalancer } from './ftp-load-balancer.ts';
import { FtpShardService } from './ftp-shard-service.ts';
import { addNagSuppressions } from './nag-suppressions.ts';
import { ObjectCreatedQueue } from './object-created-queue.ts';
import { S3PrefixList } from './s3-prefix-list.ts';
import { portPlan } from './deployment-ports.ts';
import { validateSettings } from './settings.ts';
import type { BridgeSettings } from './settings.ts';
import { planShards } from './shard-plan.ts';

/** The repository root: the runtime image's build context. */
const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface FtpS3BridgeStackProps extends StackProps {
  /** The validated deployment settings (see settings.ts and cdk.json). */
  readonly settings: BridgeSettings;
  /**
   * The runtime image.
   * @default - built from runtime/Dockerfile with the repository root as context
   */
  readonly image?: ecs.ContainerImage;
}

/**
 * The whole deployment: network, load balancer, shards, storage, secrets, events and
 * monitoring. A thin wiring of the constructs in lib/.
 */
export class FtpS3BridgeStack extends Stack {
  readonly settings: BridgeSettings;
  readonly network: BridgeNetwork;
  readonly s3PrefixList: S3PrefixList;
  readonly securityGroups: BridgeSecurityGroups;
  readonly ftpLoadBalancer: FtpLoadBalancer;
  readonly storage: BridgeBucket;
  readonly objectCreated: ObjectCreatedQueue;
  readonly secrets: BridgeSecrets;
  readonly taskRole: BridgeTaskRole;
  readonly cluster: ecs.Cluster;
  readonly logGroup: logs.LogGroup;
  readonly executionRole: iam.Role;
  /** One per shard, in shard order; each deploys after the previous one. */
  readonly shards: readonly FtpShardService[];
  readonly monitoring: BridgeMonitoring;
  readonly logQueries: BridgeLogQueries;

  constructor(scope: Construct, id: string, props: FtpS3BridgeStackProps) {
    super(scope, id, props);
    const settings = validateSettings(props.settings);
    this.settings = settings;
    const ports = portPlan(settings);
    const tlsEnabled = settings.tlsMode !== 'off';

    this.network = new BridgeNetwork(this, 'Network', {
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
    this.securityGroups = new BridgeSecurityGroups(this, 'SecurityGroups', {
      vpc,
      rules: firewallRules(settings),
      allowedCidrs: settings.allowedCidrs,
      s3PrefixListId: this.s3PrefixList.prefixListId,
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
      existingBucketName: settings.bucketName,
      existingKmsKeyArn: settings.bucketKmsKeyArn,
      versioned: settings.bucketVersioning,
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
    this.taskRole = new BridgeTaskRole(this, 'TaskRole', {
      bucket: this.storage.bucket,
      keyPrefix: settings.bucketPrefix,
      kmsKey: this.storage.kmsKey,
      secrets: [this.secrets.usersSecret, ...(this.secrets.tlsSecret === undefined ? [] : [this.secrets.tlsSecret])],
      secretKeys: this.secrets.encryptionKeys,
    });

    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
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
      tlsSecretId: this.secrets.tlsSecret?.secretArn,
      logLevel: settings.logLevel,
      limits: {
        maxConnections: settings.maxConnections,
        maxConnectionsPerAddress: settings.maxConnectionsPerAddress,
        idleTimeoutSeconds: settings.ftpIdleTimeoutSeconds,
        loginTimeoutSeconds: settings.ftpLoginTimeoutSeconds,
        dataTimeoutSeconds: settings.ftpDataTimeoutSeconds,
      },
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
      alarmTopic: settings.alarmTopicArn === undefined ? undefined : sns.Topic.fromTopicArn(this, 'AlarmTopic', settings.alarmTopicArn),
      alarmEmail: settings.alarmEmail,
      thresholds: {
        failedTransfers: settings.alarmFailedTransfers,
        failedLogins: settings.alarmFailedLogins,
        shardDownMinutes: settings.alarmShardDownMinutes,
        deadLetterMessages: settings.alarmDeadLetterMessages,
        memoryPercent: settings.alarmMemoryPercent,
        taskStops: settings.alarmTaskStops,
      },
    });

    this.logQueries = new BridgeLogQueries(this, 'LogQueries', { logGroup: this.logGroup });

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('LoadBalancerDnsName', lb.loadBalancer.loadBalancerDnsName, 'DNS name of the FTP endpoint (resolves to the Elastic IPs)');
    output('PublicAddresses', Fn.join(',', lb.addresses.map((address) => address.publicIp)), 'Elastic IPs, one per AZ: give these to partners for their firewalls');
    const natAddresses = settings.activeMode ? this.network.natAddresses : [];
    output(
      'PartnerAllowList',
      Fn.join(',', [...lb.addresses.map((address) => address.publicIp), ...natAddresses.map((address) => address.attrPublicIp)]),
      natAddresses.length > 0
        ? 'Every address partners must allow: the Elastic IPs they connect to, and the NAT addresses active-mode data connections come from'
        : 'Every address partners must allow: the Elastic IPs they connect to',
    );
    output('PassivePorts', `${ports.passiveRange.from}-${ports.passiveRange.to}`, 'Passive port range partners must be able to reach');
    output('BucketName', this.storage.bucket.bucketName, 'Bucket every file lands in');
    output('ObjectCreatedQueueUrl', this.objectCreated.queue.queueUrl, 'SQS queue receiving "Object Created" events for downstream jobs');
    output('ObjectCreatedQueueArn', this.objectCreated.queue.queueArn, 'ARN of the object-created queue');
    output('DeadLetterQueueUrl', this.objectCreated.deadLetterQueue.queueUrl, 'Dead-letter queue of the object-created queue');
    output('UsersSecretArn', this.secrets.usersSecret.secretArn, 'Secret holding the users document: edit it to add partners');
    if (this.secrets.tlsSecret !== undefined) {
      output('TlsSecretArn', this.secrets.tlsSecret.secretArn, 'Secret holding {"certificate","privateKey"}: put the certificate here');
    }
    output('LogGroupName', this.logGroup.logGroupName, 'CloudWatch Logs group of the FTP tasks');
    output('AlarmTopicArn', this.monitoring.alarmTopic.topicArn, 'SNS topic the alarms notify: subscribe to it (bridge:alarmEmail does for one address)');
    output('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');

    addNagSuppressions(this);
  }
}
