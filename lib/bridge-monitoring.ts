import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_ALARM_THRESHOLDS, SHARD_DOWN_WINDOW_EXTRA_MINUTES, type AlarmThresholds } from './alarm-thresholds.ts';


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
   * The object-created queue's dead-letter queue: messages downstream jobs failed.
   * @default - no dead-letter alarm
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /** @default DEFAULT_ALARM_THRESHOLDS */
  readonly thresholds?: AlarmThresholds;
  /**
   * An existing SNS topic the alarms notify (the team's paging or chat topic).
   * @default - a new topic
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * An e-mail address subscribed to the new alarm topic (it must confirm the subscription).
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Whether the tasks serve TLS: then the certificate-expiry alarm watches CertificateDaysLeft.
   * @default false
   */
  readonly tlsEnabled?: boolean;
}

/** The metric of failed data connections, one series per `Reason` (the runtime's, docs/metrics.md). */
export const DATA_CONNECTION_FAILURES = 'DataConnectionFailures';

/** The namespace of the runtime's own metrics and of the log metric filters: one per stack. */
export function metricsNamespace(scope: Construct): string {
  return `FtpS3Bridge/${Stack.of(scope).stackName}`;
}

/**
 * The service-wide totals (no dimension) of the runtime's embedded metrics
 * (docs/metrics.md), and the two log metric filters that stay.
 */
export interface LogMetrics {
  /** Uploads and downloads completed; listings are not transfers. */
  readonly transfersOk: cloudwatch.Metric;
  readonly transfersFailed: cloudwatch.Metric;
  readonly transfersAborted: cloudwatch.Metric;
  readonly bytesIn: cloudwatch.Metric;
  readonly bytesOut: cloudwatch.Metric;
  readonly filesIn: cloudwatch.Metric;
  readonly filesOut: cloudwatch.Metric;
  readonly loginsOk: cloudwatch.Metric;
  readonly loginsFailed: cloudwatch.Metric;
  readonly loginsLocked: cloudwatch.Metric;
  readonly storageErrors: cloudwatch.Metric;
  readonly sessionsOpened: cloudwatch.Metric;
  readonly concurrentSessions: cloudwatch.Metric;
  readonly tlsHandshakeFailures: cloudwatch.Metric;
  readonly uploadBufferWaiting: cloudwatch.Metric;
  /** The least days left of any task's certificate. */
  readonly certificateDaysLeft: cloudwatch.Metric;
  readonly uploadEventsFailed: cloudwatch.Metric;
  /** `start-failed`: a task could not start (bad configuration, unreachable secret). */
  readonly startFailures: cloudwatch.Metric;
  /** `users-invalid`: a changed users document was refused; the tasks keep the previous users. */
  readonly usersInvalid: cloudwatch.Metric;
  /**
   * Data connections that failed, with a `Reason` dimension (passive-timeout,
   * active-refused, tls-session-not-resumed, ...): a partner's firewall problem shows
   * as one reason rising.
   */
  readonly dataConnectionFailuresSearch: cloudwatch.MathExpression;
}

/**
 * Log metric filters on the runtime's `event` field, alarms (unhealthy targets, a shard
 * without its running task, a crash loop, memory near the limit, start failures, an
 * invalid users document, failed transfers, storage errors, failed logins, dead letters)
 * that notify an SNS topic, and a dashboard showing the service at a glance.
 */
export class BridgeMonitoring extends Construct {
  readonly namespace: string;
  readonly metrics: LogMetrics;
  readonly alarmTopic: sns.ITopic;
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard;
  /** Unexpected task stops of the cluster (container exited, failed to start, failed health checks). */
  readonly taskStopsRule: events.Rule;
  /** Where the unexpected task stops are kept, with ECS's stop reason. */
  readonly taskStopsLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BridgeMonitoringProps) {
    super(scope, id);
    if (props.services.length === 0) throw new Error('BridgeMonitoring: needs at least one service');
    const thresholds = { ...DEFAULT_ALARM_THRESHOLDS, ...props.thresholds };
    for (const [name, value] of Object.entries(thresholds)) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`BridgeMonitoring: thresholds.${name} must be a positive whole number, got ${value}`);
    }
    if (thresholds.memoryPercent > 100) throw new Error(`BridgeMonitoring: thresholds.memoryPercent must be at most 100, got ${thresholds.memoryPercent}`);
    if (props.alarmEmail !== undefined && props.alarmTopic !== undefined) {
      throw new Error('BridgeMonitoring: alarmEmail subscribes to the topic this construct creates; with an existing alarmTopic, subscribe to it there');
    }
    const { failedTransfers, failedLogins } = thresholds;
    this.namespace = metricsNamespace(this);

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
    // The runtime's embedded metrics, totals over every shard (published without dimensions).
    const runtime = (metricName: string, statistic = 'Sum') =>
      new cloudwatch.Metric({ namespace: this.namespace, metricName, statistic, period: Duration.minutes(5) });
    this.metrics = {
      transfersOk: runtime('TransfersOk'),
      transfersFailed: runtime('TransfersFailed'),
      transfersAborted: runtime('TransfersAborted'),
      bytesIn: runtime('BytesIn'),
      bytesOut: runtime('BytesOut'),
      filesIn: runtime('FilesIn'),
      filesOut: runtime('FilesOut'),
      loginsOk: runtime('LoginsOk'),
      loginsFailed: runtime('LoginsFailed'),
      loginsLocked: runtime('LoginsLocked'),
      storageErrors: runtime('StorageErrors'),
      sessionsOpened: runtime('SessionsOpened'),
      concurrentSessions: runtime('ConcurrentSessions', 'Maximum'),
      tlsHandshakeFailures: runtime('TlsHandshakeFailures'),
      uploadBufferWaiting: runtime('UploadBufferWaiting', 'Maximum'),
      certificateDaysLeft: runtime('CertificateDaysLeft', 'Minimum'),
      uploadEventsFailed: runtime('UploadEventsFailed'),
      // Log metric filters: start-failed comes before a task's metrics start; users-invalid is one line that must not wait.
      startFailures: filter('StartFailures', event('start-failed')),
      usersInvalid: filter('UsersInvalid', event('users-invalid')),
      dataConnectionFailuresSearch: new cloudwatch.MathExpression({
        expression: `SEARCH('{${this.namespace},Reason} MetricName="${DATA_CONNECTION_FAILURES}"', 'Sum', 300)`,
        label: 'failed data connections',
        period: Duration.minutes(5),
      }),
    };

    if (props.alarmTopic !== undefined) {
      this.alarmTopic = props.alarmTopic;
    } else {
      const topic = new sns.Topic(this, 'Alarms', { displayName: 'FTP bridge alarms', enforceSSL: true });
      if (props.alarmEmail !== undefined) topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      this.alarmTopic = topic;
    }
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (name: string, props: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.Metric | cloudwatch.MathExpression }) => {
      const created = props.metric.createAlarm(this, name, props);
      created.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      created.addOkAction(new actions.SnsAction(this.alarmTopic));
      alarms.push(created);
      return created;
    };

    const downWindow = thresholds.shardDownMinutes + SHARD_DOWN_WINDOW_EXTRA_MINUTES;
    props.services.forEach((service, index) => {
      // M out of N one-minute points, missing ones breaching: a deploy's 3-5 minutes without
      // a task stay below M; a shard that stays down, or whose metrics stop, reaches it; a
      // crash-looping task that is up now and then still does (N is longer than M).
      alarm(`Shard${index + 1}NotRunning`, {
        alarmDescription:
          `Shard ${index + 1} has had no running task for ${thresholds.shardDownMinutes} of the last ${downWindow} minutes ` +
          '(longer than a deploy): its passive ports are down and ECS cannot keep a task running',
        metric: runningTaskCount(props.cluster, service),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: downWindow,
        datapointsToAlarm: thresholds.shardDownMinutes,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      alarm(`Shard${index + 1}MemoryHigh`, {
        alarmDescription:
          `Shard ${index + 1}'s task used at least ${thresholds.memoryPercent} % of its memory in 3 of the last 5 minutes: ` +
          'near the limit ECS kills it at (give it more memory, bridge:taskMemoryMiB, or lower the upload budget)',
        metric: service.metricMemoryUtilization({ statistic: 'Maximum', period: Duration.minutes(1) }),
        threshold: thresholds.memoryPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
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
      alarmDescription: 'The bridge had S3 failures in the last 5 minutes (metric StorageErrors; the log has event=storage-error with the kind)',
      metric: this.metrics.storageErrors,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('TransfersFailedAlarm', {
      alarmDescription: `At least ${failedTransfers} uploads or downloads failed in 5 minutes (metric TransfersFailed; listings do not count)`,
      metric: this.metrics.transfersFailed,
      threshold: failedTransfers,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('LoginsFailedAlarm', {
      alarmDescription: `At least ${failedLogins} logins were refused in 5 minutes (metrics LoginsFailed and LoginsLocked): password guessing?`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(locked, 0)',
        usingMetrics: { failed: this.metrics.loginsFailed, locked: this.metrics.loginsLocked },
        label: 'refused logins',
        period: Duration.minutes(5),
      }),
      threshold: failedLogins,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('StartFailedAlarm', {
      alarmDescription: 'A task could not start (event=start-failed: configuration or secrets); ECS keeps retrying it',
      metric: this.metrics.startFailures,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('UsersInvalidAlarm', {
      alarmDescription: 'The users document was changed into one the tasks refuse (event=users-invalid); they keep the previous users until it is fixed',
      metric: this.metrics.usersInvalid,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (props.tlsEnabled === true) {
      alarm('CertificateExpiryAlarm', {
        alarmDescription:
          `The certificate the tasks serve has fewer than ${thresholds.certificateDays} days left (metric CertificateDaysLeft): ` +
          'renew it and put the new one into the TLS secret (docs/certificates.md); the tasks pick it up without a restart',
        metric: this.metrics.certificateDaysLeft.with({ period: Duration.hours(1) }),
        threshold: thresholds.certificateDays,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // No TLS secret filled yet, or no task running: ShardNNotRunning speaks for those.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    this.taskStopsLogGroup = new logs.LogGroup(this, 'TaskStops', { retention: logs.RetentionDays.THREE_MONTHS });
    this.taskStopsRule = new events.Rule(this, 'TaskStopsRule', {
      description: 'FTP bridge: tasks that stopped on their own (not a deploy or a scale-in)',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [props.cluster.clusterArn],
          lastStatus: ['STOPPED'],
          // A deploy stops tasks with ServiceSchedulerInitiated; a failed health check too, but says so.
          $or: [{ stopCode: ['EssentialContainerExited', 'TaskFailedToStart'] }, { stoppedReason: [{ prefix: 'Task failed ELB health checks' }] }],
        },
      },
      targets: [new targets.CloudWatchLogGroup(this.taskStopsLogGroup)],
    });
    alarm('TaskStopsAlarm', {
      alarmDescription:
        `At least ${thresholds.taskStops} tasks stopped on their own in 15 minutes (crash loop: container exited, failed to start or failed health checks); ` +
        'the reasons are in the task-stops log group',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'MatchedEvents',
        dimensionsMap: { RuleName: this.taskStopsRule.ruleName },
        statistic: 'Sum',
        period: Duration.minutes(15),
      }),
      threshold: thresholds.taskStops,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.deadLetterQueue !== undefined) {
      alarm('DeadLettersAlarm', {
        alarmDescription: `At least ${thresholds.deadLetterMessages} object-created events are in the dead-letter queue: a downstream job failed them, or EventBridge could not deliver`,
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
        threshold: thresholds.deadLetterMessages,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
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
        title: 'Transfers (uploads and downloads)',
        left: [
          this.metrics.transfersOk.with({ label: 'ok' }),
          this.metrics.transfersFailed.with({ label: 'failed' }),
          this.metrics.transfersAborted.with({ label: 'aborted' }),
        ],
        right: [this.metrics.bytesIn.with({ label: 'bytes in' }), this.metrics.bytesOut.with({ label: 'bytes out' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Sessions and logins',
        left: [
          this.metrics.sessionsOpened.with({ label: 'sessions opened' }),
          this.metrics.loginsOk.with({ label: 'logins ok' }),
          this.metrics.loginsFailed.with({ label: 'logins failed' }),
          this.metrics.loginsLocked.with({ label: 'logins locked out' }),
        ],
        right: [this.metrics.concurrentSessions.with({ label: 'concurrent sessions (max)' })],
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
