import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BridgeSettings } from '../../lib/settings.ts';
import { getAttOf, resourcesOfType, synthesize } from './stack-fixture.ts';

const ZONE: Partial<BridgeSettings> = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', hostedZoneName: 'example.com' };

describe('the name partners connect to', () => {
  test('no hosted zone: no record, no output', () => {
    const { template } = synthesize();
    assert.deepEqual(resourcesOfType(template, 'AWS::Route53::RecordSet'), {});
    assert.deepEqual(template.findOutputs('PartnerHostName'), {});
  });

  const cases: [string, Partial<BridgeSettings>, string][] = [
    ['the default name, ftp. in the zone', ZONE, 'ftp.example.com.'],
    ['a name of the operator\'s', { ...ZONE, dnsName: 'files.partners.example.com' }, 'files.partners.example.com.'],
  ];
  for (const [name, overrides, record] of cases) {
    test(`an alias record for the load balancer in the hosted zone: ${name}`, () => {
      const { template } = synthesize(overrides);
      const records = Object.entries(resourcesOfType(template, 'AWS::Route53::RecordSet'));
      assert.equal(records.length, 1);
      const [id, resource] = records[0]!;
      const properties = resource.Properties!;
      assert.equal(properties['Type'], 'A');
      assert.equal(properties['Name'], record);
      assert.equal(properties['HostedZoneId'], 'Z0123456789ABCDEFGHIJ');
      const alias = properties['AliasTarget'] as { DNSName: unknown; HostedZoneId: unknown };
      const nlb = Object.keys(resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer'))[0]!;
      assert.ok(JSON.stringify(alias.DNSName).includes(`"${nlb}","DNSName"`), JSON.stringify(alias.DNSName));
      assert.equal(getAttOf(alias.HostedZoneId), `${nlb}.CanonicalHostedZoneID`);
      template.hasOutput('PartnerHostName', { Value: { Ref: id } });
    });
  }
});
