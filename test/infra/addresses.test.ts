import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import type { BridgeSettings } from '../../lib/settings.ts';
import { EXISTING_VPC, getAttOf, resourcesOfType, synthesize } from './stack-fixture.ts';

const EIP = 'AWS::EC2::EIP';
const ALLOCATIONS = ['eipalloc-0123456789abcdef0', 'eipalloc-0123456789abcdef1', 'eipalloc-0123456789abcdef2'];

/** The load balancer's subnet mappings: allocation IDs, as written or as `Fn::GetAtt` paths. */
function mappedAllocations(template: ReturnType<typeof synthesize>['template']): unknown[] {
  const [nlb] = Object.values(resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer'));
  return (nlb!.Properties!['SubnetMappings'] as { AllocationId: unknown }[]).map((mapping) => getAttOf(mapping.AllocationId) ?? mapping.AllocationId);
}

/** The addresses PASV announces, one per shard. */
function passiveAddresses(template: ReturnType<typeof synthesize>['template']): unknown[] {
  return Object.values(resourcesOfType(template, 'AWS::ECS::TaskDefinition')).map((definition) => {
    const [container] = definition.Properties!['ContainerDefinitions'] as { Environment: { Name: string; Value: unknown }[] }[];
    return container!.Environment.find((variable) => variable.Name === 'FTP_PASSIVE_ADDRESS')!.Value;
  });
}

describe('addresses partners allow', () => {
  const retained: [string, Partial<BridgeSettings>, number][] = [
    ['new VPC, defaults', {}, 2],
    ['existing VPC with three zones', EXISTING_VPC, 3],
  ];
  for (const [name, overrides, zones] of retained) {
    test(`the load balancer's Elastic IPs survive deletion and replacement: ${name}`, () => {
      const { template } = synthesize(overrides);
      const addresses = resourcesOfType(template, EIP);
      assert.equal(Object.keys(addresses).length, zones);
      for (const [id, address] of Object.entries(addresses)) {
        assert.equal(address.DeletionPolicy, 'Retain', id);
        assert.equal(address.UpdateReplacePolicy, 'Retain', id);
      }
      assert.deepEqual(mappedAllocations(template), Object.keys(addresses).map((id) => `${id}.AllocationId`));
    });
  }

  test('existing allocation IDs: no new address, each zone mapped to its own, PASV announces its public IP', () => {
    const { template } = synthesize({ ...EXISTING_VPC, elasticIpAllocationIds: ALLOCATIONS, shardCount: 3 });
    assert.deepEqual(resourcesOfType(template, EIP), {});
    assert.deepEqual(mappedAllocations(template), ALLOCATIONS);
    // One lookup per address (DescribeAddresses promises no order), read by the shard of that zone.
    const lookups = Object.fromEntries(
      Object.entries(resourcesOfType(template, 'Custom::AWS')).filter(([, resource]) => JSON.stringify(resource.Properties).includes('describeAddresses')),
    );
    assert.equal(Object.keys(lookups).length, 3);
    for (const [index, allocation] of ALLOCATIONS.entries()) {
      template.hasResourceProperties('Custom::AWS', {
        Create: Match.serializedJson(Match.objectLike({ action: 'describeAddresses', parameters: { AllocationIds: [allocation] }, outputPaths: ['Addresses.0.PublicIp'] })),
        Update: Match.serializedJson(Match.objectLike({ parameters: { AllocationIds: [allocation] } })),
      });
      const lookup = Object.entries(lookups).find(([, resource]) => JSON.stringify(resource.Properties).includes(allocation))![0];
      assert.deepEqual(passiveAddresses(template)[index], { 'Fn::GetAtt': [lookup, 'Addresses.0.PublicIp'] });
    }
    // Nothing the lookup could release or change: it may only describe.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'ec2:DescribeAddresses', Effect: 'Allow', Resource: '*' }] },
    });
  });

  const allowLists: [string, Partial<BridgeSettings>, number, boolean][] = [
    ['passive mode: the load balancer addresses', {}, 2, false],
    ['NAT egress without active mode: NAT addresses are no partner\'s business', { egress: 'nat' }, 2, false],
    ['active mode: the NAT addresses data connections come from too', { activeMode: true, egress: 'nat' }, 4, true],
  ];
  for (const [name, overrides, count, natRetained] of allowLists) {
    test(`one output lists every address partners must allow: ${name}`, () => {
      const { template } = synthesize(overrides);
      const output = template.findOutputs('PartnerAllowList')['PartnerAllowList'];
      const joined = (output!['Value'] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      assert.equal(joined[0], ',');
      const ids = joined[1].map((part) => getAttOf(part));
      assert.equal(ids.length, count);
      const addresses = resourcesOfType(template, EIP);
      for (const id of ids) assert.ok(id !== undefined && id.endsWith('.PublicIp') && id.replace(/\.PublicIp$/, '') in addresses, String(id));
      const nat = Object.entries(addresses).filter(([id]) => !ids.includes(`${id}.PublicIp`) || id.includes('Vpc'));
      for (const [id, address] of nat) assert.equal(address.DeletionPolicy === 'Retain', natRetained, id);
    });
  }
});
