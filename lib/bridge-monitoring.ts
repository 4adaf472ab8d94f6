import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface BridgeMonitoringProps {
  /** The runtime's log group (pino JSON lines with an `event` field). */
  readonly logGroup: logs.ILogGroup;
  readonly cluster: ecs.ICluster;
  /** One service per shard, in shard order. */
  readonly services: readonly ecs.FargateService[];
  readonly loadBalancer: elbv2.INetworkLoadBalancer & { readonly metrics: elbv2.INetworkLoadBalancerMetrics };
  /** Every target group, named for the dashboard and the alarm names. */
  readonly targetGroups: ReadonlyMap<string, elbv2.NetworkTargetGroup>;
  /**
   * Failed transfers in 5 minutes that raise an alarm.
   * @default 10
   */
  readonly failedTransfersThreshold?: number;
  /**
   * Failed logins in 5 minutes that raise an alarm (password guessing).
   * @default 20
   */
  readonly failedLoginsThreshold?: number;
}

/** The metric of failed data connections, one series per `reason` of the log line. */
export const DATA_CONNECTION_FAILURES = 'DataConnectionFailures';

/** Metrics derived from the runtime's log events. */
export interface LogMetrics {
  readonly transfersOk: cloudwatch.Metric;
  readonly transfersFailed: cloudwatch.Metric;
  readonly bytesTransferred: cloudwatch.Metric;
  readonly loginsOk: cloudwatch.Metric;
  readonly loginsFailed: cloudwatch.Metric;
  readonly storageErrors: cloudwatch.Metric;
  readonly sessionsOpened: cloudwatch.Metric;
  /**
   * Data connections that failed, with a `Reason` dimension (passive-timeout,
   * active-refused, tls-session-not-resumed, ...): a partner's firewall problem shows
   * as one reason rising.
   */
  readonly dataConnectionFailuresSearch: cloudwatch.MathExpression;
}

/**
 * Log metric filters on the runtime's `event` field, alarms (unhealthy targets, a shard
 * without its running task, failed transfers, storage errors, failed logins) that notify an
 * SNS topic, and a dashboard showing the service at a glance.
 */
export class BridgeMonitoring extends Construct {
  readonly namespace: string;
  readonly metrics: LogMetrics;
  readonly alarmTopic: sns.Topic;
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: BridgeMonitoringProps) {
    super(scope, id);
    if (props.services.length === 0) throw new Error('BridgeMonitoring: needs at least one service');
    const failedTransfers = props.failedTransfersThreshold ?? 10;
    const failedLogins = props.failedLoginsThreshold ?? 20;
    this.namespace = `FtpS3Bridge/${Stack.of(this).stackName}`;

    const filter = (name: string, pattern: logs.IFilterPattern, metricValue = '1'): cloudwatch.Metric =>
      new logs.MetricFilter(this, name, {
        logGroup: props.logGroup,
        filterPattern: pattern,
        metricNamespace: this.namespace,
        metricName: name,
        metricValue,
        defaultValue: 0,
      }).metric({ statistic: 'Sum', period: Duration.minutes(5) });
    const event = (name: string) => logs.FilterPattern.stringValue('$.event', '=', name);
    const outcome = (value: string) => logs.FilterPattern.stringValue('$.outcome', '=', value);
    this.metrics = {
      transfersOk: filter('TransfersOk', logs.FilterPattern.all(event('transfer'), outcome('ok'))),
      transfersFailed: filter('TransfersFailed', logs.FilterPattern.all(event('transfer'), outcome('failed'))),
      bytesTransferred: filter('BytesTransferred', logs.FilterPattern.all(event('transfer'), outcome('ok')), '$.bytes'),
      loginsOk: filter('LoginsOk', logs.FilterPattern.all(event('login'), outcome('ok'))),
      loginsFailed: filter('LoginsFailed', logs.FilterPattern.all(event('login'), outcome('failed'))),
      storageErrors: filter('StorageErrors', event('storage-error')),
      sessionsOpened: filter('SessionsOpened', event('session-open')),
      dataConnectionFailuresSearch: this.#dataConnectionFailures(props.logGroup, event),
    };

    this.alarmTopic = new sns.Topic(this, 'Alarms', { displayName: 'FTP bridge alarms', enforceSSL: true });
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (name: string, props: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.Metric }) => {
      const created = props.metric.createAlarm(this, name, props);
      created.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      created.addOkAction(new actions.SnsAction(this.alarmTopic));
      alarms.push(created);
      return created;
    };

    props.services.forEach((service, index) => {
      alarm(`Shard${index + 1}NotRunning`, {
        alarmDescription: `Shard ${index + 1} has had no running task for 3 minutes: its passive ports are down and ECS is restarting it`,
        metric: runningTaskCount(props.cluster, service),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    });
    for (const [name, group] of props.targetGroups) {
      alarm(`${name}UnhealthyTargets`, {
        alarmDescription: `Target group ${name} has had an unhealthy target for 3 minutes`,
        metric: group.metrics.unHealthyHostCount({ statistic: 'Maximum', period: Duration.minutes(1) }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    alarm('StorageErrorsAlarm', {
      alarmDescription: 'The bridge logged S3 failures (event=storage-error) in the last 5 minutes',
      metric: this.metrics.storageErrors,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('TransfersFailedAlarm', {
      alarmDescription: `At least ${failedTransfers} transfers failed in 5 minutes (event=transfer, outcome=failed)`,
      metric: this.metrics.transfersFailed,
      threshold: failedTransfers,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('LoginsFailedAlarm', {
      alarmDescription: `At least ${failedLogins} logins failed in 5 minutes (event=login, outcome=failed): password guessing?`,
      metric: this.metrics.loginsFailed,
      threshold: failedLogins,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms = alarms;

    const nlb = props.loadBalancer.metrics;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(6) });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Running tasks per shard',
        left: props.services.map((service, index) => runningTaskCount(props.cluster, service).with({ label: `shard ${index + 1}` })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Healthy targets',
        left: [...props.targetGroups].map(([name, group]) => group.metrics.healthyHostCount({ label: name, statistic: 'Minimum', period: Duration.minutes(1) })),
        legendPosition: cloudwatch.LegendPosition.RIGHT,
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Load balancer flows',
        left: [nlb.activeFlowCount({ label: 'active flows' }), nlb.newFlowCount({ label: 'new flows', statistic: 'Sum' })],
        right: [nlb.processedBytes({ label: 'processed bytes', statistic: 'Sum' })],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Transfers',
        left: [this.metrics.transfersOk.with({ label: 'ok' }), this.metrics.transfersFailed.with({ label: 'failed' })],
        right: [this.metrics.bytesTransferred.with({ label: 'bytes' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Sessions and logins',
        left: [
          this.metrics.sessionsOpened.with({ label: 'sessions opened' }),
          this.metrics.loginsOk.with({ label: 'logins ok' }),
          this.metrics.loginsFailed.with({ label: 'logins failed' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'Storage errors', left: [this.metrics.storageErrors.with({ label: 'storage errors' })], width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Failed data connections by reason (firewall, NAT, TLS)',
        left: [this.metrics.dataConnectionFailuresSearch],
        legendPosition: cloudwatch.LegendPosition.RIGHT,
        width: 24,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Recent failures',
        logGroupNames: [props.logGroup.logGroupName],
        queryLines: [
          'fields @timestamp, event, outcome, kind, command, path, @logStream',
          'filter (event = "transfer" and outcome != "ok") or event = "storage-error" or (event = "login" and outcome = "failed")',
          'sort @timestamp desc',
          'limit 100',
        ],
        width: 24,
        height: 8,
      }),
    );
  }

  /**
   * One metric filter for both failure events, the log line's `reason` as a dimension.
   * CloudWatch allows no default value on a filter with dimensions, so a reason that never
   * happened has no data points (the dashboard's SEARCH shows only the ones that did).
   */
  #dataConnectionFailures(logGroup: logs.ILogGroup, event: (name: string) => logs.JsonPattern): cloudwatch.MathExpression {
    new logs.MetricFilter(this, 'DataConnectionFailures', {
      logGroup,
      filterPattern: logs.FilterPattern.any(event('data-connection-timeout'), event('data-connection-failed')),
      metricNamespace: this.namespace,
      metricName: DATA_CONNECTION_FAILURES,
      metricValue: '1',
      dimensions: { Reason: '$.reason' },
    });
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${this.namespace},Reason} MetricName="${DATA_CONNECTION_FAILURES}"', 'Sum', 300)`,
      label: 'failed data connections',
      period: Duration.minutes(5),
    });
  }
}

/** Container Insights' running task count of one service (emitted every minute). */
function runningTaskCount(cluster: ecs.ICluster, service: ecs.FargateService): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'ECS/ContainerInsights',
    metricName: 'RunningTaskCount',
    dimensionsMap: { ClusterName: cluster.clusterName, ServiceName: service.serviceName },
    statistic: 'Minimum',
    period: Duration.minutes(1),
  });
}
