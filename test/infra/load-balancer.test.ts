import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { CONTAINER_PORTS, portPlan } from '../../lib/deployment-ports.ts';
import type { BridgeSettings } from '../../lib/settings.ts';
import { EXISTING_VPC, getAttOf, refOf, resourcesOfType, synthesize } from './stack-fixture.ts';

const TARGET_GROUP = 'AWS::ElasticLoadBalancingV2::TargetGroup';
const LISTENER = 'AWS::ElasticLoadBalancingV2::Listener';

function attributes(properties: Record<string, unknown> | undefined, field: string): Record<string, string> {
  const list = (properties?.[field] ?? []) as { Key: string; Value: string }[];
  return Object.fromEntries(list.map((attribute) => [attribute.Key, attribute.Value]));
}

function expectedListenerPorts(settings: BridgeSettings): number[] {
  const ports = portPlan(settings);
  const passive = Array.from({ length: ports.passiveRange.to - ports.passiveRange.from + 1 }, (_, i) => ports.passiveRange.from + i);
  return [ports.controlPort, ...(ports.implicitTlsPort === undefined ? [] : [ports.implicitTlsPort]), ...passive].sort((a, b) => a - b);
}

describe('load balancer', () => {
  // Settings whose listeners must match exactly: no missing port, no extra one.
  const cases: [string, Partial<BridgeSettings>][] = [
    ['defaults', {}],
    ['implicit FTPS off, 4 passive ports per shard', { implicitTlsPort: 0, passivePortsPerShard: 4, shardCount: 3 }],
    ['other ports, the 50-listener maximum', { controlPort: 2021, implicitTlsPort: 9990, firstPassivePort: 50000, shardCount: 16 }],
  ];
  for (const [name, overrides] of cases) {
    test(`listener ports match the settings exactly: ${name}`, () => {
      const { settings, template } = synthesize(overrides);
      const listeners = Object.values(resourcesOfType(template, LISTENER));
      const ports = listeners.map((listener) => listener.Properties!['Port'] as number).sort((a, b) => a - b);
      assert.deepEqual(ports, expectedListenerPorts(settings));
      assert.ok(ports.length <= 50);
      for (const listener of listeners) {
        assert.equal(listener.Properties!['Protocol'], 'TCP', 'TLS ends in the container');
        assert.equal(attributes(listener.Properties, 'ListenerAttributes')['tcp.idle_timeout.seconds'], String(settings.idleTimeoutSeconds));
      }
      // One target group per listener, each behind exactly one listener.
      const groups = Object.keys(resourcesOfType(template, TARGET_GROUP));
      const forwarded = listeners.map((listener) => refOf((listener.Properties!['DefaultActions'] as { TargetGroupArn: unknown }[])[0]!.TargetGroupArn));
      assert.deepEqual([...forwarded].sort(), [...groups].sort());
    });
  }

  test('listener and target port pairs: public control/implicit ports map to the container ports, passive ports to themselves', () => {
    const { template } = synthesize({ controlPort: 2021, implicitTlsPort: 9990 });
    const groups = resourcesOfType(template, TARGET_GROUP);
    const pairs = Object.values(resourcesOfType(template, LISTENER)).map((listener) => {
      const group = refOf((listener.Properties!['DefaultActions'] as { TargetGroupArn: unknown }[])[0]!.TargetGroupArn)!;
      return [listener.Properties!['Port'], groups[group]!.Properties!['Port']];
    });
    assert.deepEqual(
      pairs.sort((a, b) => Number(a[0]) - Number(b[0])),
      [[2021, CONTAINER_PORTS.control], [9990, CONTAINER_PORTS.implicitTls], ...[0, 1, 2, 3, 4, 5].map((i) => [30000 + i, 30000 + i])],
    );
  });

  test('every target group: IP targets, TCP, client IP preservation, cross-zone, HTTP health check on /health, deregistration delay', () => {
    const { template, settings } = synthesize({ deregistrationDelaySeconds: 45 });
    const groups = Object.entries(resourcesOfType(template, TARGET_GROUP));
    assert.equal(groups.length, 2 + settings.shardCount * settings.passivePortsPerShard);
    for (const [id, group] of groups) {
      const properties = group.Properties!;
      assert.equal(properties['TargetType'], 'ip', id);
      assert.equal(properties['Protocol'], 'TCP', id);
      assert.equal(properties['HealthCheckProtocol'], 'HTTP', id);
      assert.equal(properties['HealthCheckPort'], String(CONTAINER_PORTS.health), id);
      assert.equal(properties['HealthCheckPath'], '/health', id);
      assert.deepEqual(properties['Matcher'], { HttpCode: '200' }, id);
      const attrs = attributes(properties, 'TargetGroupAttributes');
      assert.equal(attrs['preserve_client_ip.enabled'], 'true', id);
      assert.equal(attrs['load_balancing.cross_zone.enabled'], 'true', id);
      assert.equal(attrs['deregistration_delay.timeout_seconds'], '45', id);
    }
  });

  test('internet-facing, cross-zone, own security group, one Elastic IP per zone via subnet mappings', () => {
    const { template } = synthesize();
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internet-facing',
      SecurityGroups: [Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^SecurityGroupsLoadBalancer'), 'GroupId'] })],
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }]),
      Subnets: Match.absent(),
    });
    const eips = Object.keys(resourcesOfType(template, 'AWS::EC2::EIP'));
    const nlb = Object.values(resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer'))[0]!;
    const mappings = nlb.Properties!['SubnetMappings'] as { AllocationId: unknown; SubnetId: unknown }[];
    assert.equal(mappings.length, 2);
    assert.deepEqual(mappings.map((mapping) => getAttOf(mapping.AllocationId)!.split('.')[0]).sort(), eips.filter((id) => id.startsWith('LoadBalancerAddress')).sort());
    const publicSubnets = Object.keys(resourcesOfType(template, 'AWS::EC2::Subnet')).filter((id) => id.includes('public'));
    assert.deepEqual(mappings.map((mapping) => refOf(mapping.SubnetId)).sort(), publicSubnets.sort());
  });

  test('an existing VPC with three zones gets three Elastic IPs on its public subnets', () => {
    const { template } = synthesize({ ...EXISTING_VPC, shardCount: 3 });
    const nlb = Object.values(resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer'))[0]!;
    const mappings = nlb.Properties!['SubnetMappings'] as { SubnetId: unknown }[];
    assert.deepEqual(mappings.map((mapping) => mapping.SubnetId), EXISTING_VPC.vpcPublicSubnetIds);
    template.resourceCountIs('AWS::EC2::EIP', 3);
    template.resourceCountIs('AWS::EC2::VPC', 0);
  });
});
