/**
 * The activity types of the audit trail, as AWS Transfer Family names them in its
 * structured logs, so queries written for Transfer Family port over: every audit event
 * (docs/audit-and-events.md) carries one in its `activity` field.
 */
export type AuditActivity =
  | 'CONNECTED'
  | 'AUTH_FAILURE'
  | 'OPEN'
  | 'CLOSE'
  | 'LIST'
  | 'RENAME'
  | 'DELETE'
  | 'MKDIR'
  | 'RMDIR'
  | 'SETSTAT'
  | 'TLS_RESUME_FAILURE'
  | 'DISCONNECTED';

/** How a transfer command opens its file (Transfer Family's `mode`); listings open none. */
const TRANSFER_MODES: Readonly<Record<string, 'READ' | 'WRITE' | 'APPEND' | 'CREATE'>> = {
  RETR: 'READ',
  STOR: 'WRITE',
  APPE: 'APPEND',
  STOU: 'CREATE',
};

/** The audit fields of a transfer's OPEN and CLOSE events; undefined for a listing (LIST, NLST, MLSD). */
export function transferAudit(command: string, bytes: number): { mode: string; bytesIn: number; bytesOut: number } | undefined {
  const mode = TRANSFER_MODES[command];
  if (mode === undefined) return undefined;
  return mode === 'READ' ? { mode, bytesIn: 0, bytesOut: bytes } : { mode, bytesIn: bytes, bytesOut: 0 };
}
