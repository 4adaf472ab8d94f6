import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/user.ts';
import type { TlsCloseNotify, TlsMode, TlsSessionReuse } from '../tls-policy.ts';
import type { QuotaLedger } from '../state/quota-ledger.ts';
import type { SessionLeases } from '../state/session-leases.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { ConnectionLimits } from './connection-limits.ts';
import type { PassivePortPool } from './passive-ports.ts';
import type { UploadOutcomes } from './upload-outcomes.ts';
import type { UserAllowance } from './user-allowance.ts';

/** What every control session shares, handed down from the composition root. */
export interface SessionServices {
  readonly store: ObjectStore;
  readonly authenticator: Authenticator;
  readonly passivePorts: PassivePortPool;
  /** Counts every client socket; data connections are tracked here too. */
  readonly connections: ConnectionLimits;
  /**
   * A new TLS context for one control connection and its data connections (with the
   * current certificate and ticket keys of its own); undefined when TLS is off or its
   * certificate is not available yet.
   */
  readonly newTlsContext: () => SecureContext | undefined;
  readonly settings: SessionSettings;
  /** What each user may spend per window, across all their sessions. */
  readonly allowances: UserAllowances;
  /** Partners' quotaBytes/quotaFiles counts; without it quotas are not enforced. */
  readonly quota?: QuotaLedger;
  /**
   * The one session continuing each pending upload, across shards with a state table;
   * without it only the store's per-process claim holds.
   */
  readonly uploadLeases?: SessionLeases;
  readonly logger: Logger;
  /**
   * Told of every upload's end (upload events for EventBridge).
   * @default - nobody
   */
  readonly uploadOutcomes?: UploadOutcomes;
}

export interface UserAllowances {
  /** Bytes read from S3 to compute checksums. */
  readonly checksumReadBytes: UserAllowance;
  /** Metadata-only rewrites of an object (MFMT and friends): a copy inside S3 each. */
  readonly metadataRewrites: UserAllowance;
  /** Objects copied by renames (RNTO): a copy inside S3 each. */
  readonly renamedObjects: UserAllowance;
  /** Kept bytes of resumes and appends read from S3 and uploaded again (what S3 cannot copy). */
  readonly readBackBytes: UserAllowance;
}

export interface SessionSettings {
  readonly tlsMode: TlsMode;
  readonly activeMode: boolean;
  /** IPv4 address advertised by PASV; undefined = the control connection's local address. */
  readonly passiveAddress: string | undefined;
  readonly dataConnectionTimeoutMs: number;
  readonly loginTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Deadline of every TLS handshake: implicit FTPS, AUTH TLS and PROT P data connections. */
  readonly tlsHandshakeTimeoutMs: number;
  /** `required`: a PROT P data connection must resume its control connection's TLS session. */
  readonly tlsSessionReuse: TlsSessionReuse;
  /** `required`: a PROT P upload must end with the client's close_notify to be committed. */
  readonly tlsCloseNotify: TlsCloseNotify;
}
