import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../runtime/src/config.ts';
import { UPLOAD_COMPLETED, UPLOAD_EVENT_SOURCE, UPLOAD_FAILED } from '../../runtime/src/events/upload-event-names.ts';
import { refOf, resourcesOfType, synthesize } from './stack-fixture.ts';

/** Upload events, their grant and their subscription; what makes a deploy quiet for partners. */
describe('operations: upload events and deploys', () => {
  const synthesized = synthesize({ shardCount: 3 });
  const { template, stack } = synthesized;

  const environments = () =>
    Object.values(resourcesOfType(template, 'AWS::ECS::TaskDefinition')).map((definition) => {
      const [container] = definition.Properties!['ContainerDefinitions'] as { Environment: { Name: string; Value: unknown }[] }[];
      return Object.fromEntries(container!.Environment.map(({ Name, Value }) => [Name, Value]));
    });

  test('every shard sends its upload events to the default bus, and the runtime reads that setting as written', () => {
    for (const environment of environments()) {
      assert.equal(environment['FTP_UPLOAD_EVENTS_BUS'], 'default');
      const config = loadConfig({ ...environment, FTP_USERS_SECRET_ID: 'users', S3_BUCKET: 'bucket', FTP_PASSIVE_ADDRESS: '198.51.100.7', FTP_TLS_SECRET_ID: 'tls' } as NodeJS.ProcessEnv);
      assert.equal(config.uploadEventsBus, 'default');
      assert.match(config.metrics?.shard ?? '', /^shard-[123]$/);
    }
  });

  test('the task role may put events on the default bus, and on nothing else', () => {
    const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'));
    const statements = policies.flatMap((policy) => (policy.Properties!['PolicyDocument'] as { Statement: Record<string, unknown>[] }).Statement);
    const putEvents = statements.filter((statement) => [statement['Action']].flat().some((action) => String(action).startsWith('events:')));
    assert.equal(putEvents.length, 1);
    assert.equal(putEvents[0]!['Action'], 'events:PutEvents');
    assert.equal(putEvents[0]!['Sid'], 'UploadEvents');
    assert.match(JSON.stringify(putEvents[0]!['Resource']), /:event-bus\/default"/);
    const taskRole = refOf(stack.resolve(stack.bridge.taskRole.role.roleName));
    const owner = policies.find((policy) => JSON.stringify(policy.Properties!['PolicyDocument']).includes('events:PutEvents'))!;
    assert.deepEqual((owner.Properties!['Roles'] as unknown[]).map(refOf), [taskRole]);
  });

  test('the object-created queue subscribes to the upload events too, with its dead-letter queue and retries', () => {
    const queue = refOf(stack.resolve(stack.bridge.objectCreated.queue.queueArn)) ?? '';
    const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule')).map((rule) => rule.Properties!);
    const upload = rules.filter((rule) => JSON.stringify(rule['EventPattern']).includes(UPLOAD_EVENT_SOURCE));
    assert.equal(upload.length, 1);
    assert.deepEqual(upload[0]!['EventPattern'], { source: [UPLOAD_EVENT_SOURCE], 'detail-type': [UPLOAD_COMPLETED, UPLOAD_FAILED] });
    assert.equal(upload[0]!['EventBusName'], undefined, 'the default bus, where the tasks send them');
    const [target] = upload[0]!['Targets'] as { Arn: unknown; DeadLetterConfig?: { Arn: unknown }; RetryPolicy?: unknown }[];
    assert.ok(JSON.stringify(target!.Arn).includes(queue));
    assert.ok(target!.DeadLetterConfig !== undefined);
    assert.deepEqual(target!.RetryPolicy, { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
    // The queue's policy lets EventBridge deliver both rules' events.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage' })]) },
    });
  });

  test('a stopping task leaves the load balancer 10 s before SIGTERM, and the load balancer never cuts its sessions itself', () => {
    for (const [id, group] of Object.entries(resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup'))) {
      const attributes = Object.fromEntries((group.Properties!['TargetGroupAttributes'] as { Key: string; Value: string }[]).map((a) => [a.Key, a.Value]));
      assert.equal(attributes['deregistration_delay.timeout_seconds'], '10', id);
      assert.equal(attributes['deregistration_delay.connection_termination.enabled'], 'false', id);
    }
  });

  test('one task per shard even while deploying (a second task would take half of the shard\'s passive connections), shards one at a time', () => {
    const services = Object.entries(resourcesOfType(template, 'AWS::ECS::Service'));
    assert.equal(services.length, 3);
    for (const [id, service] of services) {
      const configuration = service.Properties!['DeploymentConfiguration'] as { MaximumPercent: number; MinimumHealthyPercent: number };
      assert.deepEqual([configuration.MaximumPercent, configuration.MinimumHealthyPercent], [100, 0], id);
    }
  });

  test('outputs name the cluster and every shard\'s service, in order, for rolling one shard at a time', () => {
    const outputs = template.findOutputs('*');
    assert.deepEqual(outputs['ClusterName']!['Value'], stack.resolve(stack.bridge.cluster.clusterName));
    const joined = outputs['ShardServices']!['Value'] as { 'Fn::Join': [string, unknown[]] };
    assert.deepEqual(joined['Fn::Join'][1], stack.bridge.shards.map((shard) => stack.resolve(shard.service.serviceName)));
  });
});
