import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { firewallRules } from '../../lib/firewall-rules.ts';
import type { FirewallGroup, FirewallPeer } from '../../lib/firewall-rules.ts';
import type { BridgeSettings } from '../../lib/settings.ts';
import { EXISTING_VPC, getAttOf, resourcesOfType, synthesize } from './stack-fixture.ts';
import type { Synthesized } from './stack-fixture.ts';

/** One rule as a comparable line: group, direction, protocol, ports, peer, description. */
type RuleLine = string;

/** CDK's placeholder egress rule on a group without outbound rules: it matches no traffic. */
const NO_EGRESS_PLACEHOLDER = { CidrIp: '255.255.255.255/32', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 };

function peerText(rule: Record<string, unknown>): string {
  if (rule['CidrIp'] !== undefined) return `cidr ${String(rule['CidrIp'])}`;
  const group = rule['SourceSecurityGroupId'] ?? rule['DestinationSecurityGroupId'];
  if (group !== undefined) return `group ${getAttOf(group)}`;
  if (rule['DestinationPrefixListId'] !== undefined) return `prefix-list ${JSON.stringify(rule['DestinationPrefixListId'])}`;
  return `unknown ${JSON.stringify(rule)}`;
}

function line(group: string, direction: string, rule: Record<string, unknown>): RuleLine {
  return `${group} ${direction} ${String(rule['IpProtocol'])} ${String(rule['FromPort'])}-${String(rule['ToPort'])} ${peerText(rule)} "${String(rule['Description'])}"`;
}

/** Every rule of every security group in the template, inline or as a separate resource. */
function synthesizedRules({ template }: Synthesized): RuleLine[] {
  const lines: RuleLine[] = [];
  for (const [id, group] of Object.entries(resourcesOfType(template, 'AWS::EC2::SecurityGroup'))) {
    for (const rule of (group.Properties!['SecurityGroupIngress'] ?? []) as Record<string, unknown>[]) lines.push(line(`${id}.GroupId`, 'inbound', rule));
    for (const rule of (group.Properties!['SecurityGroupEgress'] ?? []) as Record<string, unknown>[]) {
      if (Object.entries(NO_EGRESS_PLACEHOLDER).every(([key, value]) => rule[key] === value)) continue;
      lines.push(line(`${id}.GroupId`, 'outbound', rule));
    }
  }
  for (const [type, direction] of [['AWS::EC2::SecurityGroupIngress', 'inbound'], ['AWS::EC2::SecurityGroupEgress', 'outbound']] as const) {
    for (const rule of Object.values(resourcesOfType(template, type))) lines.push(line(getAttOf(rule.Properties!['GroupId'])!, direction, rule.Properties!));
  }
  return lines.sort();
}

/** The firewall table of the settings, expanded to one line per peer address, in template terms. */
function tableRules({ stack, settings }: Synthesized): RuleLine[] {
  const groupId = (group: FirewallGroup) => {
    const construct =
      group === 'load-balancer' ? stack.bridge.securityGroups.loadBalancer : group === 'task' ? stack.bridge.securityGroups.task : stack.bridge.network.interfaceEndpointsSecurityGroup!;
    return getAttOf(stack.resolve(construct.securityGroupId))!;
  };
  const peers = (peer: FirewallPeer): string[] => {
    switch (peer) {
      case 'allowed-clients':
        return settings.allowedCidrs.map((cidr) => `cidr ${cidr}`);
      case 'anywhere':
        return ['cidr 0.0.0.0/0'];
      case 's3-prefix-list':
        return [`prefix-list ${JSON.stringify(stack.resolve(stack.bridge.s3PrefixList.prefixListId))}`];
      case 'dynamodb-prefix-list':
        return [`prefix-list ${JSON.stringify(stack.resolve(stack.bridge.dynamodbPrefixList.prefixListId))}`];
      case 'load-balancer':
      case 'task':
      case 'interface-endpoints':
        return [`group ${groupId(peer)}`];
    }
  };
  return firewallRules(settings)
    .flatMap((rule) =>
      peers(rule.peer).map(
        (peer) => `${groupId(rule.group)} ${rule.direction} ${rule.protocol} ${rule.ports.from}-${rule.ports.to} ${peer} "${rule.purpose}"`,
      ),
    )
    .sort();
}

describe('security groups', () => {
  // Settings whose synthesized rules must equal the table, rule by rule.
  const cases: [string, Partial<BridgeSettings>][] = [
    ['defaults (interface endpoints)', {}],
    ['active mode with NAT and two client networks', { activeMode: true, egress: 'nat', allowedCidrs: ['203.0.113.0/24', '198.51.100.0/24'] }],
    ['existing VPC', { ...EXISTING_VPC }],
    ['implicit FTPS off, other ports', { implicitTlsPort: 0, controlPort: 2021, firstPassivePort: 40000, shardCount: 4 }],
  ];
  for (const [name, overrides] of cases) {
    test(`synthesized rules equal the firewall table: ${name}`, () => {
      const synthesized = synthesize(overrides);
      assert.deepEqual(synthesizedRules(synthesized), tableRules(synthesized));
    });
  }

  test('the stack has no security group besides the table\'s', () => {
    for (const overrides of [{}, { activeMode: true, egress: 'nat' as const }]) {
      const synthesized = synthesize(overrides);
      const expected = [synthesized.stack.bridge.securityGroups.loadBalancer, synthesized.stack.bridge.securityGroups.task, synthesized.stack.bridge.network.interfaceEndpointsSecurityGroup]
        .filter((group) => group !== undefined)
        .map((group) => getAttOf(synthesized.stack.resolve(group.securityGroupId))!.split('.')[0]!);
      assert.deepEqual(Object.keys(resourcesOfType(synthesized.template, 'AWS::EC2::SecurityGroup')).sort(), expected.sort());
    }
  });

  test('the tasks run in the task group only', () => {
    const synthesized = synthesize();
    const taskGroup = synthesized.stack.resolve(synthesized.stack.bridge.securityGroups.task.securityGroupId);
    for (const service of Object.values(resourcesOfType(synthesized.template, 'AWS::ECS::Service'))) {
      const network = service.Properties!['NetworkConfiguration'] as { AwsvpcConfiguration: { SecurityGroups: unknown[] } };
      assert.deepEqual(network.AwsvpcConfiguration.SecurityGroups, [taskGroup]);
    }
  });
});
