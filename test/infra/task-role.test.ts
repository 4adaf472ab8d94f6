import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BridgeSettings } from '../../lib/settings.ts';
import { getAttOf, refOf, resourcesOfType, synthesize } from './stack-fixture.ts';
import type { Synthesized } from './stack-fixture.ts';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** The statements of every policy attached to the role that `taskRoleArn` of the task definitions names. */
function taskRoleStatements({ template }: Synthesized): Statement[] {
  const tasks = Object.values(resourcesOfType(template, 'AWS::ECS::TaskDefinition'));
  const roles = new Set(tasks.map((task) => getAttOf(task.Properties!['TaskRoleArn'])!.split('.')[0]));
  assert.equal(roles.size, 1, 'every shard uses the one task role');
  const [role] = [...roles];
  const roleResource = resourcesOfType(template, 'AWS::IAM::Role')[role!]!;
  assert.equal(roleResource.Properties!['ManagedPolicyArns'], undefined, 'no managed policies');
  assert.equal(roleResource.Properties!['Policies'], undefined, 'no inline policies besides the default policy');
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties!['Roles'] as unknown[]).some((r) => refOf(r) === role))
    .flatMap((policy) => (policy.Properties!['PolicyDocument'] as { Statement: Statement[] }).Statement);
}

/** A resource, flattened: `{ Fn::Join }` pieces concatenated, references as <Id.Attr>. */
function flat(resource: unknown): string {
  if (typeof resource === 'string') return resource;
  const value = resource as Record<string, unknown>;
  if (value['Fn::Join']) return (value['Fn::Join'] as [string, unknown[]])[1].map(flat).join((value['Fn::Join'] as [string])[0]);
  if (value['Fn::GetAtt']) return `<${getAttOf(value)}>`;
  if (value['Ref']) return `<${String(value['Ref'])}>`;
  return JSON.stringify(resource);
}

describe('task role', () => {
  // Each case: settings, and the exact statements (sid → actions, resources as flattened, condition).
  const cases: [string, Partial<BridgeSettings>, (bucket: string) => Record<string, [string[], string[], unknown]>][] = [
    [
      'new bucket, whole bucket, stack-created secrets',
      {},
      () => ({
        Objects: [['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'], ['<StorageBucket.Arn>/*'], undefined],
        List: [['s3:ListBucket'], ['<StorageBucket.Arn>'], undefined],
        UploadEvents: [['events:PutEvents'], ['arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default'], undefined],
        Secrets: [['secretsmanager:GetSecretValue'], ['<SecretsTls>', '<SecretsUsers>'], undefined],
      }),
    ],
    [
      'existing KMS-encrypted bucket under a prefix, existing secrets',
      {
        bucketName: 'partner-files',
        bucketPrefix: 'ftp/inbound',
        bucketKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        usersSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/users-AbCdEf',
        tlsSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/tls-GhIjKl',
      },
      () => ({
        Objects: [['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'], ['arn:<AWS::Partition>:s3:::partner-files/ftp/inbound/*'], undefined],
        List: [['s3:ListBucket'], ['arn:<AWS::Partition>:s3:::partner-files'], { StringLike: { 's3:prefix': ['ftp/inbound/', 'ftp/inbound/*'] } }],
        UploadEvents: [['events:PutEvents'], ['arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default'], undefined],
        Secrets: [
          ['secretsmanager:GetSecretValue'],
          ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/tls-GhIjKl', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/users-AbCdEf'],
          undefined,
        ],
        BucketKey: [['kms:Decrypt', 'kms:GenerateDataKey'], ['arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'], undefined],
      }),
    ],
    [
      'existing secrets, each encrypted with a customer managed key: kms:Decrypt on those keys, through Secrets Manager only',
      {
        usersSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/users-AbCdEf',
        usersSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/aaaaaaaa-12ab-34cd-56ef-1234567890ab',
        tlsSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/tls-GhIjKl',
        tlsSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/bbbbbbbb-12ab-34cd-56ef-1234567890ab',
      },
      () => ({
        Objects: [['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'], ['<StorageBucket.Arn>/*'], undefined],
        List: [['s3:ListBucket'], ['<StorageBucket.Arn>'], undefined],
        UploadEvents: [['events:PutEvents'], ['arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default'], undefined],
        Secrets: [
          ['secretsmanager:GetSecretValue'],
          ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/tls-GhIjKl', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/users-AbCdEf'],
          undefined,
        ],
        SecretKeys: [
          ['kms:Decrypt'],
          ['arn:aws:kms:eu-west-1:123456789012:key/aaaaaaaa-12ab-34cd-56ef-1234567890ab', 'arn:aws:kms:eu-west-1:123456789012:key/bbbbbbbb-12ab-34cd-56ef-1234567890ab'],
          { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
        ],
      }),
    ],
    [
      'one key for both secrets is granted once; TLS off grants none for the TLS secret',
      {
        usersSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/users-AbCdEf',
        usersSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/aaaaaaaa-12ab-34cd-56ef-1234567890ab',
        tlsSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/tls-GhIjKl',
        tlsSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/bbbbbbbb-12ab-34cd-56ef-1234567890ab',
        tlsMode: 'off',
        implicitTlsPort: 0,
      },
      () => ({
        Objects: [['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'], ['<StorageBucket.Arn>/*'], undefined],
        List: [['s3:ListBucket'], ['<StorageBucket.Arn>'], undefined],
        UploadEvents: [['events:PutEvents'], ['arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default'], undefined],
        Secrets: [['secretsmanager:GetSecretValue'], ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/users-AbCdEf'], undefined],
        SecretKeys: [
          ['kms:Decrypt'],
          ['arn:aws:kms:eu-west-1:123456789012:key/aaaaaaaa-12ab-34cd-56ef-1234567890ab'],
          { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
        ],
      }),
    ],
  ];
  for (const [name, overrides, expected] of cases) {
    test(`only the actions the bridge uses, on named resources: ${name}`, () => {
      const statements = taskRoleStatements(synthesize(overrides));
      const actual = Object.fromEntries(
        statements.map((statement) => [
          statement.Sid,
          [
            list(statement.Action).sort(),
            list(statement.Resource).map(flat).map((r) => r.replace(/(StorageBucket|SecretsTls|SecretsUsers)[0-9A-F]{8}/g, '$1')).sort(),
            statement.Condition,
          ],
        ]),
      );
      assert.deepEqual(actual, expected(''));
      for (const statement of statements) assert.equal(statement.Effect, 'Allow');
    });
  }

  test('no broad wildcards: no action wildcard, no "*" resource, a wildcard only after the bucket\'s prefix', () => {
    for (const overrides of [{}, { bucketPrefix: 'ftp' }, { bucketName: 'partner-files' }]) {
      for (const statement of taskRoleStatements(synthesize(overrides))) {
        for (const action of list(statement.Action)) assert.ok(!action.includes('*'), `wildcard action ${action}`);
        for (const resource of list(statement.Resource).map(flat)) {
          assert.notEqual(resource, '*');
          if (resource.includes('*')) {
            assert.equal(statement.Sid, 'Objects', `wildcard outside object access: ${resource}`);
            assert.match(resource, /^(<StorageBucket[0-9A-F]{8}\.Arn>|arn:<AWS::Partition>:s3:::partner-files)\/(ftp\/)?\*$/);
          }
        }
      }
    }
  });

  test('the task execution role may only pull images and write logs; the trust policy is scoped to the account', () => {
    const { template, stack } = synthesize();
    const executionRole = getAttOf(stack.resolve(stack.bridge.executionRole.roleArn))!.split('.')[0];
    const actions = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties!['Roles'] as unknown[]).some((r) => refOf(r) === executionRole))
      .flatMap((policy) => (policy.Properties!['PolicyDocument'] as { Statement: Statement[] }).Statement)
      .flatMap((statement) => list(statement.Action));
    assert.deepEqual([...new Set(actions)].sort(), [
      'ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'ecr:GetDownloadUrlForLayer', 'logs:CreateLogStream', 'logs:PutLogEvents',
    ]);
    const taskRole = getAttOf(stack.resolve(stack.bridge.taskRole.role.roleArn))!.split('.')[0]!;
    const trust = resourcesOfType(template, 'AWS::IAM::Role')[taskRole]!.Properties!['AssumeRolePolicyDocument'] as { Statement: Statement[] };
    assert.deepEqual(trust.Statement[0]!.Condition, { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
  });
});
