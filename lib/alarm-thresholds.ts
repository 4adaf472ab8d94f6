/**
 * What raises the bridge's alarms: the thresholds BridgeMonitoring takes and the settings
 * (`bridge:alarm…`) default to. No CDK imports, so the settings schema can read it.
 */

/** What raises an alarm; every field is a setting (`bridge:alarm…`). */
export interface AlarmThresholds {
  /**
   * Failed transfers in 5 minutes.
   * @default 10
   */
  readonly failedTransfers?: number;
  /**
   * Failed logins in 5 minutes (password guessing).
   * @default 20
   */
  readonly failedLogins?: number;
  /**
   * Minutes out of a window 5 minutes longer in which a shard had no running task. A
   * stop-first deploy leaves a shard without a task for 3-5 minutes; a shard down longer
   * than this is not being deployed.
   * @default 10
   */
  readonly shardDownMinutes?: number;
  /**
   * Messages in the object-created dead-letter queue.
   * @default 1
   */
  readonly deadLetterMessages?: number;
  /**
   * A shard's task memory use, in percent of the task's memory, for 3 minutes out of 5.
   * @default 85
   */
  readonly memoryPercent?: number;
  /**
   * Tasks that stopped on their own (container exited, failed to start, failed health
   * checks) in 15 minutes: a crash loop.
   * @default 3
   */
  readonly taskStops?: number;
  /**
   * Days left on the certificate the tasks serve (the runtime's CertificateDaysLeft):
   * fewer raise an alarm. Only with TLS.
   * @default 30
   */
  readonly certificateDays?: number;
}

/** The defaults of AlarmThresholds (the settings table shows the same values). */
export const DEFAULT_ALARM_THRESHOLDS: Required<AlarmThresholds> = {
  failedTransfers: 10,
  failedLogins: 20,
  shardDownMinutes: 10,
  deadLetterMessages: 1,
  memoryPercent: 85,
  taskStops: 3,
  certificateDays: 30,
};

/** Minutes a shard-down window is longer than `shardDownMinutes`, so that a flapping (crash-looping) shard still counts. */
export const SHARD_DOWN_WINDOW_EXTRA_MINUTES = 5;
