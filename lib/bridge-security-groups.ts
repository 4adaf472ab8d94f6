import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { FirewallGroup, FirewallPeer, FirewallRule } from './firewall-rules.ts';

export interface BridgeSecurityGroupsProps {
  readonly vpc: ec2.IVpc;
  /** The firewall table's rules for this deployment (`firewallRules(settings)`); nothing else is allowed. */
  readonly rules: readonly FirewallRule[];
  /** The networks behind the `allowed-clients` peer. */
  readonly allowedCidrs: readonly string[];
  /**
   * Id of the S3 prefix list, needed when a rule has the `s3-prefix-list` peer.
   * @default - no such rule allowed
   */
  readonly s3PrefixListId?: string;
  /** Id of the DynamoDB prefix list, needed when a rule has the `dynamodb-prefix-list` peer. */
  readonly dynamodbPrefixListId?: string;
  /**
   * Security group of the interface endpoints, needed when a rule is in or towards the
   * `interface-endpoints` group; its rules are added here.
   * @default - no such rule allowed
   */
  readonly interfaceEndpoints?: ec2.ISecurityGroup;
}

/**
 * The load balancer's and the tasks' security groups, built only from the firewall table:
 * both start with no rules (not even all-outbound) and get exactly one rule per table row
 * and peer address. Rows of the `interface-endpoints` group go to the endpoints' group.
 */
export class BridgeSecurityGroups extends Construct {
  readonly loadBalancer: ec2.SecurityGroup;
  readonly task: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: BridgeSecurityGroupsProps) {
    super(scope, id);
    if (props.allowedCidrs.length === 0) throw new Error('BridgeSecurityGroups: allowedCidrs must list at least one network');
    this.loadBalancer = new ec2.SecurityGroup(this, 'LoadBalancer', {
      vpc: props.vpc,
      description: 'FTP bridge load balancer: FTP ports from the allowed client networks (firewall table)',
      allowAllOutbound: false,
    });
    this.task = new ec2.SecurityGroup(this, 'Task', {
      vpc: props.vpc,
      description: 'FTP bridge tasks: FTP and health ports from the load balancer, HTTPS to AWS (firewall table)',
      allowAllOutbound: false,
    });
    const endpoints = (): ec2.ISecurityGroup => {
      if (props.interfaceEndpoints === undefined) {
        throw new Error('BridgeSecurityGroups: a rule needs the interface endpoints security group, but interfaceEndpoints is not set');
      }
      return props.interfaceEndpoints;
    };
    const group = (name: FirewallGroup): ec2.ISecurityGroup => {
      switch (name) {
        case 'load-balancer':
          return this.loadBalancer;
        case 'task':
          return this.task;
        case 'interface-endpoints':
          return endpoints();
      }
    };

    const peers = (peer: FirewallPeer): ec2.IPeer[] => {
      switch (peer) {
        case 'allowed-clients':
          return props.allowedCidrs.map((cidr) => ec2.Peer.ipv4(cidr));
        case 'load-balancer':
          return [this.loadBalancer];
        case 'task':
          return [this.task];
        case 's3-prefix-list':
          if (props.s3PrefixListId === undefined) throw new Error('BridgeSecurityGroups: a rule needs the S3 prefix list, but s3PrefixListId is not set');
          return [ec2.Peer.prefixList(props.s3PrefixListId)];
        case 'dynamodb-prefix-list':
          if (props.dynamodbPrefixListId === undefined) {
            throw new Error('BridgeSecurityGroups: a rule needs the DynamoDB prefix list, but dynamodbPrefixListId is not set');
          }
          return [ec2.Peer.prefixList(props.dynamodbPrefixListId)];
        case 'interface-endpoints':
          return [endpoints()];
        case 'anywhere':
          return [ec2.Peer.anyIpv4()];
      }
    };

    for (const rule of props.rules) {
      const target = group(rule.group);
      const port = rule.ports.from === rule.ports.to ? ec2.Port.tcp(rule.ports.from) : ec2.Port.tcpRange(rule.ports.from, rule.ports.to);
      for (const peer of peers(rule.peer)) {
        if (rule.direction === 'inbound') target.addIngressRule(peer, port, rule.purpose);
        else target.addEgressRule(peer, port, rule.purpose);
      }
    }
  }
}
