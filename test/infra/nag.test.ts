import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { BridgeSettings } from '../../lib/settings.ts';
import { EXISTING_VPC, synthesize } from './stack-fixture.ts';

describe('cdk-nag AwsSolutions', () => {
  // Variants that change which resources exist (and so which rules apply).
  const cases: [string, Partial<BridgeSettings>][] = [
    ['defaults', {}],
    ['active mode with NAT, restricted client networks, prefix, DNS name', { activeMode: true, egress: 'nat', allowedCidrs: ['203.0.113.0/24'], bucketPrefix: 'ftp', hostedZoneId: 'Z0123456789ABCDEFGHIJ', hostedZoneName: 'example.com' }],
    [
      'existing VPC and addresses, bucket with KMS key, secrets; TLS off',
      {
        ...EXISTING_VPC,
        elasticIpAllocationIds: ['eipalloc-0123456789abcdef0', 'eipalloc-0123456789abcdef1', 'eipalloc-0123456789abcdef2'],
        bucketName: 'partner-files',
        bucketKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        usersSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/users-AbCdEf',
        tlsMode: 'off',
        implicitTlsPort: 0,
      },
    ],
  ];
  for (const [name, overrides] of cases) {
    test(`no unacknowledged findings: ${name}`, () => {
      const { app, stack } = synthesize(overrides);
      const report = new AwsSolutionsChecks(app).validateScope(stack);
      const findings = report.violations.map(
        (violation) => `${violation.ruleName} at ${violation.violatingResources.map((resource) => resource.constructPath ?? resource.resourceLogicalId).join(', ')}`,
      );
      assert.deepEqual(findings, []);
      assert.equal(report.success, true);
    });
  }

  test('every acknowledgement carries a reason', () => {
    const { stack } = synthesize();
    const acknowledgements = stack.node
      .findAll()
      .flatMap((construct) => construct.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((entry) => Object.entries(entry.data as Record<string, unknown>));
    assert.ok(acknowledgements.length > 0);
    for (const [id, reason] of acknowledgements) {
      const text = typeof reason === 'string' ? reason : JSON.stringify(reason);
      assert.ok(text.length > 40, `acknowledgement ${id} needs a real reason, got ${text}`);
    }
  });
});
