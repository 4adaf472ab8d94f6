import { METRICS, type MetricBreakdown, type MetricName } from './metric-catalog.ts';

/**
 * The runtime's CloudWatch metrics, written in the embedded metric format (EMF) through
 * the log stream the task already has: no agent, no PutMetricData, no extra permission.
 * CloudWatch Logs turns each such line into metric data points.
 *
 * Figures come from the log events themselves (`observe`, fed by the logger's hook), so
 * a metric and the event that explains it never disagree; gauges are sampled at the end
 * of each interval. Dimensions stay cheap: Shard, and for a few metrics one more with a
 * small fixed set of values (Command, Kind, Reason). Per-partner figures stay in the logs.
 *
 * EMF takes a dimension's value from a top-level field of the line, so one line carries
 * one value of each: every interval writes one line for the shard, plus one line for
 * each Command, Kind or Reason that occurred in it. Each line also publishes without
 * the Shard dimension (the service's total, which the alarms watch), and a metric with
 * a breakdown also has its total on the shard line.
 */
export interface MetricsOptions {
  /** The CloudWatch namespace (FTP_METRICS_NAMESPACE). */
  readonly namespace: string;
  /** The Shard dimension's value (FTP_METRICS_SHARD). */
  readonly shard: string;
  readonly intervalMs: number;
  /** Writes one EMF record (composition-root.ts: the logger, at info, adding event "metrics"). */
  readonly write: (record: Record<string, unknown>) => void;
  /** Gauges sampled at the end of each interval; undefined leaves one out of that line. */
  readonly gauges?: () => Partial<Record<MetricName, number | undefined>>;
  readonly now?: () => number;
}

/** The most values a values-metric keeps per interval (EMF's limit per metric is 100). */
export const MAX_VALUES = 100;
/** The most distinct Command, Kind or Reason values kept per interval; more are counted as "other". */
const MAX_BREAKDOWN_VALUES = 20;

const UPLOAD_COMMANDS = new Set(['STOR', 'APPE', 'STOU']);
const DOWNLOAD_COMMANDS = new Set(['RETR']);

export class RuntimeMetrics {
  readonly #options: MetricsOptions;
  readonly #now: () => number;
  #sums = new Map<MetricName, number>();
  #split = new Map<MetricBreakdown, Map<string, Map<MetricName, number>>>();
  #values = new Map<MetricName, { values: number[]; seen: number }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MetricsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Writes a line set every interval until close(). */
  start(): void {
    this.#timer ??= setInterval(() => this.flush(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** Stops the interval and writes what the last one collected. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  /** Counts what one log event means (unknown events are ignored). */
  observe(fields: Record<string, unknown>): void {
    switch (fields['event']) {
      case 'session-open':
        return this.#add('SessionsOpened');
      case 'login':
        if (fields['outcome'] === 'ok') return this.#add('LoginsOk');
        return this.#add(fields['reason'] === 'locked-out' ? 'LoginsLocked' : 'LoginsFailed');
      case 'transfer':
        return this.#transfer(fields);
      case 'storage-error':
        return this.#addBy('StorageErrors', 'Kind', text(fields['kind']));
      case 'tls-failed':
        return this.#add('TlsHandshakeFailures');
      case 'data-connection-failed':
      case 'data-connection-timeout':
      case 'tls-resume-failure':
        return this.#addBy('DataConnectionFailures', 'Reason', text(fields['reason']));
      case 'data-connection-refused':
        // The log throttles these: one line stands for itself and those suppressed before it.
        return this.#addBy('DataConnectionFailures', 'Reason', text(fields['reason']), 1 + number(fields['suppressedSinceLast']));
      case 'upload-event-failed':
        return this.#add('UploadEventsFailed', Math.max(1, number(fields['events'])));
    }
  }

  #transfer(fields: Record<string, unknown>): void {
    const command = text(fields['command']);
    const upload = UPLOAD_COMMANDS.has(command);
    if (!upload && !DOWNLOAD_COMMANDS.has(command)) return; // listings are not transfers
    const outcome = fields['outcome'];
    const bytes = number(fields['bytes']);
    this.#add(upload ? 'BytesIn' : 'BytesOut', bytes);
    if (outcome === 'ok') {
      this.#add(upload ? 'FilesIn' : 'FilesOut');
      this.#addValue(upload ? 'UploadDuration' : 'DownloadDuration', number(fields['ms']));
    }
    const metric = outcome === 'ok' ? 'TransfersOk' : outcome === 'aborted' ? 'TransfersAborted' : 'TransfersFailed';
    this.#addBy(metric, 'Command', command);
  }

  #add(name: MetricName, amount = 1): void {
    this.#sums.set(name, (this.#sums.get(name) ?? 0) + amount);
  }

  #addBy(name: MetricName, breakdown: MetricBreakdown, value: string, amount = 1): void {
    let byValue = this.#split.get(breakdown);
    if (byValue === undefined) this.#split.set(breakdown, (byValue = new Map()));
    this.#add(name, amount);
    const key = byValue.has(value) || byValue.size < MAX_BREAKDOWN_VALUES ? value : 'other';
    let sums = byValue.get(key);
    if (sums === undefined) byValue.set(key, (sums = new Map()));
    sums.set(name, (sums.get(name) ?? 0) + amount);
  }

  /** Keeps at most MAX_VALUES values, a uniform sample of the interval's (reservoir sampling). */
  #addValue(name: MetricName, value: number): void {
    let entry = this.#values.get(name);
    if (entry === undefined) this.#values.set(name, (entry = { values: [], seen: 0 }));
    entry.seen++;
    if (entry.values.length < MAX_VALUES) entry.values.push(value);
    else {
      const slot = Math.floor(Math.random() * entry.seen);
      if (slot < MAX_VALUES) entry.values[slot] = value;
    }
  }

  /** Writes the interval's lines and starts a new interval. */
  flush(): void {
    const timestamp = this.#now();
    const shardLine = new Map<MetricName, number | number[]>();
    // Sums are written even when 0, so alarms and graphs see a point every interval.
    for (const [name, spec] of Object.entries(METRICS) as Array<[MetricName, (typeof METRICS)[MetricName]]>) {
      if (spec.kind === 'sum') shardLine.set(name, this.#sums.get(name) ?? 0);
    }
    for (const [name, entry] of this.#values) shardLine.set(name, entry.values);
    const gauges = this.#options.gauges?.() ?? {};
    for (const [name, value] of Object.entries(gauges) as Array<[MetricName, number | undefined]>) {
      if (value !== undefined && Number.isFinite(value)) shardLine.set(name, value);
    }
    this.#write(timestamp, {}, shardLine);
    for (const [breakdown, byValue] of this.#split) {
      for (const [value, sums] of byValue) this.#write(timestamp, { [breakdown]: value }, sums);
    }
    this.#sums = new Map();
    this.#split = new Map();
    this.#values = new Map();
  }

  #write(timestamp: number, extra: Record<string, string>, figures: ReadonlyMap<MetricName, number | number[]>): void {
    if (figures.size === 0) return;
    const { namespace, shard } = this.#options;
    this.#options.write({
      _aws: {
        Timestamp: timestamp,
        CloudWatchMetrics: [
          {
            Namespace: namespace,
            Dimensions: [['Shard', ...Object.keys(extra)], Object.keys(extra)],
            Metrics: [...figures.keys()].map((name) => ({ Name: name, Unit: METRICS[name].unit })),
          },
        ],
      },
      Shard: shard,
      ...extra,
      ...Object.fromEntries(figures),
    });
  }
}

function text(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value.slice(0, 64) : 'unknown';
}

function number(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
