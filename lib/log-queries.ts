/**
 * The CloudWatch Logs Insights queries operators start from: the stack saves each one
 * as a query definition (lib/bridge-log-queries.ts) and docs/operations.md shows
 * them, rendered from this table (`npm run docs`). One source for the text.
 */

export interface LogQuery {
  /** Names the saved query (`<stack>/<name>`) and its construct. */
  readonly name: string;
  /** What it answers; the comment above it in docs/operations.md. */
  readonly title: string;
  readonly lines: readonly string[];
}

export const LOG_QUERIES: readonly LogQuery[] = [
  {
    name: 'failed-transfers',
    title: 'Failed and aborted transfers',
    lines: ['fields @timestamp, command, path, bytes, outcome, @logStream', '| filter event = "transfer" and outcome != "ok"', '| sort @timestamp desc'],
  },
  {
    name: 'failed-logins',
    title: 'Failed logins per client network and user',
    lines: ['filter event = "login" and outcome = "failed"', '| stats count(*) as failures by username, clientAddress', '| sort failures desc'],
  },
  {
    name: 'bytes-per-hour',
    title: 'Bytes uploaded and downloaded per partner and hour (listings excluded)',
    lines: ['filter event = "transfer" and activity = "CLOSE"', '| stats sum(bytesIn) as bytesIn, sum(bytesOut) as bytesOut by user, bin(1h)'],
  },
  {
    name: 'audit-trail',
    title: "A partner's audit trail, as Transfer Family's activity types (CONNECTED, OPEN, CLOSE, DELETE, ...)",
    lines: [
      'fields @timestamp, activity, user, clientAddress, path, mode, bytesIn, bytesOut, outcome',
      '| filter ispresent(activity)',
      '| sort @timestamp desc',
    ],
  },
  {
    name: 'storage-errors',
    title: 'S3 failures by kind',
    lines: ['filter event = "storage-error"', '| stats count(*) by kind'],
  },
];

/** The query text CloudWatch runs. */
export function queryText(query: LogQuery): string {
  return query.lines.join('\n');
}
