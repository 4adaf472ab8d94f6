import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refOf, resourcesOfType, synthesize } from './stack-fixture.ts';

describe('monitoring', () => {
  const synthesized = synthesize({ shardCount: 3 });
  const { template, settings } = synthesized;
  const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');

  test('metric filters on the runtime\'s log events', () => {
    const filters = Object.values(resourcesOfType(template, 'AWS::Logs::MetricFilter')).map((filter) => filter.Properties!);
    const byName = Object.fromEntries(
      filters.map((filter) => {
        const transformation = (filter['MetricTransformations'] as { MetricName: string; MetricValue: string }[])[0]!;
        return [transformation.MetricName, [filter['FilterPattern'], transformation.MetricValue]];
      }),
    );
    assert.deepEqual(byName, {
      TransfersOk: ['{ ($.event = "transfer") && ($.outcome = "ok") }', '1'],
      TransfersFailed: ['{ ($.event = "transfer") && ($.outcome = "failed") }', '1'],
      BytesTransferred: ['{ ($.event = "transfer") && ($.outcome = "ok") }', '$.bytes'],
      LoginsOk: ['{ ($.event = "login") && ($.outcome = "ok") }', '1'],
      LoginsFailed: ['{ ($.event = "login") && ($.outcome = "failed") }', '1'],
      StorageErrors: ['{ $.event = "storage-error" }', '1'],
      SessionsOpened: ['{ $.event = "session-open" }', '1'],
      DataConnectionFailures: ['{ ($.event = "data-connection-timeout") || ($.event = "data-connection-failed") }', '1'],
    });
    // One series per reason the runtime gives; CloudWatch refuses a default value with dimensions.
    const failures = filters.find((filter) => String(filter['FilterPattern']).includes('data-connection-failed'))!;
    const [transformation] = failures['MetricTransformations'] as { Dimensions?: unknown; DefaultValue?: unknown }[];
    assert.deepEqual(transformation!.Dimensions, [{ Key: 'Reason', Value: '$.reason' }]);
    assert.equal(transformation!.DefaultValue, undefined);

    const logGroup = synthesized.stack.resolve(synthesized.stack.logGroup.logGroupName);
    for (const filter of filters) assert.deepEqual(filter['LogGroupName'], logGroup);
  });

  test('an unhealthy-targets alarm on every target group', () => {
    const groups = Object.keys(resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup'));
    const watched = Object.values(alarms)
      .filter((alarm) => alarm.Properties!['MetricName'] === 'UnHealthyHostCount')
      .map((alarm) => JSON.stringify(alarm.Properties!['Dimensions']));
    assert.equal(watched.length, groups.length);
    for (const group of groups) assert.equal(watched.filter((dimensions) => dimensions.includes(group)).length, 1, group);
  });

  test('a running-task alarm per shard, and alarms on storage errors, failed transfers and failed logins', () => {
    const services = Object.keys(resourcesOfType(template, 'AWS::ECS::Service'));
    const running = Object.values(alarms).filter((alarm) => alarm.Properties!['MetricName'] === 'RunningTaskCount');
    assert.equal(running.length, settings.shardCount);
    for (const service of services) assert.ok(running.some((alarm) => JSON.stringify(alarm.Properties!['Dimensions']).includes(service)), service);
    for (const alarm of running) {
      assert.equal(alarm.Properties!['ComparisonOperator'], 'LessThanThreshold');
      assert.equal(alarm.Properties!['Threshold'], 1);
    }
    const byMetric = (name: string) => Object.values(alarms).filter((alarm) => alarm.Properties!['MetricName'] === name);
    assert.equal(byMetric('StorageErrors').length, 1);
    assert.equal(byMetric('TransfersFailed').length, 1);
    assert.equal(byMetric('LoginsFailed').length, 1);
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });

  test('every alarm notifies the alarm topic, which is an output', () => {
    const topics = Object.keys(resourcesOfType(template, 'AWS::SNS::Topic'));
    assert.equal(topics.length, 1);
    for (const [id, alarm] of Object.entries(alarms)) {
      assert.deepEqual((alarm.Properties!['AlarmActions'] as unknown[]).map(refOf), [topics[0]], id);
    }
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topics[0] } });
  });

  test('a dashboard with the alarms, shards, targets, flows, transfers, logins and storage errors', () => {
    const dashboards = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    assert.equal(dashboards.length, 1);
    const body = JSON.stringify(dashboards[0]!.Properties!['DashboardBody']);
    for (const title of ['Alarms', 'Running tasks per shard', 'Healthy targets', 'Load balancer flows', 'Transfers', 'Sessions and logins', 'Storage errors', 'Recent failures']) {
      assert.ok(body.includes(`\\"title\\":\\"${title}\\"`), title);
    }
  });
});
