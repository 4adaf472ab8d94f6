/**
 * Every metric the runtime publishes, as data: docs/metrics.md lists the same names and
 * units, and a test checks that each appears in the embedded-metric lines with its unit.
 */

/** CloudWatch's units that these metrics use (CloudWatch has no unit for days). */
export type MetricUnit = 'Count' | 'Bytes' | 'Milliseconds' | 'None';

/** The second dimension a metric has besides Shard, when it has one. */
export type MetricBreakdown = 'Command' | 'Kind' | 'Reason';

export interface MetricSpec {
  readonly unit: MetricUnit;
  /** Sum: counted over the interval; gauge: sampled at its end; values: every value (up to 100). */
  readonly kind: 'sum' | 'gauge' | 'values';
  readonly breakdown?: MetricBreakdown;
  readonly description: string;
}

export const METRICS = {
  ConcurrentSessions: { unit: 'Count', kind: 'gauge', description: 'Control connections open at the end of the interval.' },
  SessionsOpened: { unit: 'Count', kind: 'sum', description: 'Control connections accepted.' },
  LoginsOk: { unit: 'Count', kind: 'sum', description: 'Successful logins.' },
  LoginsFailed: { unit: 'Count', kind: 'sum', description: 'Refused logins: wrong user or password, or an address the user may not log in from.' },
  LoginsLocked: { unit: 'Count', kind: 'sum', description: 'Logins refused because the address is locked out after repeated failures.' },
  FilesIn: { unit: 'Count', kind: 'sum', description: 'Uploads committed (STOR, APPE, STOU), as Transfer Family counts FilesIn.' },
  FilesOut: { unit: 'Count', kind: 'sum', description: 'Downloads completed (RETR).' },
  BytesIn: { unit: 'Bytes', kind: 'sum', description: 'Bytes received on upload data connections, committed or not.' },
  BytesOut: { unit: 'Bytes', kind: 'sum', description: 'Bytes sent on download data connections, completed or not.' },
  TransfersOk: { unit: 'Count', kind: 'sum', breakdown: 'Command', description: 'Uploads and downloads that completed, by command; listings are not transfers.' },
  TransfersFailed: { unit: 'Count', kind: 'sum', breakdown: 'Command', description: 'Uploads and downloads that failed (data connection, storage, limits), by command.' },
  TransfersAborted: { unit: 'Count', kind: 'sum', breakdown: 'Command', description: 'Uploads and downloads ended by ABOR, a closed control connection or a shutdown, by command.' },
  UploadDuration: { unit: 'Milliseconds', kind: 'values', description: 'Time from 150 to 226 of each committed upload.' },
  DownloadDuration: { unit: 'Milliseconds', kind: 'values', description: 'Time from 150 to 226 of each completed download.' },
  StorageErrors: { unit: 'Count', kind: 'sum', breakdown: 'Kind', description: 'S3 failures, by kind (transient, access-denied, not-found, conflict, ...).' },
  UploadBufferInUse: { unit: 'Bytes', kind: 'gauge', description: 'Part buffers held by uploads at the end of the interval (of FTP_UPLOAD_BUFFER_MIB).' },
  UploadBufferWaiting: { unit: 'Count', kind: 'gauge', description: 'Uploads waiting for a part buffer at the end of the interval: above 0 often, the budget is too small.' },
  TlsHandshakeFailures: { unit: 'Count', kind: 'sum', description: 'TLS handshakes of control connections (AUTH TLS or implicit FTPS) that failed.' },
  DataConnectionFailures: { unit: 'Count', kind: 'sum', breakdown: 'Reason', description: 'Data connections that failed or never came, by reason (timeout, wrong address, TLS, ...).' },
  CertificateDaysLeft: { unit: 'None', kind: 'gauge', description: 'Days until the served certificate expires (whole days, rounded down); absent without TLS.' },
  UploadEventsFailed: { unit: 'Count', kind: 'sum', description: 'Upload events that could not be sent to EventBridge (refused, or dropped when the queue was full).' },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;
