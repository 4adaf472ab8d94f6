/**
 * The log-event reference (docs/operations.md): every event the runtime logs, found in its
 * source (log-event-scan.ts), with the level and the fields described here. Add a row when
 * the code logs a new event: `npm run docs:check` and the unit tests name every event the
 * code logs that no row describes, and every row whose event the code no longer logs.
 */
import { loggedEvents } from './log-event-scan.ts';
import { tableCell } from './markdown.ts';

export interface LogEventRow {
  /** Events described together (one row, levels in the same order when they differ). */
  readonly events: readonly string[];
  readonly level: string;
  /** When it is logged, and the fields it adds. */
  readonly meaning: string;
}

export const LOG_EVENTS: readonly LogEventRow[] = [
  { events: ["listening"], level: "info", meaning: "started: ports, passive range and address, TLS mode, bucket, prefix, `uploadBufferMiB`, `largestFileGiB`" },
  { events: ["start-failed"], level: "fatal", meaning: "the start failed: `variable` and `problem` (a stack only for an unexpected error); exit status 2 or 1" },
  { events: ["listener-error"], level: "error", meaning: "a control listener failed after it started (`port`)" },
  { events: ["passive-port-error"], level: "error", meaning: "a passive port's listener failed after it started (`port`)" },
  { events: ["users-loaded", "users-reloaded"], level: "info", meaning: "the users document was read (`users`), or read again after a change (`added`, `removed`, `changed`)" },
  { events: ["users-invalid"], level: "error", meaning: "a changed users document is invalid (`problem`); the previous users stay" },
  { events: ["users-field-ignored"], level: "warn", meaning: "a users document of a newer version has a field this version does not know (`problem`); it is ignored, the users stay" },
  { events: ["users-expired"], level: "info", meaning: "an account's `expiresAt` passed (`at`); its open sessions end" },
  { events: ["document-changed"], level: "info", meaning: "a watched document (users, TLS files or secret) changed" },
  { events: ["document-check-failed"], level: "error, repeats debug", meaning: "re-reading a watched document failed (the same failure again is logged at debug); the last good content stays" },
  { events: ["document-readable"], level: "info", meaning: "a watched document that failed to read is readable again" },
  { events: ["document-change-failed"], level: "error", meaning: "handling a changed document failed" },
  { events: ["tls-certificate"], level: "info / warn", meaning: "the served certificate, at start and after each reload (`subject`, `validTo`, `daysLeft`); warn under 30 days left (docs/certificates.md)" },
  { events: ["metrics"], level: "info", meaning: "the runtime metrics of one interval, in CloudWatch's embedded metric format; always written, whatever `LOG_LEVEL` (docs/metrics.md)" },
  { events: ["transfer-open"], level: "info", meaning: "a file transfer starts (`activity` OPEN, `command`, `path`, `mode` READ/WRITE/APPEND/CREATE); listings have none (docs/audit-and-events.md)" },
  { events: ["delete", "mkdir", "rmdir"], level: "info", meaning: "`DELE`, `MKD`, `RMD` done (`activity` DELETE/MKDIR/RMDIR, `path`)" },
  { events: ["upload-event-failed"], level: "warn", meaning: "an upload event did not reach EventBridge (`reason` refused, request-failed, queue-full; `events`)" },
  { events: ["tls-credentials-reloaded", "tls-credentials-missing", "tls-credentials-invalid"], level: "info / warn / error", meaning: "the certificate was reloaded; the TLS secret is still empty (TLS stays off until it is filled); a changed certificate is invalid (the previous one stays)" },
  { events: ["session-open", "session-close"], level: "info", meaning: "a control connection opened (`implicitTls`, `localPort`) or closed (`ms`, `reason`)" },
  { events: ["client-name"], level: "info", meaning: "the client said its name with `CLNT` (`client`)" },
  { events: ["login"], level: "info", meaning: "`outcome` ok/failed/refused, `reason` (bad-credentials, address-not-allowed, locked-out; refused: partner-session-limit, with `sessions` and `maxSessions`), `username`, `secure`" },
  { events: ["logins-busy"], level: "warn", meaning: "a `PASS` was answered `421` at once: too many password checks waiting (`waiting`, `expectedWaitMs`); at most one line a second, `suppressedSinceLast` counts the others" },
  { events: ["session-revoked"], level: "info", meaning: "a users reload ended the session (`421`): `reason` removed, password-changed, address-not-allowed (at once; `transfer` names an upload or download it aborted) or home-changed (`when` after-command)" },
  { events: ["session-user-updated"], level: "info", meaning: "a users reload changed the session's user otherwise: the new `permissions` apply from the next command" },
  { events: ["logout"], level: "info", meaning: "`USER` while logged in ended the login" },
  { events: ["password-check-error"], level: "error", meaning: "verifying a password failed unexpectedly (the login fails)" },
  { events: ["lockout"], level: "warn", meaning: "an address is locked out (`failures`, `lockoutSeconds`; `scope` shared when the shared state table counted it)" },
  { events: ["quota-exceeded"], level: "info", meaning: "an upload was refused with `552`: the partner's home is full (`what` bytes/files, `bytes`, `pendingBytes`, `files`, `quotaBytes`, `quotaFiles`; see [partner-limits.md](partner-limits.md))" },
  { events: ["shared-state-error"], level: "warn", meaning: "the shared state table could not be reached (`use` session-lease, lockout, quota, quota-reconcile, upload-lease): that limit holds per task, or is corrected later, until it is back" },
  { events: ["login-timeout", "idle-timeout"], level: "info", meaning: "the session is closed: no login within `FTP_LOGIN_TIMEOUT_SECONDS`, or idle for `FTP_IDLE_TIMEOUT_SECONDS`" },
  { events: ["connection-refused"], level: "warn", meaning: "`reason` `process-limit`, `address-limit`, `shutting-down` or `no TLS certificate`; at most one line per reason per second, with `suppressedSinceLast`" },
  { events: ["command", "reply"], level: "debug", meaning: "each command (`verb`, `argument`; PASS as `****`) and each reply (`code`, `text`)" },
  { events: ["command-error"], level: "error", meaning: "a command failed in an unexpected way (`verb`, `err`)" },
  { events: ["control-error"], level: "debug", meaning: "the control connection failed (reset, say)" },
  { events: ["transfer"], level: "info", meaning: "`activity` CLOSE (LIST for listings), `command`, `path`, `mode`, `bytesIn`, `bytesOut`, `bytes`, `ms`, `outcome` ok/failed/aborted; uploads add `bufferWaitMs` (time spent waiting for the buffer budget, also when the upload failed or was given up while waiting) and `bufferInUseMiB` (the most of the budget in use while they got buffers)" },
  { events: ["upload-stalled"], level: "info", meaning: "an upload holding a part buffer waited `FTP_UPLOAD_STALL_SECONDS` for its client with too little arriving: it fails (426), nothing stored (`key`, `bytes`, `heldBytes`, `windowMs`, `windowBytes`)" },
  { events: ["upload-kept"], level: "info", meaning: "an upload its client (or the session) ended keeps its whole parts as a pending upload, no object (`key`, `uploadId`, `durableBytes` where it continues, `lostBytes` received but not in a whole part, `reason`); see docs/resumable-uploads.md" },
  { events: ["pending-uploads-found"], level: "info", meaning: "at start: the pending uploads S3 (or the journal) holds after expired ones were discarded (`uploads`, `durableBytes`, `expiryHours`); with `FTP_PENDING_UPLOADS_FILE`, uploads holding no whole part are discarded too (`upload-discarded`, `reason` unfinished)" },
  { events: ["upload-resumed"], level: "info", meaning: "`REST`+`STOR` or `APPE` continues a pending upload (`key`, `uploadId`, `durableBytes`)" },
  { events: ["upload-busy"], level: "info", meaning: "`REST`+`STOR` or `APPE` of a pending upload another session is continuing (on any shard with a state table) was answered `450` (`path`, `durableBytes`, `scope` shared/task); see docs/resumable-uploads.md" },
  { events: ["upload-replaced", "upload-discarded", "upload-expired"], level: "info", meaning: "a pending upload was aborted: a `STOR` from byte 0 replaced it, `DELE` discarded it, or it was met past `FTP_PENDING_UPLOAD_HOURS` (`key`, `uploadId`, `initiated`, `reason`)" },
  { events: ["rename"], level: "info", meaning: "`RNFR`/`RNTO` done (`activity` RENAME, `path`, `from`, `to`)" },
  { events: ["checksum"], level: "info", meaning: "a `HASH` or `MD5` answered (`path`, `algorithm`, `source` stored/computed/remembered, `bytes`, `ms`)" },
  { events: ["set-modified"], level: "info", meaning: "`MFMT`, `MFF` or `SITE UTIME` set a file's time (`path`, `modified`; `changed` false when the file had that time and nothing was written)" },
  { events: ["allowance-exceeded"], level: "warn", meaning: "a user's hourly allowance refused a command with 450 (`allowance` checksum-read-bytes, metadata-rewrites, renamed-objects or read-back-bytes, `path`, `limit`, `windowSeconds`; `bytes` the checksum or the resume would have read, `objects` the rename would have copied)" },
  { events: ["copy-probe"], level: "info", meaning: "the first append to a `%` name found out how the store copies such names (`percentNames` copy/read-back, `conclusive`; see `S3_COPY_PERCENT_NAMES`)" },
  { events: ["data-connection-timeout", "data-connection-failed"], level: "info", meaning: "`reason` passive-timeout, passive-never-connected, passive-wrong-address, active-timeout, active-refused, tls-handshake-failed, tls-session-not-resumed, protection-changed (a passive connection made before PROT changed); with the announced address, port and passive range" },
  { events: ["data-connection-error"], level: "info", meaning: "an open data connection failed mid-transfer (reset, or nothing moved for `FTP_IDLE_TIMEOUT_SECONDS`: a client that stopped reading or sending)" },
  { events: ["data-connection-refused"], level: "warn", meaning: "a connection to a passive port from an address that reserved none (`reason`, `port`); at most one line per reason per second, with `suppressedSinceLast`" },
  { events: ["data-tls"], level: "debug", meaning: "a `PROT P` data connection's TLS (`protocol`, `resumed`, `relayed`: false where it runs natively)" },
  { events: ["tls-established"], level: "info", meaning: "a control connection's TLS handshake finished (`protocol`, `cipher`)" },
  { events: ["tls-failed"], level: "info", meaning: "`reason`: a handshake that failed or timed out, or a plain client on the implicit port (answered `421` at once); `clientAddress`, `port`, no stack" },
  { events: ["tls-resume-failure"], level: "warn", meaning: "a `PROT P` data connection did not resume its control connection's TLS session" },
  { events: ["tls-close-notify-missing"], level: "info", meaning: "a `PROT P` upload ended with a FIN but no TLS close_notify and was committed (`outcome`), because `tlsCloseNotify` is optional for the user (without it: `426`)" },
  { events: ["multipart-upload-started", "multipart-upload-aborted"], level: "debug", meaning: "`key`, `uploadId`" },
  { events: ["storage-error"], level: "warn / error", meaning: "an S3 request failed (`operation`, `kind`, `key`, `err`): what alarms count" },
  { events: ["storage-outcome"], level: "debug", meaning: "an S3 outcome that is no failure (a client's abort, a missing key)" },
  { events: ["signal"], level: "info", meaning: "SIGTERM or SIGINT: the graceful stop begins" },
  { events: ["parent-gone"], level: "info", meaning: "the IPC channel of the process that started the bridge closed (the local stack killed): the graceful stop begins" },
  { events: ["shutdown-started", "shutdown-complete"], level: "info", meaning: "the stop began (`sessions`, `graceMs`), and ended (`settledTransfers`)" },
  { events: ["shutdown-incomplete"], level: "error", meaning: "cut-off uploads were still being aborted in S3 at exit" },
  { events: ["forced-exit"], level: "warn", meaning: "a second signal: running transfers were aborted at once; `transfersNotAborted` counts those S3 had not confirmed within 3 s (exit status 130)" },
];

/** The table; it refuses to render while an event the code logs has no row, or a row's event is no longer logged. */
export function renderLogEventTable(): string {
  const logged = loggedEvents().events;
  const described = new Set(LOG_EVENTS.flatMap((row) => row.events));
  const undescribed = [...logged.keys()].filter((event) => !described.has(event)).sort();
  const gone = [...described].filter((event) => !logged.has(event)).sort();
  if (undescribed.length > 0 || gone.length > 0) {
    throw new Error(
      'docs/render/log-events.ts is out of step with the code: ' +
        [
          ...(undescribed.length > 0 ? [`add a row for ${undescribed.join(', ')}`] : []),
          ...(gone.length > 0 ? [`remove ${gone.join(', ')} (no longer logged)`] : []),
        ].join('; '),
    );
  }
  return [
    'The events are those the code logs (found in `runtime/src` by `docs/render/log-event-scan.ts`), described in ' +
      '`docs/render/log-events.ts`; regenerate with `npm run docs`.',
    '',
    '| event | level | when, and what it adds |',
    '|---|---|---|',
    ...LOG_EVENTS.map((row) => `| ${row.events.map((event) => `\`${event}\``).join(' / ')} | ${row.level} | ${tableCell(row.meaning)} |`),
  ].join('\n');
}
