/**
 * Where the protocol reports each finished upload (committed or not), for events that
 * downstream jobs consume. `report` must return at once and never throw: the upload's
 * reply does not wait for anyone who listens.
 */
export interface UploadOutcomes {
  report(outcome: UploadOutcome): void;
}

export interface UploadOutcome {
  readonly status: 'completed' | 'failed';
  readonly username: string;
  /** The file as the partner sees it (under their home). */
  readonly path: string;
  readonly command: string;
  /** Size of the stored object (completed), or bytes received before the failure. */
  readonly bytes: number;
  /** CRC32 of the whole object, base64 (as S3 shows it); only for a completed upload written from byte 0. */
  readonly crc32?: string;
  readonly clientAddress: string;
  readonly startedAt: Date;
  readonly durationMs: number;
  /** The reply the client got for a failed upload ("451 ..."). */
  readonly failure?: string;
}

/** No one listens (FTP_UPLOAD_EVENTS_BUS unset). */
export const NO_UPLOAD_OUTCOMES: UploadOutcomes = { report: () => undefined };
