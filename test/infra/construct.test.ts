import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { cdkJsonContext } from '../../lib/cdk-json-settings.ts';
import { FtpS3Bridge, type FtpS3BridgeProps } from '../../lib/ftp-s3-bridge.ts';
import { SettingsError } from '../../lib/settings.ts';
import { CDK_JSON, resourcesOfType } from './stack-fixture.ts';

const IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/example/ftp-s3-bridge:1');

/** A team's own stack with its own VPC, bucket, cluster and topic, and the bridge embedded in it. */
function teamStack(): { stack: Stack; vpc: ec2.Vpc; bucket: s3.Bucket; cluster: ecs.Cluster; topic: sns.Topic } {
  const stack = new Stack(new App({ context: cdkJsonContext(CDK_JSON) }), 'Team');
  const vpc = new ec2.Vpc(stack, 'TeamVpc', { maxAzs: 2, natGateways: 1 });
  const bucket = new s3.Bucket(stack, 'TeamBucket', { eventBridgeEnabled: true });
  const cluster = new ecs.Cluster(stack, 'TeamCluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  const topic = new sns.Topic(stack, 'TeamPager');
  return { stack, vpc, bucket, cluster, topic };
}

describe('FtpS3Bridge, embedded in a team\'s stack', () => {
  test('uses the VPC, bucket, cluster and topic passed in and creates none of its own', () => {
    const { stack, vpc, bucket, cluster, topic } = teamStack();
    const bridge = new FtpS3Bridge(stack, 'Ftp', { vpc, bucket, cluster, alarmTopic: topic, image: IMAGE, settings: { shardCount: 3 } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    assert.equal(bridge.network.vpc, vpc);
    assert.equal(bridge.storage.bucket, bucket);
    assert.equal(bridge.cluster, cluster);
    assert.equal(bridge.monitoring.alarmTopic, topic);
    assert.equal(bridge.shards.length, 3);
    const services = Object.values(resourcesOfType(template, 'AWS::ECS::Service'));
    for (const service of services) assert.deepEqual(service.Properties!['Cluster'], stack.resolve(cluster.clusterName));
    // The team's private subnets (with NAT) hold the tasks; they reach AWS over HTTPS as with an existing VPC.
    const privateSubnets = vpc.privateSubnets.map((subnet) => stack.resolve(subnet.subnetId));
    for (const service of services) {
      const [subnet] = (service.Properties!['NetworkConfiguration'] as { AwsvpcConfiguration: { Subnets: unknown[] } }).AwsvpcConfiguration.Subnets;
      assert.ok(privateSubnets.some((candidate) => JSON.stringify(candidate) === JSON.stringify(subnet)));
    }
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })]),
    });
    const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
    assert.ok(alarms.length > 0);
    for (const alarm of alarms) assert.deepEqual(alarm.Properties!['AlarmActions'], [stack.resolve(topic.topicArn)]);
  });

  test('creates what is not passed in, and exposes it', () => {
    const stack = new Stack(new App({ context: cdkJsonContext(CDK_JSON) }), 'Team');
    const bridge = new FtpS3Bridge(stack, 'Ftp', { image: IMAGE });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    assert.equal(bridge.storage.created, true);
    assert.equal(bridge.settings.shardCount, 2, 'the settings default');
    assert.equal(bridge.shards.length, 2);
    assert.equal(bridge.ftpLoadBalancer.addresses.length, 2);
  });

  // Props that contradict each other or the settings: the message names each problem.
  const refused: [string, (team: ReturnType<typeof teamStack>) => FtpS3BridgeProps, string][] = [
    ['a VPC and a VPC id', ({ vpc }) => ({ vpc, settings: { vpcId: 'vpc-0a1b2c3d4e5f60718', vpcAvailabilityZones: ['eu-west-1a'], vpcPublicSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1'], vpcTaskSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1'] } }),
      'FtpS3Bridge: vpc and settings.vpcId both name a VPC; pass one'],
    ['a bucket and a bucket name', ({ bucket }) => ({ bucket, settings: { bucketName: 'partner-files' } }),
      'FtpS3Bridge: bucket and settings.bucketName both describe the bucket; pass one'],
    ['a bucket passed in, versioned by a setting', ({ bucket }) => ({ bucket, settings: { bucketVersioning: true } }),
      'FtpS3Bridge: settings.bucketVersioning applies to a bucket the bridge creates; turn versioning on for your bucket yourself'],
    ['a cluster without its VPC', ({ cluster }) => ({ cluster }), 'FtpS3Bridge: cluster needs the vpc it runs in: pass vpc too'],
    ['a cluster in another VPC', ({ stack, cluster }) => ({ cluster, vpc: new ec2.Vpc(stack, 'Other', { maxAzs: 2 }) }), 'FtpS3Bridge: cluster must be in the vpc passed in'],
    ['a topic and an alarm address', ({ topic }) => ({ alarmTopic: topic, settings: { alarmEmail: 'ops@example.com' } }),
      'FtpS3Bridge: alarmTopic and settings.alarmEmail both say where alarms go; subscribe to your topic there'],
  ];
  for (const [name, props, message] of refused) {
    test(`refuses ${name}`, () => {
      const team = teamStack();
      assert.throws(() => new FtpS3Bridge(team.stack, 'Ftp', { image: IMAGE, ...props(team) }), { message });
    });
  }

  test('invalid settings are refused with every problem, as from the command line', () => {
    const { stack } = teamStack();
    assert.throws(() => new FtpS3Bridge(stack, 'Ftp', { image: IMAGE, settings: { shardCount: 0, alarmMemoryPercent: 120 } }), (error: unknown) => {
      assert.ok(error instanceof SettingsError);
      assert.deepEqual(error.problems, [
        'bridge:shardCount: expected a whole number from 1 to 50, got 0',
        'bridge:alarmMemoryPercent: expected a whole number from 1 to 100, got 120',
      ]);
      return true;
    });
  });
});
