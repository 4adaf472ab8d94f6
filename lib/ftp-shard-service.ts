import { Duration, Size } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { containerEnvironment, uploadBufferMiBForMemory, type DeploymentEnvironment } from '../runtime/src/container-environment.ts';
import { AWS_LIMITS, CONTAINER_PORTS } from './deployment-ports.ts';

/** ECS waits this long after SIGTERM before SIGKILL (the Fargate maximum). */
export const STOP_TIMEOUT = Duration.seconds(120);
/**
 * The runtime's own grace after SIGTERM. After it the runtime closes sessions with
 * 421 and waits up to 10 s more for the uploads it cut off to be aborted in S3, so
 * grace + 10 s must stay under the stop timeout.
 */
export const SHUTDOWN_GRACE_SECONDS = 105;

/** A shard's name: its log stream prefix and its metrics' Shard dimension. */
export function shardName(shardIndex: number): string {
  return `shard-${shardIndex + 1}`;
}

export interface FtpShardServiceProps {
  readonly cluster: ecs.ICluster;
  /** 0-based shard number (names the log stream prefix). */
  readonly shardIndex: number;
  /** The one private subnet (and so the one AZ) the shard's task runs in. */
  readonly subnet: ec2.ISubnet;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly image: ecs.ContainerImage;
  readonly logGroup: logs.ILogGroup;
  readonly taskRole: iam.IRole;
  readonly executionRole: iam.IRole;
  /** The passive ports this shard alone offers (same number on the load balancer and in the container). */
  readonly passivePorts: readonly number[];
  /** The Elastic IP of the shard's zone, advertised in PASV/EPSV replies. */
  readonly passiveAddress: string;
  /** Shared control target group. */
  readonly controlTargetGroup: elbv2.INetworkTargetGroup;
  /**
   * Shared implicit-TLS target group.
   * @default - implicit FTPS off (FTPS_IMPLICIT_PORT=0)
   */
  readonly implicitTlsTargetGroup?: elbv2.INetworkTargetGroup;
  /** Target group of each passive port, in the order of `passivePorts`; this shard must be their only member. */
  readonly passiveTargetGroups: readonly elbv2.INetworkTargetGroup[];
  /** What every shard's container is told alike (bucket, secrets, modes, log level). */
  readonly deployment: DeploymentEnvironment;
  /** Task CPU units (`bridge:taskCpu`). */
  readonly cpu: number;
  /**
   * Task memory in MiB (`bridge:taskMemoryMiB`); the runtime's upload buffer budget
   * (FTP_UPLOAD_BUFFER_MIB) is derived from it, by the runtime's own rule (half).
   */
  readonly memoryLimitMiB: number;
  /**
   * The runtime's upload buffer budget in MiB (FTP_UPLOAD_BUFFER_MIB).
   * @default - half of memoryLimitMiB, the runtime's own rule
   */
  readonly uploadBufferMiB?: number;
}

/**
 * One shard: a Fargate service with exactly one task (min 0 %, max 100 %, so two tasks
 * never own the same passive ports), pinned to one subnet, registered in the shared control
 * and implicit-TLS target groups and, alone, in its passive ports' target groups.
 */
export class FtpShardService extends Construct {
  /** Names the container in the task definition. */
  static readonly CONTAINER_NAME = 'ftp';
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;

  constructor(scope: Construct, id: string, props: FtpShardServiceProps) {
    super(scope, id);
    if (props.passivePorts.length === 0) throw new Error('FtpShardService: a shard needs at least one passive port');
    if (props.passivePorts.length !== props.passiveTargetGroups.length) {
      throw new Error(`FtpShardService: ${props.passivePorts.length} passive ports but ${props.passiveTargetGroups.length} passive target groups`);
    }
    const targetGroupCount = 1 + (props.implicitTlsTargetGroup === undefined ? 0 : 1) + props.passiveTargetGroups.length;
    if (targetGroupCount > AWS_LIMITS.targetGroupsPerService) {
      throw new Error(`FtpShardService: ${targetGroupCount} target groups; an ECS service can attach at most ${AWS_LIMITS.targetGroupsPerService}`);
    }
    for (let i = 1; i < props.passivePorts.length; i++) {
      if (props.passivePorts[i] !== props.passivePorts[i - 1]! + 1) throw new Error('FtpShardService: passive ports must be consecutive');
    }

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryLimitMiB,
      runtimePlatform: { operatingSystemFamily: ecs.OperatingSystemFamily.LINUX, cpuArchitecture: ecs.CpuArchitecture.X86_64 },
      taskRole: props.taskRole,
      executionRole: props.executionRole,
    });
    this.container = this.taskDefinition.addContainer(FtpShardService.CONTAINER_NAME, {
      image: props.image,
      essential: true,
      // The image's unprivileged user (uid 1000); nothing is written to disk.
      user: 'node',
      readonlyRootFilesystem: true,
      stopTimeout: STOP_TIMEOUT,
      logging: ecs.LogDrivers.awsLogs({
        logGroup: props.logGroup,
        streamPrefix: shardName(props.shardIndex),
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      environment: containerEnvironment(props.deployment, {
        ports: {
          control: CONTAINER_PORTS.control,
          implicitTls: props.implicitTlsTargetGroup === undefined ? 0 : CONTAINER_PORTS.implicitTls,
          health: CONTAINER_PORTS.health,
          passive: { first: props.passivePorts[0]!, last: props.passivePorts[props.passivePorts.length - 1]! },
        },
        passiveAddress: props.passiveAddress,
        shutdownGraceSeconds: SHUTDOWN_GRACE_SECONDS,
        uploadBufferMiB: props.uploadBufferMiB ?? uploadBufferMiBForMemory(props.memoryLimitMiB * 1024 * 1024),
        metricsShard: shardName(props.shardIndex),
      }),
      portMappings: [
        CONTAINER_PORTS.control,
        ...(props.implicitTlsTargetGroup === undefined ? [] : [CONTAINER_PORTS.implicitTls]),
        CONTAINER_PORTS.health,
        ...props.passivePorts,
      ].map((containerPort) => ({ containerPort, protocol: ecs.Protocol.TCP })),
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      assignPublicIp: false,
      vpcSubnets: { subnets: [props.subnet] },
      securityGroups: [props.securityGroup],
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      healthCheckGracePeriod: Duration.seconds(60),
      circuitBreaker: { enable: true, rollback: true },
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    const register = (group: elbv2.INetworkTargetGroup, containerPort: number) =>
      group.addTarget(this.service.loadBalancerTarget({ containerName: FtpShardService.CONTAINER_NAME, containerPort }));
    register(props.controlTargetGroup, CONTAINER_PORTS.control);
    if (props.implicitTlsTargetGroup !== undefined) register(props.implicitTlsTargetGroup, CONTAINER_PORTS.implicitTls);
    props.passivePorts.forEach((port, index) => register(props.passiveTargetGroups[index]!, port));
  }
}
