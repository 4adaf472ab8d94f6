import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { EMPTY_TLS_DOCUMENT, EMPTY_USERS_DOCUMENT } from '../../lib/bridge-secrets.ts';
import { refOf, resourcesOfType, synthesize } from './stack-fixture.ts';

const EXISTING_STORAGE = {
  bucketName: 'partner-files',
  bucketPrefix: 'ftp/inbound',
  usersSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/users-AbCdEf',
  tlsSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ftp/tls-GhIjKl',
};

describe('bucket, secrets and events', () => {
  test('a new bucket blocks public access, enforces TLS, encrypts, aborts stale multipart uploads, notifies EventBridge and is retained', () => {
    const { template } = synthesize();
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: { Rules: [Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' })] },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      }),
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', { NotificationConfiguration: { EventBridgeConfiguration: {} } });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  // Versioning settings → the bucket's versioning and its lifecycle rules (ids → what they do).
  const versioning: [string, Record<string, unknown>, string | undefined, Record<string, unknown>][] = [
    ['off by default: no versioning, no version rule', {}, undefined, { 'abort-incomplete-multipart-uploads': { AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } } }],
    ['on: replaced and deleted versions kept 30 days, then expired', { bucketVersioning: true }, 'Enabled', {
      'abort-incomplete-multipart-uploads': { AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
      'expire-noncurrent-versions': { NoncurrentVersionExpiration: { NoncurrentDays: 30 }, ExpiredObjectDeleteMarker: true },
    }],
    ['on, versions kept forever', { bucketVersioning: true, bucketNoncurrentVersionDays: 0 }, 'Enabled', {
      'abort-incomplete-multipart-uploads': { AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    }],
  ];
  for (const [name, overrides, status, rules] of versioning) {
    test(`bucket versioning: ${name}`, () => {
      const [bucket] = Object.values(resourcesOfType(synthesize(overrides).template, 'AWS::S3::Bucket'));
      const properties = bucket!.Properties!;
      assert.deepEqual((properties['VersioningConfiguration'] as { Status: string } | undefined)?.Status, status);
      const actual = (properties['LifecycleConfiguration'] as { Rules: Record<string, unknown>[] }).Rules;
      assert.deepEqual(
        Object.fromEntries(actual.map(({ Id, Status, ...rest }) => [Id, (assert.equal(Status, 'Enabled'), rest)])),
        rules,
      );
    });
  }

  for (const [hours, days] of [[0, 1], [24, 1], [25, 2], [72, 3]] as const) {
    test(`pendingUploadHours ${hours}: the tasks keep pending uploads that long, the bucket aborts them after ${days} day(s)`, () => {
      const { template } = synthesize({ pendingUploadHours: hours });
      template.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: days } })]) },
      });
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [Match.objectLike({ Environment: Match.arrayWith([{ Name: 'FTP_PENDING_UPLOAD_HOURS', Value: String(hours) }]) })],
      });
    });
  }

  test('"Object Created" events of the bucket go to a queue with a dead-letter queue', () => {
    const { template } = synthesize();
    const bucket = Object.keys(resourcesOfType(template, 'AWS::S3::Bucket'))[0]!;
    // The bucket's rule (the other one watches ECS task stops).
    const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule')).filter((rule) => JSON.stringify(rule.Properties!['EventPattern']).includes('aws.s3'));
    assert.equal(rules.length, 1);
    const rule = rules[0]!.Properties!;
    assert.deepEqual(rule['EventPattern'], { source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: [{ Ref: bucket }] } } });
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    const target = (rule['Targets'] as Record<string, unknown>[])[0]!;
    const queue = Object.entries(queues).find(([id]) => JSON.stringify(target['Arn']).includes(id))!;
    const redrive = queue[1].Properties!['RedrivePolicy'] as { deadLetterTargetArn: unknown; maxReceiveCount: number };
    assert.equal(redrive.maxReceiveCount, 5);
    const deadLetters = JSON.stringify(redrive.deadLetterTargetArn);
    assert.ok(JSON.stringify(target['DeadLetterConfig']) === JSON.stringify({ Arn: redrive.deadLetterTargetArn }), 'undeliverable events go to the same dead-letter queue');
    assert.ok(Object.keys(queues).some((id) => id !== queue[0] && deadLetters.includes(id)));
    for (const properties of Object.values(queues).map((q) => q.Properties!)) assert.equal(properties['SqsManagedSseEnabled'], true);
    template.hasOutput('ObjectCreatedQueueUrl', { Value: { Ref: queue[0] } });
  });

  test('with a prefix the rule only forwards objects under it', () => {
    const { template } = synthesize({ bucketPrefix: 'ftp' });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: { object: { key: [{ prefix: 'ftp/' }] } } } });
  });

  test('new secrets: placeholder users document, empty TLS document, retained', () => {
    const { template } = synthesize();
    const secrets = Object.values(resourcesOfType(template, 'AWS::SecretsManager::Secret'));
    assert.deepEqual(secrets.map((secret) => secret.Properties!['SecretString']).sort(), [EMPTY_TLS_DOCUMENT, EMPTY_USERS_DOCUMENT].sort());
    for (const secret of secrets) assert.equal(secret.DeletionPolicy, 'Retain');
    assert.deepEqual(JSON.parse(EMPTY_USERS_DOCUMENT), { users: [] });
  });

  test('TLS off creates no TLS secret', () => {
    const { template } = synthesize({ tlsMode: 'off', implicitTlsPort: 0 });
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    assert.equal(template.findOutputs('TlsSecretArn')['TlsSecretArn'], undefined);
  });

  test('an existing bucket and existing secrets are used as they are', () => {
    const { template } = synthesize(EXISTING_STORAGE);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { detail: { bucket: { name: ['partner-files'] }, object: { key: [{ prefix: 'ftp/inbound/' }] } } },
    });
    template.hasOutput('BucketName', { Value: 'partner-files' });
    template.hasOutput('UsersSecretArn', { Value: EXISTING_STORAGE.usersSecretArn });
    const environment = Object.values(resourcesOfType(template, 'AWS::ECS::TaskDefinition')).map(
      (task) => ((task.Properties!['ContainerDefinitions'] as { Environment: { Name: string; Value: unknown }[] }[])[0]!.Environment),
    );
    for (const variables of environment) {
      const value = (name: string) => variables.find((variable) => variable.Name === name)?.Value;
      assert.equal(value('S3_BUCKET'), 'partner-files');
      assert.equal(value('S3_PREFIX'), 'ftp/inbound');
      assert.equal(value('FTP_USERS_SECRET_ID'), EXISTING_STORAGE.usersSecretArn);
      assert.equal(value('FTP_TLS_SECRET_ID'), EXISTING_STORAGE.tlsSecretArn);
    }
  });

  test('outputs: load balancer DNS, Elastic IPs, bucket, queue, secrets', () => {
    const { template } = synthesize();
    const outputs = template.findOutputs('*');
    for (const name of ['LoadBalancerDnsName', 'PublicAddresses', 'PassivePorts', 'BucketName', 'ObjectCreatedQueueUrl', 'ObjectCreatedQueueArn', 'DeadLetterQueueUrl', 'UsersSecretArn', 'TlsSecretArn', 'LogGroupName', 'AlarmTopicArn', 'DashboardName']) {
      assert.ok(outputs[name], `output ${name}`);
    }
    assert.equal(outputs['PassivePorts']!['Value'], '30000-30005');
    assert.match(String(refOf(outputs['UsersSecretArn']!['Value'])), /^SecretsUsers/);
  });
});
