import type { TlsCloseNotify, TlsSessionReuse } from '../tls-policy.ts';

/** The six things a user may be allowed to do; a user file entry without a list gets all six. */
export const PERMISSIONS = ['list', 'read', 'write', 'delete', 'mkdir', 'rename'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * A partner's own limits, each optional: absent means only the server-wide limits apply.
 * Where the bridge has a shared state table they hold across every shard.
 */
export interface PartnerLimits {
  /** Concurrent sessions of this partner, across all shards. */
  readonly maxSessions?: number;
  /** Upload bandwidth, KiB per second. */
  readonly uploadKiBps?: number;
  /** Download bandwidth, KiB per second. */
  readonly downloadKiBps?: number;
  /** Bytes the partner's home may hold (pending resumable uploads included). */
  readonly quotaBytes?: number;
  /** Files the partner's home may hold. */
  readonly quotaFiles?: number;
}

/** A logged-in user as the protocol side sees it. */
export interface User {
  readonly username: string;
  /** Store path of the user's root (no leading or trailing slash; '' is the whole store). */
  readonly home: string;
  readonly permissions: ReadonlySet<Permission>;
  /** Overrides FTP_TLS_SESSION_REUSE for this user (for clients that cannot resume). */
  readonly tlsSessionReuse?: TlsSessionReuse;
  /** Overrides FTP_TLS_CLOSE_NOTIFY for this user (for clients that never send a close_notify). */
  readonly tlsCloseNotify?: TlsCloseNotify;
  /** This partner's limits; undefined = none of its own. */
  readonly limits?: PartnerLimits;
}

export interface LoginRequest {
  readonly username: string;
  readonly password: string;
  /** The client's address as seen on the control connection (IPv4 or IPv6, no ::ffff: prefix). */
  readonly clientAddress: string;
  /** Aborts when the client is gone: a check not started yet is then skipped and not counted. */
  readonly signal?: AbortSignal;
}

/**
 * `busy`: too many password checks are waiting; refused at once (the caller answers
 * 421), not delayed and not counted as a guess.
 */
export type LoginFailure = 'bad-credentials' | 'address-not-allowed' | 'disabled' | 'expired' | 'locked-out' | 'cancelled' | 'busy';


export type LoginResult =
  | { readonly ok: true; readonly user: User }
  | { readonly ok: false; readonly reason: LoginFailure };

/**
 * What a changed users document means for a session logged in before the change:
 * keep it as it is, go on with the user's new permissions, or end it, at once or once
 * its command in progress is over.
 */
export type SessionReview =
  | { readonly action: 'keep' }
  | { readonly action: 'update'; readonly user: User }
  | { readonly action: 'end'; readonly reason: SessionEndReason; readonly when: 'now' | 'after-command' };

/**
 * Why a reload (or an account's expiry time) ends a session: `now` for a revoked
 * credential, a disabled or expired account; `after-command` for a moved home.
 */
export type SessionEndReason = 'removed' | 'password-changed' | 'address-not-allowed' | 'disabled' | 'expired' | 'home-changed';

export interface Authenticator {
  /**
   * Checks a login. Failures resolve (never throw) after the configured delay, so
   * the caller can answer at once; the result says why, for the log only.
   */
  login(request: LoginRequest): Promise<LoginResult>;
  /**
   * Calls `listener` whenever the users in force change (a reload that changed
   * something) and when an account's expiry time passes.
   */
  onUsersChanged(listener: () => void): void;
  /** What the users now in force mean for a session logged in as `user` from `clientAddress`. */
  review(session: { readonly user: User; readonly clientAddress: string }): SessionReview;
}
