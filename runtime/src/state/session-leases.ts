import { randomBytes } from 'node:crypto';
import type { SharedState, StateDocument } from './shared-state.ts';

/** A session's hold on one of its partner's `maxSessions` places; renewed until released. */
export interface SessionLease {
  release(): Promise<void>;
}

export type LeaseOutcome =
  | { readonly ok: true; readonly lease: SessionLease }
  | { readonly ok: false; readonly holders: number };

export interface SessionLeasesOptions {
  readonly state: SharedState;
  /** A lease not renewed for this long is free again (a killed task's sessions). */
  readonly ttlMs: number;
  /**
   * What is leased, the first part of each record's key: 'sessions' (a partner's
   * maxSessions places, by user name) or 'upload' (the one session continuing a
   * pending upload, by its store path).
   * @default 'sessions'
   */
  readonly kind?: 'sessions' | 'upload';
  /** Called when a renewal fails (the lease may then lapse while the session lives). */
  readonly onRenewFailure?: (error: unknown, name: string) => void;
}

/**
 * Concurrent sessions per partner across every task: one record per partner holding a
 * lease per live session with its expiry time. A session takes a lease at login and
 * renews it every third of the TTL; a task that dies stops renewing, and its sessions'
 * places are free once their leases lapse. The same record, with a limit of 1, holds
 * a pending upload for the one session continuing it (kind 'upload'). Each login, renewal and release is one
 * change of one record (a GetItem and a conditional write, retried on a race).
 */
export class SessionLeases {
  readonly #state: SharedState;
  readonly #ttlMs: number;
  readonly #onRenewFailure: (error: unknown, name: string) => void;
  readonly #kind: 'sessions' | 'upload';
  /** Names this task's leases apart from other tasks'. */
  readonly #task = randomBytes(6).toString('hex');
  #sequence = 0;

  constructor(options: SessionLeasesOptions) {
    this.#state = options.state;
    this.#ttlMs = options.ttlMs;
    this.#onRenewFailure = options.onRenewFailure ?? (() => undefined);
    this.#kind = options.kind ?? 'sessions';
  }

  get scope(): 'shared' | 'task' {
    return this.#state.scope;
  }

  /** Takes a place on `name` (a user name, or an upload's path) for a session, unless `limit` sessions hold one already. */
  async acquire(name: string, limit: number): Promise<LeaseOutcome> {
    const key = `${this.#kind}#${name}`;
    const holder = `${this.#task}.${++this.#sequence}`;
    const ttlMs = this.#ttlMs;
    const taken = await this.#state.modify(key, (current, now) => {
      const leases = liveLeases(current, now);
      if (Object.keys(leases).length >= limit) return { result: Object.keys(leases).length };
      leases[holder] = now + ttlMs;
      return { result: -1, write: recordOf(leases) };
    });
    if (taken >= 0) return { ok: false, holders: taken };
    const timer = setInterval(() => {
      void this.#renew(key, holder).catch((error: unknown) => this.#onRenewFailure(error, name));
    }, Math.max(1, Math.floor(ttlMs / 3)));
    timer.unref();
    let released: Promise<void> | undefined;
    return {
      ok: true,
      lease: {
        release: () => {
          clearInterval(timer);
          released ??= this.#state.modify(key, (current, now) => {
            const leases = liveLeases(current, now);
            if (!(holder in leases)) return { result: undefined };
            delete leases[holder];
            return { result: undefined, write: recordOf(leases) };
          });
          return released;
        },
      },
    };
  }

  /** Moves the lease's expiry on (or puts it back, if it lapsed while the session lived). */
  async #renew(key: string, holder: string): Promise<void> {
    const ttlMs = this.#ttlMs;
    await this.#state.modify(key, (current, now) => {
      const leases = liveLeases(current, now);
      leases[holder] = now + ttlMs;
      return { result: undefined, write: recordOf(leases) };
    });
  }
}

/** The leases of a record that have not lapsed, holder → expiry. */
function liveLeases(current: StateDocument | undefined, now: number): Record<string, number> {
  const live: Record<string, number> = {};
  const leases = current?.['leases'];
  if (typeof leases !== 'object' || leases === null) return live;
  for (const [holder, expiry] of Object.entries(leases as Record<string, unknown>)) {
    if (typeof expiry === 'number' && expiry > now) live[holder] = expiry;
  }
  return live;
}

/** The record for these leases: it lapses with its last lease; none left deletes it. */
function recordOf(leases: Record<string, number>): { value: StateDocument | undefined; expiresAt: number } {
  const expiries = Object.values(leases);
  if (expiries.length === 0) return { value: undefined, expiresAt: 0 };
  return { value: { leases }, expiresAt: Math.max(...expiries) };
}
