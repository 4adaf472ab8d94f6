import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { BridgeZone } from './bridge-network.ts';
import { CONTAINER_PORTS } from './deployment-ports.ts';

export interface FtpLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  /** One subnet mapping (with its zone's Elastic IP) per zone. */
  readonly zones: readonly BridgeZone[];
  /**
   * Allocation IDs of existing Elastic IPs, one per zone in the order of `zones` (as Transfer
   * Family's AddressAllocationIds): the addresses partners already allow. The stack never
   * releases them; it looks their public IPs up at deploy time (ec2:DescribeAddresses).
   * @default - a new Elastic IP per zone, retained when the stack or the resource goes away
   */
  readonly existingAllocationIds?: readonly string[];
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
   * How long ECS waits, after taking a stopping task out of the target groups, before it
   * sends SIGTERM. The load balancer sends it no new connection from the start; the task
   * keeps its open ones, and after SIGTERM ends them itself with 421 (docs/deploys.md).
   * @default Duration.seconds(10)
   */
  readonly deregistrationDelay?: Duration;
}

/** A public address of the load balancer: the Elastic IP of one zone. */
export interface ZoneAddress {
  readonly availabilityZone: string;
  readonly allocationId: string;
  /** The address itself (a token: known at deploy time). */
  readonly publicIp: string;
  /** The Elastic IP resource, when this construct created it. */
  readonly elasticIp: ec2.CfnEIP | undefined;
  /** The deploy-time lookup of an existing address's public IP. */
  readonly lookup: cr.AwsCustomResource | undefined;
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

    const existing = props.existingAllocationIds;
    if (existing !== undefined && existing.length !== props.zones.length) {
      throw new Error(`FtpLoadBalancer: existingAllocationIds needs one allocation ID per zone (${props.zones.length}), got ${existing.length}`);
    }
    this.addresses = existing === undefined ? this.#newAddresses(props.zones) : this.#existingAddresses(props.zones, existing);
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'Nlb', {
      vpc: props.vpc,
      internetFacing: true,
      securityGroups: [props.securityGroup],
      crossZoneEnabled: true,
      subnetMappings: props.zones.map((zone, index) => ({
        subnet: zone.publicSubnet,
        allocationId: this.addresses[index]!.allocationId,
      })),
    });
    // An internet-facing load balancer can only be created once the internet gateway is attached.
    for (const zone of props.zones) this.loadBalancer.node.addDependency(zone.publicSubnet.internetConnectivityEstablished);

    const deregistrationDelay = props.deregistrationDelay ?? Duration.seconds(10);
    const targetGroup = (name: string, containerPort: number) => {
      const group = new elbv2.NetworkTargetGroup(this, `${name}Targets`, {
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
      // Kept explicit (it is the default): sessions and transfers on a deregistered task go on
      // through the load balancer until the task itself ends them with 421 (docs/deploys.md).
      group.setAttribute('deregistration_delay.connection_termination.enabled', 'false');
      return group;
    };
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

  /**
   * One new Elastic IP per zone. Retained: partners' firewalls list these addresses, so a
   * stack deletion, a rename or a logical-ID change must not release them (reuse them
   * with `existingAllocationIds`).
   */
  #newAddresses(zones: readonly BridgeZone[]): ZoneAddress[] {
    return zones.map((zone, index) => {
      const elasticIp = new ec2.CfnEIP(this, `Address${index + 1}`, {
        domain: 'vpc',
        tags: [{ key: 'Name', value: `${Stack.of(this).stackName}-ftp-${index + 1}` }],
      });
      elasticIp.applyRemovalPolicy(RemovalPolicy.RETAIN);
      return { availabilityZone: zone.availabilityZone, allocationId: elasticIp.attrAllocationId, publicIp: elasticIp.attrPublicIp, elasticIp, lookup: undefined };
    });
  }

  /**
   * The operator's Elastic IPs, their public IPs (for PASV replies and the outputs) looked
   * up at deploy time, one lookup per address: DescribeAddresses promises no order.
   */
  #existingAddresses(zones: readonly BridgeZone[], allocationIds: readonly string[]): ZoneAddress[] {
    return zones.map((zone, index) => {
      const allocationId = allocationIds[index]!;
      const lookup = new cr.AwsCustomResource(this, `Address${index + 1}Lookup`, {
        onUpdate: {
          service: 'EC2',
          action: 'describeAddresses',
          parameters: { AllocationIds: [allocationId] },
          physicalResourceId: cr.PhysicalResourceId.of(allocationId),
          outputPaths: ['Addresses.0.PublicIp'],
        },
        // DescribeAddresses takes no resource-level permissions.
        policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
        installLatestAwsSdk: false,
      });
      return { availabilityZone: zone.availabilityZone, allocationId, publicIp: lookup.getResponseField('Addresses.0.PublicIp'), elasticIp: undefined, lookup };
    });
  }
}
