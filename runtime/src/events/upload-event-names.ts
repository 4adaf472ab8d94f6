/**
 * The names of the upload events, shared by the runtime that sends them and the CDK app
 * whose rule subscribes the object-created queue to them (docs/audit-and-events.md).
 */

/** The `source` of every upload event ("aws." sources are reserved for AWS). */
export const UPLOAD_EVENT_SOURCE = 'ftp-s3-bridge';
/** As AWS Transfer Family names its own. */
export const UPLOAD_COMPLETED = 'FTPS Server File Upload Completed';
export const UPLOAD_FAILED = 'FTPS Server File Upload Failed';
