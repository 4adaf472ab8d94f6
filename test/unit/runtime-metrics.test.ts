import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { METRICS, type MetricName } from '../../runtime/src/metrics/metric-catalog.ts';
import { MAX_VALUES, RuntimeMetrics } from '../../runtime/src/metrics/runtime-metrics.ts';

interface EmfLine {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  readonly [field: string]: unknown;
}

function recorder(gauges?: () => Partial<Record<MetricName, number | undefined>>) {
  const lines: EmfLine[] = [];
  const metrics = new RuntimeMetrics({
    namespace: 'FtpS3Bridge/Test',
    shard: 'shard-2',
    intervalMs: 60_000,
    write: (record) => lines.push(JSON.parse(JSON.stringify(record)) as EmfLine),
    now: () => 1_796_701_200_000,
    ...(gauges ? { gauges } : {}),
  });
  return { metrics, lines };
}

/** Every metric value in the lines: name → [{dimensions, unit, value}]. */
function figures(lines: readonly EmfLine[]): Map<string, { dimensions: Record<string, unknown>; unit: string; value: unknown }[]> {
  const found = new Map<string, { dimensions: Record<string, unknown>; unit: string; value: unknown }[]>();
  for (const line of lines) {
    const [directive] = line._aws.CloudWatchMetrics;
    const keys = directive!.Dimensions[0]!;
    const dimensions = Object.fromEntries(keys.map((key) => [key, line[key]]));
    for (const { Name, Unit } of directive!.Metrics) {
      found.set(Name, [...(found.get(Name) ?? []), { dimensions, unit: Unit, value: line[Name] }]);
    }
  }
  return found;
}

const ONE_OF_EACH: Record<string, unknown>[] = [
  { event: 'session-open' },
  { event: 'login', outcome: 'ok' },
  { event: 'login', outcome: 'failed', reason: 'bad-credentials' },
  { event: 'login', outcome: 'failed', reason: 'locked-out' },
  { event: 'transfer', command: 'STOR', bytes: 1000, ms: 40, outcome: 'ok' },
  { event: 'transfer', command: 'APPE', bytes: 10, ms: 5, outcome: 'failed' },
  { event: 'transfer', command: 'STOR', bytes: 7, ms: 5, outcome: 'aborted' },
  { event: 'transfer', command: 'RETR', bytes: 300, ms: 12, outcome: 'ok' },
  { event: 'transfer', command: 'LIST', bytes: 5000, ms: 3, outcome: 'ok' },
  { event: 'transfer', command: 'MLSD', bytes: 5000, ms: 3, outcome: 'failed' },
  { event: 'storage-error', kind: 'transient' },
  { event: 'tls-failed', reason: 'handshake timeout' },
  { event: 'data-connection-timeout', reason: 'passive-never-connected' },
  { event: 'data-connection-refused', reason: 'no-reservation-for-address', suppressedSinceLast: 4 },
  { event: 'tls-resume-failure', reason: 'tls-session-not-resumed' },
  { event: 'upload-event-failed', reason: 'request-failed', events: 3 },
  { event: 'command', verb: 'NOOP' },
];

test('every metric of the catalog appears with its unit, per shard and as a service total', () => {
  const { metrics, lines } = recorder(() => ({ ConcurrentSessions: 3, UploadBufferInUse: 16 << 20, UploadBufferWaiting: 1, CertificateDaysLeft: 29 }));
  for (const fields of ONE_OF_EACH) metrics.observe(fields);
  metrics.flush();
  const found = figures(lines);
  for (const [name, spec] of Object.entries(METRICS)) {
    const entries = found.get(name);
    assert.ok(entries !== undefined, `${name} written`);
    for (const entry of entries) assert.equal(entry.unit, spec.unit, name);
  }
  for (const line of lines) {
    const [directive] = line._aws.CloudWatchMetrics;
    assert.equal(directive!.Namespace, 'FtpS3Bridge/Test');
    assert.equal(line._aws.Timestamp, 1_796_701_200_000);
    assert.equal(line['Shard'], 'shard-2');
    // Per shard, and the same without Shard (what the alarms watch).
    assert.deepEqual(directive!.Dimensions[1], directive!.Dimensions[0]!.filter((key) => key !== 'Shard'));
  }
});

test('uploads and downloads are counted apart; listings are no transfers', () => {
  const { metrics, lines } = recorder();
  for (const fields of ONE_OF_EACH) metrics.observe(fields);
  metrics.flush();
  const found = figures(lines);
  const total = (name: string) => found.get(name)!.find((entry) => Object.keys(entry.dimensions).length === 1)!.value;
  const byCommand = (name: string) =>
    Object.fromEntries(found.get(name)!.filter((entry) => 'Command' in entry.dimensions).map((entry) => [entry.dimensions['Command'], entry.value]));
  assert.equal(total('BytesIn'), 1017);
  assert.equal(total('BytesOut'), 300);
  assert.equal(total('FilesIn'), 1);
  assert.equal(total('FilesOut'), 1);
  assert.equal(total('TransfersOk'), 2);
  assert.equal(total('TransfersFailed'), 1);
  assert.equal(total('TransfersAborted'), 1);
  assert.deepEqual(byCommand('TransfersOk'), { STOR: 1, RETR: 1 });
  assert.deepEqual(byCommand('TransfersFailed'), { APPE: 1 });
  assert.deepEqual(byCommand('TransfersAborted'), { STOR: 1 });
  assert.deepEqual(total('UploadDuration'), [40]);
  assert.deepEqual(total('DownloadDuration'), [12]);
  assert.equal(total('LoginsOk'), 1);
  assert.equal(total('LoginsFailed'), 1);
  assert.equal(total('LoginsLocked'), 1);
  const reasons = Object.fromEntries(
    found.get('DataConnectionFailures')!.filter((entry) => 'Reason' in entry.dimensions).map((entry) => [entry.dimensions['Reason'], entry.value]),
  );
  // A throttled refusal line stands for itself and the ones it suppressed.
  assert.deepEqual(reasons, { 'passive-never-connected': 1, 'no-reservation-for-address': 5, 'tls-session-not-resumed': 1 });
  assert.equal(total('UploadEventsFailed'), 3);
});

test('an interval with nothing still writes every count as 0; a new interval starts from 0', () => {
  const { metrics, lines } = recorder(() => ({ CertificateDaysLeft: undefined, ConcurrentSessions: 0 }));
  metrics.observe({ event: 'login', outcome: 'ok' });
  metrics.flush();
  metrics.flush();
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!['LoginsOk'], 1);
  assert.equal(lines[1]!['LoginsOk'], 0);
  assert.equal(lines[1]!['TransfersFailed'], 0);
  assert.equal('CertificateDaysLeft' in lines[1]!, false, 'a gauge without a value (no TLS) is left out');
  assert.equal('UploadDuration' in lines[1]!, false);
});

test('durations keep at most 100 values an interval; breakdowns at most 20 values plus "other"', () => {
  const { metrics, lines } = recorder();
  for (let i = 0; i < 1000; i++) metrics.observe({ event: 'transfer', command: 'RETR', bytes: 1, ms: i, outcome: 'ok' });
  for (let i = 0; i < 30; i++) metrics.observe({ event: 'storage-error', kind: `kind-${i}` });
  metrics.flush();
  const durations = lines[0]!['DownloadDuration'] as number[];
  assert.equal(durations.length, MAX_VALUES);
  assert.ok(durations.every((value) => value >= 0 && value < 1000));
  assert.ok(Math.max(...durations) >= 100, 'a sample of the whole interval, not its first 100');
  const kinds = lines.filter((line) => 'Kind' in line).map((line) => [line['Kind'], line['StorageErrors']]);
  assert.equal(kinds.length, 21);
  assert.deepEqual(kinds.at(-1), ['other', 10]);
  assert.equal(lines[0]!['StorageErrors'], 30);
});

test('docs/metrics.md lists exactly the catalog, each with its unit', () => {
  const text = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  const rows = [...text.matchAll(/^\| `(\w+)` \| (\w+) \|/gm)].map(([, name, unit]) => [name, unit]);
  assert.deepEqual(rows, Object.entries(METRICS).map(([name, spec]) => [name, spec.unit]));
});
