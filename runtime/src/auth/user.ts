import type { TlsCloseNotify, TlsSessionReuse } from '../tls-policy.ts';

/** The six things a user may be allowed to do; a user file entry without a list gets all six. */
export const PERMISSIONS = ['list', 'read', 'write', 'delete', 'mkdir', 'rename'] as const;
export type Permission = (typeof PERMISSIONS)[number];


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
}

export interface LoginRequest {
  readonly username: string;
  readonly password: string;
  /** The client's address as seen on the control connection (IPv4 or IPv6, no ::ffff: prefix). */
  readonly clientAddress: string;
  /** Aborts when the client is gone: a check not started yet is then skipped and not counted. */
  readonly signal?: AbortSignal;
}

export type LoginFailure = 'bad-credentials' | 'address-not-allowed' | 'locked-out' | 'cancelled';

export type LoginResult =
  | { readonly ok: true; readonly user: User }
  | { readonly ok: false; readonly reason: LoginFailure };

export interface Authenticator {
  /**
   * Checks a login. Failures resolve (never throw) after the configured delay, so
   * the caller can answer at once; the result says why, for the log only.
   */
  login(request: LoginRequest): Promise<LoginResult>;
}
