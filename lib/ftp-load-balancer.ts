import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { BridgeZone } from './bridge-network.ts';
import { CONTAINER_PORTS } from './deployment-ports.ts';

export interface FtpLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  /** One subnet mapping (with a new Elastic IP) per zone. */
  readonly zones: readonly BridgeZone[];
  readonly securityGroup: ec2.ISecurityGroup;
  /** Public control port. */
  readonly controlPort: number;
  /**
   * Public implicit-TLS port.
   * @default - no implicit FTPS listener
   */
  readonly implicitTlsPort?: number;
  /** Every passive port of every shard; each gets a listener and a target group of its own. */
  readonly passivePorts: readonly number[];
  /**
   * TCP idle timeout of every listener (60-6000 s); FTP control channels sit idle during long transfers.
   * @default Duration.hours(1)
   */
  readonly idleTimeout?: Duration;
  /**
   * How long a deregistered task keeps its open connections before ECS stops it.
   * @default Duration.minutes(2)
   */
  readonly deregistrationDelay?: Duration;
}

/** A public address of the load balancer: the Elastic IP of one zone. */
export interface ZoneAddress {
  readonly availabilityZone: string;
  readonly elasticIp: ec2.CfnEIP;
}

/**
 * An internet-facing Network Load Balancer with one Elastic IP per zone, TCP listeners
 * (TLS ends in the container) on the control, implicit-TLS and every passive port, and
 * IP target groups with client IP preservation, cross-zone balancing and HTTP health
 * checks against the runtime's health endpoint.
 */
export class FtpLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** One per zone, in the order of `zones`. */
  readonly addresses: readonly ZoneAddress[];
  /** Shared by every shard. */
  readonly controlTargetGroup: elbv2.NetworkTargetGroup;
  /** Shared by every shard; undefined when implicit FTPS is off. */
  readonly implicitTlsTargetGroup: elbv2.NetworkTargetGroup | undefined;
  /** Public (= container) passive port → its target group, which must hold one shard only. */
  readonly passiveTargetGroups: ReadonlyMap<number, elbv2.NetworkTargetGroup>;
  readonly listeners: readonly elbv2.NetworkListener[];

  constructor(scope: Construct, id: string, props: FtpLoadBalancerProps) {
    super(scope, id);
    const idleTimeout = props.idleTimeout ?? Duration.hours(1);
    const idleSeconds = idleTimeout.toSeconds();
    if (idleSeconds < 60 || idleSeconds > 6000) throw new Error(`FtpLoadBalancer: idleTimeout must be 60-6000 seconds, got ${idleSeconds}`);
    if (props.zones.length === 0) throw new Error('FtpLoadBalancer: needs at least one zone');
    const publicPorts = [props.controlPort, ...(props.implicitTlsPort === undefined ? [] : [props.implicitTlsPort]), ...props.passivePorts];
    if (new Set(publicPorts).size !== publicPorts.length) throw new Error(`FtpLoadBalancer: listener ports must be distinct, got ${publicPorts.join(', ')}`);
    if (publicPorts.length > 50) throw new Error(`FtpLoadBalancer: ${publicPorts.length} listeners; a Network Load Balancer has at most 50`);

    this.addresses = props.zones.map((zone, index) => ({
      availabilityZone: zone.availabilityZone,
      elasticIp: new ec2.CfnEIP(this, `Address${index + 1}`, {
        domain: 'vpc',
        tags: [{ key: 'Name', value: `${Stack.of(this).stackName}-ftp-${index + 1}` }],
      }),
    }));
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'Nlb', {
      vpc: props.vpc,
      internetFacing: true,
      securityGroups: [props.securityGroup],
      crossZoneEnabled: true,
      subnetMappings: props.zones.map((zone, index) => ({
        subnet: zone.publicSubnet,
        allocationId: this.addresses[index]!.elasticIp.attrAllocationId,
      })),
    });
    // An internet-facing load balancer can only be created once the internet gateway is attached.
    for (const zone of props.zones) this.loadBalancer.node.addDependency(zone.publicSubnet.internetConnectivityEstablished);

    const deregistrationDelay = props.deregistrationDelay ?? Duration.minutes(2);
    const targetGroup = (name: string, containerPort: number) =>
      new elbv2.NetworkTargetGroup(this, `${name}Targets`, {
        vpc: props.vpc,
        targetType: elbv2.TargetType.IP,
        protocol: elbv2.Protocol.TCP,
        port: containerPort,
        preserveClientIp: true,
        crossZoneEnabled: true,
        deregistrationDelay,
        healthCheck: {
          protocol: elbv2.Protocol.HTTP,
          port: String(CONTAINER_PORTS.health),
          path: '/health',
          healthyHttpCodes: '200',
          interval: Duration.seconds(10),
          timeout: Duration.seconds(5),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      });
    const listeners: elbv2.NetworkListener[] = [];
    const listen = (name: string, port: number, group: elbv2.NetworkTargetGroup) => {
      listeners.push(
        this.loadBalancer.addListener(name, { port, protocol: elbv2.Protocol.TCP, tcpIdleTimeout: idleTimeout, defaultTargetGroups: [group] }),
      );
    };

    this.controlTargetGroup = targetGroup('Control', CONTAINER_PORTS.control);
    listen('Control', props.controlPort, this.controlTargetGroup);
    if (props.implicitTlsPort !== undefined) {
      this.implicitTlsTargetGroup = targetGroup('ImplicitTls', CONTAINER_PORTS.implicitTls);
      listen('ImplicitTls', props.implicitTlsPort, this.implicitTlsTargetGroup);
    } else {
      this.implicitTlsTargetGroup = undefined;
    }
    const passive = new Map<number, elbv2.NetworkTargetGroup>();
    for (const port of props.passivePorts) {
      const group = targetGroup(`Passive${port}`, port);
      passive.set(port, group);
      listen(`Passive${port}`, port, group);
    }
    this.passiveTargetGroups = passive;
    this.listeners = listeners;
  }
}
