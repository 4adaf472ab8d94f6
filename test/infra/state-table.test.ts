import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../runtime/src/config.ts';
import { refOf, resourcesOfType, synthesize } from './stack-fixture.ts';

/** The shared-state table (FTP_STATE_TABLE): partner limits across shards, lockouts across deploys. */
describe('state table', () => {
  test('on demand, keyed by pk, TTL on ttl, point-in-time recovery, encrypted', () => {
    const { template } = synthesize();
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
      // Leases lapse and counts are measured again: nothing to keep when the stack goes.
      DeletionPolicy: 'Delete',
    });
  });

  test('the task role may get, put and delete its items, and nothing else of DynamoDB', () => {
    const { template } = synthesize();
    const [tableId] = Object.keys(resourcesOfType(template, 'AWS::DynamoDB::Table'));
    const statements = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).flatMap(
      (policy) => (policy.Properties!['PolicyDocument'] as { Statement: Array<{ Sid?: string; Action: string | string[]; Resource: unknown }> }).Statement,
    );
    const dynamo = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('dynamodb:')));
    assert.equal(dynamo.length, 1, 'one statement');
    assert.equal(dynamo[0]!.Sid, 'State');
    assert.deepEqual([dynamo[0]!.Action].flat().sort(), ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    assert.deepEqual(dynamo[0]!.Resource, { 'Fn::GetAtt': [tableId, 'Arn'] });
  });

  test('every shard gets FTP_STATE_TABLE naming the table, through the container contract the runtime parses', () => {
    const { template } = synthesize();
    const [tableId] = Object.keys(resourcesOfType(template, 'AWS::DynamoDB::Table'));
    const tasks = Object.values(resourcesOfType(template, 'AWS::ECS::TaskDefinition'));
    assert.ok(tasks.length >= 1);
    for (const task of tasks) {
      const [container] = task.Properties!['ContainerDefinitions'] as Array<{ Environment: Array<{ Name: string; Value: unknown }> }>;
      const variable = container!.Environment.find((entry) => entry.Name === 'FTP_STATE_TABLE');
      assert.equal(refOf(variable?.Value), tableId);
    }
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Environment: Match.arrayWith([{ Name: 'FTP_STATE_TABLE', Value: { Ref: tableId } }]) })]),
    });
    const config = loadConfig({ S3_BUCKET: 'partner-files', FTP_USERS_SECRET_ID: 'users', FTP_STATE_TABLE: 'Bridge-StateTable0A1B2C3D-XYZ' });
    assert.equal(config.state.table, 'Bridge-StateTable0A1B2C3D-XYZ');
  });
});
