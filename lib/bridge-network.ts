import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { EgressMode } from './settings.ts';

/** An existing VPC, described fully so that synth needs no lookup (and no AWS account). */
export interface ExistingVpc {
  readonly vpcId: string;
  /** The zones to use, in order. */
  readonly availabilityZones: readonly string[];
  /** One public subnet per zone, in the order of `availabilityZones` (load balancer). */
  readonly publicSubnetIds: readonly string[];
  /** One private subnet per zone, in the order of `availabilityZones` (tasks); it needs a route to AWS APIs. */
  readonly taskSubnetIds: readonly string[];
}

export interface BridgeNetworkProps {
  /**
   * A VPC object to use as it is (no endpoints, no NAT, no flow log added); each zone needs a
   * public subnet and a private or isolated one. Not together with `existingVpc`.
   * @default - a new VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Existing VPC to use instead of a new one. Its private subnets must reach ECR, CloudWatch
   * Logs, Secrets Manager and S3 (NAT or endpoints of the operator's).
   * @default - a new VPC
   */
  readonly existingVpc?: ExistingVpc;
  /**
   * Availability zones of a new VPC.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * How tasks of a new VPC reach ECR, CloudWatch Logs and Secrets Manager:
   * interface endpoints (tasks have no internet path at all) or one NAT gateway per AZ.
   * @default 'endpoints'
   */
  readonly egress?: EgressMode;
  /**
   * Keep the NAT gateways' Elastic IPs when the stack or the resource goes away: in active
   * mode data connections come from them, and partners' firewalls list them.
   * @default false
   */
  readonly retainNatAddresses?: boolean;
  /**
   * Retention of the VPC flow log (rejected traffic only) of a new VPC.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/** One availability zone of the deployment: where one Elastic IP lives and shards run. */
export interface BridgeZone {
  readonly availabilityZone: string;
  /** Public subnet of the zone, mapped to the load balancer with the zone's Elastic IP. */
  readonly publicSubnet: ec2.ISubnet;
  /** Private subnet of the zone, for the zone's tasks. */
  readonly taskSubnet: ec2.ISubnet;
}

/**
 * The network: public subnets for the load balancer, private subnets for the tasks, an S3
 * gateway endpoint, and either interface endpoints or NAT gateways for the other AWS APIs.
 */
export class BridgeNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  /** Zones that have both a public and a private subnet, in a stable order. */
  readonly zones: readonly BridgeZone[];
  /** True when tasks reach AWS APIs only through interface endpoints created here. */
  readonly usesInterfaceEndpoints: boolean;
  /** Security group of the interface endpoints (no rules of its own: the firewall table adds them). */
  readonly interfaceEndpointsSecurityGroup: ec2.SecurityGroup | undefined;
  /** Rejected-traffic flow log of a new VPC. */
  readonly flowLogGroup: logs.LogGroup | undefined;
  /**
   * The Elastic IPs of a new VPC's NAT gateways (egress=nat): active-mode data connections
   * come from them. Empty otherwise.
   */
  readonly natAddresses: readonly ec2.CfnEIP[];

  constructor(scope: Construct, id: string, props: BridgeNetworkProps = {}) {
    super(scope, id);
    const egress = props.egress ?? 'endpoints';
    const maxAzs = props.maxAzs ?? 2;
    if (!Number.isInteger(maxAzs) || maxAzs < 1) throw new Error(`BridgeNetwork: maxAzs must be a positive integer, got ${maxAzs}`);

    if (props.vpc !== undefined && props.existingVpc !== undefined) throw new Error('BridgeNetwork: pass vpc or existingVpc, not both');
    if (props.vpc !== undefined) {
      this.vpc = props.vpc;
      this.usesInterfaceEndpoints = false;
      this.interfaceEndpointsSecurityGroup = undefined;
      this.flowLogGroup = undefined;
      this.natAddresses = [];
    } else if (props.existingVpc !== undefined) {
      const existing = props.existingVpc;
      const count = existing.availabilityZones.length;
      if (count === 0 || existing.publicSubnetIds.length !== count || existing.taskSubnetIds.length !== count) {
        throw new Error(
          `BridgeNetwork: an existing VPC needs one public and one task subnet per availability zone, got ${count} zones, ` +
            `${existing.publicSubnetIds.length} public and ${existing.taskSubnetIds.length} task subnets`,
        );
      }
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: existing.vpcId,
        availabilityZones: [...existing.availabilityZones],
        publicSubnetIds: [...existing.publicSubnetIds],
        privateSubnetIds: [...existing.taskSubnetIds],
      });
      Validations.of(this.vpc).acknowledge({
        id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
        reason: 'The stack adds no routes to an existing VPC; its route tables stay the operator\'s.',
      });
      this.usesInterfaceEndpoints = false;
      this.interfaceEndpointsSecurityGroup = undefined;
      this.flowLogGroup = undefined;
      this.natAddresses = [];
    } else {
      this.flowLogGroup = new logs.LogGroup(this, 'FlowLog', { retention: props.flowLogRetention ?? logs.RetentionDays.THREE_MONTHS });
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs,
        natGateways: egress === 'nat' ? maxAzs : 0,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
          {
            name: 'tasks',
            subnetType: egress === 'nat' ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
            cidrMask: 22,
          },
        ],
        // Free, and the tasks' only way to S3 and to the shared-state table without NAT.
        gatewayEndpoints: {
          S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
          DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        },
        flowLogs: {
          rejected: {
            destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
            trafficType: ec2.FlowLogTrafficType.REJECT,
          },
        },
      });
      this.vpc = vpc;
      this.natAddresses = vpc.publicSubnets.flatMap((subnet) => {
        const address = subnet.node.tryFindChild('EIP');
        return address instanceof ec2.CfnEIP ? [address] : [];
      });
      if (props.retainNatAddresses === true) for (const address of this.natAddresses) address.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.usesInterfaceEndpoints = egress === 'endpoints';
      if (this.usesInterfaceEndpoints) {
        const securityGroup = new ec2.SecurityGroup(this, 'InterfaceEndpoints', {
          vpc,
          description: 'FTP bridge interface endpoints: HTTPS from the tasks (firewall table)',
          allowAllOutbound: false,
        });
        this.interfaceEndpointsSecurityGroup = securityGroup;
        const subnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
        // ECR (API and registry), CloudWatch Logs and Secrets Manager; image layers come from S3 through the gateway.
        const services: [string, ec2.InterfaceVpcEndpointAwsService][] = [
          ['EcrApi', ec2.InterfaceVpcEndpointAwsService.ECR],
          ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
          ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
          ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
        ];
        for (const [name, service] of services) {
          vpc.addInterfaceEndpoint(name, { service, subnets, privateDnsEnabled: true, open: false, securityGroups: [securityGroup] });
        }
      } else {
        this.interfaceEndpointsSecurityGroup = undefined;
      }
    }

    const publicSubnets = this.vpc.publicSubnets;
    // Private subnets with egress first (an existing VPC's NAT), isolated ones otherwise.
    const taskSubnets = this.vpc.privateSubnets.length > 0 ? this.vpc.privateSubnets : this.vpc.isolatedSubnets;
    const zones: BridgeZone[] = [];
    for (const publicSubnet of publicSubnets) {
      if (zones.some((zone) => zone.availabilityZone === publicSubnet.availabilityZone)) continue;
      const taskSubnet = taskSubnets.find((subnet) => subnet.availabilityZone === publicSubnet.availabilityZone);
      if (taskSubnet !== undefined) zones.push({ availabilityZone: publicSubnet.availabilityZone, publicSubnet, taskSubnet });
    }
    if (zones.length === 0) {
      throw new Error('BridgeNetwork: the VPC needs at least one availability zone with both a public and a private subnet');
    }
    this.zones = zones;
  }
}
