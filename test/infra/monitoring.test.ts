import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import type { BridgeSettings } from '../../lib/settings.ts';
import { refOf, resourcesOfType, synthesize } from './stack-fixture.ts';

type AlarmProperties = Record<string, unknown>;

/**
 * CloudWatch's M-out-of-N evaluation over one-minute points, oldest first (undefined = no
 * data): whether the alarm goes to ALARM at any minute of the timeline.
 */
function everAlarms(alarm: AlarmProperties, points: readonly (number | undefined)[]): boolean {
  return points.some((_, minute) => alarmsAt(alarm, points.slice(0, minute + 1)));
}

/** The M-out-of-N evaluation after the last of `points`. */
function alarmsAt(alarm: AlarmProperties, points: readonly (number | undefined)[]): boolean {
  const periods = alarm['EvaluationPeriods'] as number;
  const datapoints = (alarm['DatapointsToAlarm'] as number | undefined) ?? periods;
  const threshold = alarm['Threshold'] as number;
  const breaches = (value: number) =>
    ({ LessThanThreshold: value < threshold, GreaterThanOrEqualToThreshold: value >= threshold })[alarm['ComparisonOperator'] as string]!;
  const missing = alarm['TreatMissingData'] as string;
  const window = points.slice(-periods);
  const breaching = window.filter((value) => (value === undefined ? missing === 'breaching' : breaches(value))).length;
  return breaching >= datapoints;
}

/** One-minute running-task points: `up` minutes with a task, then `down` without (no data, as Container Insights then sends none), ... */
function timeline(...phases: [up: number, down: number][]): (number | undefined)[] {
  return phases.flatMap(([up, down]) => [...Array<number>(up).fill(1), ...Array<undefined>(down).fill(undefined)]);
}

describe('monitoring', () => {
  const synthesized = synthesize({ shardCount: 3 });
  const { template, settings } = synthesized;
  const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');

  test('only start-failed and users-invalid stay log metric filters: the rest are the runtime\'s own metrics', () => {
    const filters = Object.values(resourcesOfType(template, 'AWS::Logs::MetricFilter')).map((filter) => filter.Properties!);
    const byName = Object.fromEntries(
      filters.map((filter) => {
        const transformation = (filter['MetricTransformations'] as { MetricName: string; MetricValue: string }[])[0]!;
        return [transformation.MetricName, [filter['FilterPattern'], transformation.MetricValue]];
      }),
    );
    assert.deepEqual(byName, {
      StartFailures: ['{ $.event = "start-failed" }', '1'],
      UsersInvalid: ['{ $.event = "users-invalid" }', '1'],
    });
    const logGroup = synthesized.stack.resolve(synthesized.stack.bridge.logGroup.logGroupName);
    for (const filter of filters) assert.deepEqual(filter['LogGroupName'], logGroup);
  });

  test('every shard\'s container writes the runtime metrics into the alarms\' namespace, with its shard as dimension', () => {
    const namespace = synthesized.stack.bridge.monitoring.namespace;
    const definitions = Object.values(resourcesOfType(template, 'AWS::ECS::TaskDefinition'));
    assert.equal(definitions.length, settings.shardCount);
    const shards = definitions.map((definition) => {
      const [container] = definition.Properties!['ContainerDefinitions'] as { Environment: { Name: string; Value: unknown }[] }[];
      const env = Object.fromEntries(container!.Environment.map(({ Name, Value }) => [Name, Value]));
      assert.equal(env['FTP_METRICS_NAMESPACE'], namespace);
      return env['FTP_METRICS_SHARD'];
    });
    assert.deepEqual(shards.sort(), ['shard-1', 'shard-2', 'shard-3']);
  });

  test('the transfer, login and storage alarms watch the runtime\'s service-wide totals (no dimension), listings excluded', () => {
    const namespace = synthesized.stack.bridge.monitoring.namespace;
    const byMetric = (name: string) => Object.values(alarms).filter((alarm) => alarm.Properties!['MetricName'] === name);
    for (const name of ['TransfersFailed', 'StorageErrors']) {
      const [alarm] = byMetric(name);
      assert.equal(alarm?.Properties!['Namespace'], namespace, name);
      assert.equal(alarm?.Properties!['Dimensions'], undefined, `${name}: the total over every shard`);
      assert.equal(alarm?.Properties!['Statistic'], 'Sum');
      assert.equal(alarm?.Properties!['TreatMissingData'], 'notBreaching');
    }
    assert.equal(byMetric('TransfersFailed')[0]!.Properties!['Threshold'], 10);
    // Refused logins: failures and lock-outs together, each filled with 0 where a task wrote none.
    const logins = Object.entries(alarms).find(([id]) => id.startsWith('MonitoringLoginsFailedAlarm'))![1].Properties!;
    const queries = logins['Metrics'] as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string } } }[];
    assert.equal(queries.find((query) => query.Expression !== undefined)?.Expression, 'FILL(failed, 0) + FILL(locked, 0)');
    assert.deepEqual(
      queries.filter((query) => query.MetricStat).map((query) => [query.Id, query.MetricStat!.Metric.MetricName, query.MetricStat!.Metric.Namespace]),
      [['failed', 'LoginsFailed', namespace], ['locked', 'LoginsLocked', namespace]],
    );
    assert.equal(logins['Threshold'], 20);
  });

  test('a certificate-expiry alarm on the least days left of any task, only with TLS, its threshold a setting', () => {
    const expiry = (template: typeof synthesized.template) =>
      Object.entries(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).filter(([id]) => id.startsWith('MonitoringCertificateExpiryAlarm'));
    const found = expiry(template);
    assert.equal(found.length, 1);
    const alarm = found[0]![1].Properties!;
    assert.deepEqual(
      [alarm['MetricName'], alarm['Namespace'], alarm['Statistic'], alarm['Dimensions']],
      ['CertificateDaysLeft', synthesized.stack.bridge.monitoring.namespace, 'Minimum', undefined],
    );
    assert.deepEqual([alarm['ComparisonOperator'], alarm['Threshold']], ['LessThanThreshold', 30]);
    assert.equal(alarm['TreatMissingData'], 'notBreaching');
    assert.deepEqual(expiry(synthesize({ tlsMode: 'off', implicitTlsPort: 0 }).template), []);
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
    assert.ok(Object.keys(alarms).some((id) => id.startsWith('MonitoringLoginsFailedAlarm')));
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });

  const shardDown: [string, (number | undefined)[], boolean][] = [
    ['a stop-first deploy (5 minutes without a task) is not an alarm at any minute', timeline([30, 5], [10, 0]), false],
    ['two deploys 10 minutes apart', timeline([30, 5], [10, 5], [3, 0]), false],
    ['two deploys back to back leave it down 10 minutes in 12: that is one', timeline([30, 5], [2, 5]), true],
    ['a shard down for 10 minutes is', timeline([30, 10]), true],
    ['a shard whose metric reads 0 for 10 minutes is', [...timeline([30, 0]), ...Array<number>(10).fill(0)], true],
    ['a crash loop up 1 minute in 3 is', timeline([30, 0], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2]), true],
  ];
  for (const [name, points, expected] of shardDown) {
    test(`ShardNNotRunning: ${name}`, () => {
      const shard1 = Object.entries(alarms).find(([id]) => id.startsWith('MonitoringShard1NotRunning'))![1].Properties!;
      assert.equal(shard1['TreatMissingData'], 'breaching', 'a shard whose metrics stop must not look healthy');
      assert.equal(everAlarms(shard1, points), expected);
    });
  }

  test('a memory alarm per shard, on ECS\'s memory use of the task', () => {
    const memory = Object.values(alarms).filter((alarm) => alarm.Properties!['MetricName'] === 'MemoryUtilization');
    assert.equal(memory.length, settings.shardCount);
    for (const service of Object.keys(resourcesOfType(template, 'AWS::ECS::Service'))) {
      const alarm = memory.find((candidate) => JSON.stringify(candidate.Properties!['Dimensions']).includes(service))!.Properties!;
      assert.equal(alarm['Namespace'], 'AWS/ECS');
      assert.equal(alarm['Threshold'], 85);
      assert.deepEqual([alarm['DatapointsToAlarm'], alarm['EvaluationPeriods']], [3, 5]);
    }
  });

  test('start-failed and users-invalid raise an alarm at their first line', () => {
    for (const metric of ['StartFailures', 'UsersInvalid']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  test('tasks stopping on their own (not a deploy) are kept and counted: a crash loop raises an alarm', () => {
    const rules = Object.entries(resourcesOfType(template, 'AWS::Events::Rule')).filter(([, rule]) =>
      JSON.stringify(rule.Properties!['EventPattern']).includes('ECS Task State Change'),
    );
    assert.equal(rules.length, 1);
    const [ruleId, rule] = rules[0]!;
    const cluster = Object.keys(resourcesOfType(template, 'AWS::ECS::Cluster'))[0]!;
    assert.deepEqual(rule.Properties!['EventPattern'], {
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: [{ 'Fn::GetAtt': [cluster, 'Arn'] }],
        lastStatus: ['STOPPED'],
        $or: [{ stopCode: ['EssentialContainerExited', 'TaskFailedToStart'] }, { stoppedReason: [{ prefix: 'Task failed ELB health checks' }] }],
      },
    });
    const [target] = rule.Properties!['Targets'] as { Arn: unknown }[];
    assert.ok(JSON.stringify(target!.Arn).includes('MonitoringTaskStops'), 'the stops and their reasons land in a log group');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Events',
      MetricName: 'MatchedEvents',
      Dimensions: [{ Name: 'RuleName', Value: { Ref: ruleId } }],
      Statistic: 'Sum',
      Period: 900,
      Threshold: 3,
    });
  });

  test('a message in the object-created dead-letter queue raises an alarm', () => {
    const queue = synthesized.stack.resolve(synthesized.stack.bridge.objectCreated.deadLetterQueue.queueName);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: queue }],
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
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
    for (const title of ['Alarms', 'Running tasks per shard', 'Healthy targets', 'Load balancer flows', 'Transfers (uploads and downloads)', 'Sessions and logins', 'Storage errors', 'Recent failures']) {
      assert.ok(body.includes(`\\"title\\":\\"${title}\\"`), title);
    }
  });
});

describe('alarm settings', () => {
  const byMetric = (template: ReturnType<typeof synthesize>['template'], name: string) =>
    Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))
      .map((alarm) => alarm.Properties!)
      // A metric-math alarm names its metrics inside `Metrics`.
      .filter((alarm) => alarm['MetricName'] === name || JSON.stringify(alarm['Metrics'] ?? []).includes(`"MetricName":"${name}"`));
  // Each setting, a value and what it must change in the alarm of `metric`.
  const thresholds: [Partial<BridgeSettings>, string, Record<string, unknown>][] = [
    [{ alarmFailedTransfers: 3 }, 'TransfersFailed', { Threshold: 3 }],
    [{ alarmFailedLogins: 100 }, 'LoginsFailed', { Threshold: 100 }],
    [{ alarmDeadLetterMessages: 50 }, 'ApproximateNumberOfMessagesVisible', { Threshold: 50 }],
    [{ alarmMemoryPercent: 70 }, 'MemoryUtilization', { Threshold: 70 }],
    [{ alarmTaskStops: 5 }, 'MatchedEvents', { Threshold: 5 }],
    [{ alarmShardDownMinutes: 20 }, 'RunningTaskCount', { DatapointsToAlarm: 20, EvaluationPeriods: 25 }],
    [{ alarmCertificateDays: 45 }, 'CertificateDaysLeft', { Threshold: 45 }],
  ];
  for (const [overrides, metric, expected] of thresholds) {
    test(`${Object.keys(overrides)[0]} sets the ${metric} alarm`, () => {
      const found = byMetric(synthesize(overrides).template, metric);
      assert.ok(found.length > 0);
      for (const alarm of found) assert.deepEqual(Object.fromEntries(Object.keys(expected).map((key) => [key, alarm[key]])), expected);
    });
  }

  test('alarmEmail subscribes the address to the new topic', () => {
    const { template } = synthesize({ alarmEmail: 'ops@example.com' });
    const topic = Object.keys(resourcesOfType(template, 'AWS::SNS::Topic'))[0]!;
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topic } });
  });

  test('alarmTopicArn: no topic of the stack\'s own, every alarm notifies the given one', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:ops-paging';
    const { template } = synthesize({ alarmTopicArn: arn });
    assert.deepEqual(resourcesOfType(template, 'AWS::SNS::Topic'), {});
    assert.deepEqual(resourcesOfType(template, 'AWS::SNS::Subscription'), {});
    for (const [id, alarm] of Object.entries(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))) {
      assert.deepEqual(alarm.Properties!['AlarmActions'], [arn], id);
      assert.deepEqual(alarm.Properties!['OKActions'], [arn], id);
    }
    template.hasOutput('AlarmTopicArn', { Value: arn });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.arrayWith([arn]) });
  });
});
