import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../runtime/src/config.ts';
import { SettingsError } from '../../lib/settings.ts';
import { getAttOf, refOf, resourcesOfType, settingsWith, synthesize } from './stack-fixture.ts';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of every IAM policy in the template. */
function statements(template: ReturnType<typeof synthesize>['template']): Statement[] {
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).flatMap(
    (policy) => (policy.Properties!['PolicyDocument'] as { Statement: Statement[] }).Statement,
  );
}

function containerEnvironment(template: ReturnType<typeof synthesize>['template']): Record<string, unknown> {
  const [task] = Object.values(resourcesOfType(template, 'AWS::ECS::TaskDefinition'));
  const [container] = task!.Properties!['ContainerDefinitions'] as Array<{ Environment: Array<{ Name: string; Value: unknown }> }>;
  return Object.fromEntries(container!.Environment.map(({ Name, Value }) => [Name, Value]));
}

/** The users tables of the template (the shared-state table, keyed by pk, is always there). */
function usersTables(template: ReturnType<typeof synthesize>['template']): string[] {
  return Object.entries(resourcesOfType(template, 'AWS::DynamoDB::Table'))
    .filter(([, table]) => (table.Properties!['KeySchema'] as Array<{ AttributeName: string }>)[0]?.AttributeName === 'username')
    .map(([id]) => id);
}

describe('the users table (setting usersStore)', () => {
  test('default "secret": no table; the task reads the users secret', () => {
    const { template } = synthesize();
    assert.deepEqual(usersTables(template), []);
    const environment = containerEnvironment(template);
    assert.ok(environment['FTP_USERS_SECRET_ID'] !== undefined);
    assert.equal(environment['FTP_USERS_TABLE'], undefined);
  });

  test('"table": on demand, point-in-time recovery, retained, keyed by username', () => {
    const { template } = synthesize({ usersStore: 'table' });
    assert.equal(usersTables(template).length, 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        KeySchema: [{ AttributeName: 'username', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'username', AttributeType: 'S' }],
      }),
    });
    template.hasOutput('UsersTableName', Match.anyValue());
  });

  test('"table": the container gets FTP_USERS_TABLE instead of the secret, and the runtime accepts it', () => {
    const { template } = synthesize({ usersStore: 'table' });
    const environment = containerEnvironment(template);
    const [table] = usersTables(template);
    assert.equal(refOf(environment['FTP_USERS_TABLE']), table);
    assert.equal(environment['FTP_USERS_SECRET_ID'], undefined);
    const config = loadConfig({ S3_BUCKET: 'bucket', FTP_TLS_MODE: 'off', FTP_USERS_TABLE: 'Bridge-UsersTable-ABC' });
    assert.deepEqual(config.users, { kind: 'table', tableName: 'Bridge-UsersTable-ABC' });
  });

  test('"table": the task role may only Scan that table (besides the state table\'s items), and no longer reads the users secret', () => {
    const { template } = synthesize({ usersStore: 'table' });
    const [table] = usersTables(template);
    const dynamo = statements(template).filter(
      (statement) => statement.Sid !== 'State' && [statement.Action].flat().some((action) => action.startsWith('dynamodb:')),
    );
    assert.deepEqual(
      dynamo.map((statement) => [statement.Action, getAttOf(statement.Resource)]),
      [['dynamodb:Scan', `${table}.Arn`]],
    );
    const secretReads = statements(template).filter((statement) => statement.Sid === 'Secrets');
    const [secret] = Object.keys(resourcesOfType(template, 'AWS::SecretsManager::Secret')).filter((id) => id.includes('Users'));
    for (const statement of secretReads) assert.ok(![statement.Resource].flat().some((resource) => refOf(resource) === secret), 'the users secret is not read');
  });

  test('a bad usersStore is a settings error naming the choices', () => {
    assert.throws(() => settingsWith({ usersStore: 'dynamo' as never }), (error: unknown) => error instanceof SettingsError && /usersStore/.test(error.message) && /table/.test(error.message));
  });
});
