import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { clientKey } from './ip-address.ts';
import type { LoginResult } from './user.ts';

/** Time source, replaceable in tests. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  sleep: (ms) => sleep(ms),
};

export interface LoginGuardOptions {
  /** A failed attempt resolves no earlier than this long after it started. */
  readonly failureDelayMs: number;
  /** Failures within `lockoutMs` that lock an address out; 0 = never lock out. */
  readonly maxFailures: number;
  /** The failure-counting window, and how long a lockout lasts. */
  readonly lockoutMs: number;
  readonly logger: Logger;
  /** Bound on remembered addresses; the oldest are forgotten first. @default 10000 */
  readonly maxTrackedAddresses?: number;
  /** @default SYSTEM_CLOCK */
  readonly clock?: Clock;
  /**
   * Failure counts every task shares (the state table), so N shards allow no more
   * guesses than one and a restart forgives none. Without it, counts are per task.
   */
  readonly shared?: SharedFailureCounts;
}

/** Failed logins per client key, kept where every task sees them (state/login-failures.ts). */
export interface SharedFailureCounts {
  /** When the client's lockout ends (ms since the epoch), 0 = not locked out. */
  lockedUntil(client: string): Promise<number>;
  /** Counts a failure; returns the lockout end when the client is (now) locked out, else 0. */
  recordFailure(client: string, options: { readonly username: string; readonly windowMs: number; readonly maxFailures: number }): Promise<number>;
  forgive(client: string, username: string): Promise<void>;
}

interface Failure {
  readonly at: number;
  /** The user name the failed attempt was for (a success forgives only its own name's failures). */
  readonly username: string;
}

interface AddressRecord {
  /** Recent failures (at most maxFailures of them). */
  failures: Failure[];
  /** 0 = not locked. */
  lockedUntil: number;
}

/**
 * Slows down and locks out password guessing, per client address. IPv6 clients are
 * counted per /64, since one host can usually pick any address in its /64.
 */
export class LoginGuard {
  readonly #options: Required<Omit<LoginGuardOptions, 'logger' | 'shared'>>;
  readonly #logger: Logger;
  readonly #shared: SharedFailureCounts | undefined;
  /** Insertion order doubles as age order: updated records are moved to the end. */
  readonly #records = new Map<string, AddressRecord>();
  /** Per address, the end of the last check: checks from one address run one at a time. */
  readonly #checking = new Map<string, Promise<unknown>>();

  constructor(options: LoginGuardOptions) {
    this.#options = {
      failureDelayMs: options.failureDelayMs,
      maxFailures: options.maxFailures,
      lockoutMs: options.lockoutMs,
      maxTrackedAddresses: options.maxTrackedAddresses ?? 10_000,
      clock: options.clock ?? SYSTEM_CLOCK,
    };
    this.#logger = options.logger;
    this.#shared = options.maxFailures === 0 ? undefined : options.shared;
  }

  /**
   * Runs `check` unless the address is locked out, and records the outcome. Failures
   * (including 'locked-out', decided without running `check`) resolve only after the
   * failure delay, counted from the start of the attempt.
   */
  async attempt(options: {
    readonly clientAddress: string;
    /** The name tried: a success forgives earlier failures for this name only. */
    readonly username: string;
    readonly check: () => Promise<LoginResult>;
    /** Aborted (the client left) before its turn: the check is skipped, nothing is counted. */
    readonly signal?: AbortSignal | undefined;
  }): Promise<LoginResult> {
    const { clock, failureDelayMs } = this.#options;
    const startedAt = clock.now();
    const key = clientKey(options.clientAddress);
    const result = await this.#oneAtATime(key, async () => {
      if (options.signal?.aborted) return { ok: false, reason: 'cancelled' } as const;
      if (this.#isLockedOut(key, clock.now())) return { ok: false, reason: 'locked-out' } as const;
      if (await this.#sharedLockout(key)) return { ok: false, reason: 'locked-out' } as const;
      const checked = await options.check();
      if (checked.ok) {
        this.#forgive(key, options.username);
        await this.#sharedForgive(key, options.username);
      } else if (checked.reason !== 'cancelled' && checked.reason !== 'busy') {
        if (!(await this.#sharedFailure(key, options.username))) this.#recordFailure(key, options.username, clock.now());
      }
      return checked;
    });
    if (result.ok || result.reason === 'cancelled' || result.reason === 'busy') return result;
    // The delay runs outside the per-address queue: it slows the guesser, not the count.
    const remaining = startedAt + failureDelayMs - clock.now();
    if (remaining > 0) await clock.sleep(remaining);
    return result;
  }

  /**
   * Attempts from one address are checked one after another, so guesses sent in
   * parallel are counted exactly: once the lockout threshold is reached, the
   * attempts still queued are refused without checking their password.
   */
  async #oneAtATime(key: string, check: () => Promise<LoginResult>): Promise<LoginResult> {
    const previous = this.#checking.get(key) ?? Promise.resolve();
    const current = previous.then(check, check);
    const settled = current.then(
      () => undefined,
      () => undefined,
    );
    this.#checking.set(key, settled);
    void settled.then(() => {
      if (this.#checking.get(key) === settled) this.#checking.delete(key);
    });
    return await current;
  }

  /** Whether another task (or this one before a restart) locked the client out. */
  async #sharedLockout(key: string): Promise<boolean> {
    if (!this.#shared) return false;
    try {
      const until = await this.#shared.lockedUntil(key);
      if (until > this.#options.clock.now()) this.#lockLocally(key, until);
      return until > this.#options.clock.now();
    } catch (error) {
      this.#sharedFailed(error);
      return false;
    }
  }

  /** Counts a failure in the shared state too; true when that locked the client out (counted and logged here). */
  async #sharedFailure(key: string, username: string): Promise<boolean> {
    if (!this.#shared) return false;
    const { maxFailures, lockoutMs } = this.#options;
    try {
      const until = await this.#shared.recordFailure(key, { username, windowMs: lockoutMs, maxFailures });
      if (until === 0) return false;
      this.#lockLocally(key, until);
      this.#logger.warn(
        { event: 'lockout', clientAddress: key, failures: maxFailures, lockoutSeconds: lockoutMs / 1000, scope: 'shared' },
        'login lockout: too many failed logins from this address',
      );
      return true;
    } catch (error) {
      this.#sharedFailed(error);
      return false;
    }
  }

  async #sharedForgive(key: string, username: string): Promise<void> {
    try {
      await this.#shared?.forgive(key, username);
    } catch (error) {
      this.#sharedFailed(error);
    }
  }

  /** The shared counts are out of reach: this task's own counts still hold. */
  #sharedFailed(error: unknown): void {
    this.#logger.warn({ event: 'shared-state-error', use: 'lockout', err: error }, 'lockout counts: shared state unavailable, counting on this task only');
  }

  #lockLocally(key: string, until: number): void {
    let record = this.#records.get(key);
    if (record === undefined) {
      this.#makeRoom(this.#options.clock.now());
      record = { failures: [], lockedUntil: 0 };
    }
    this.#records.delete(key);
    record.failures = [];
    record.lockedUntil = until;
    this.#records.set(key, record);
  }

  /** Whether logins from this address are refused right now. */
  isLockedOut(clientAddress: string): boolean {
    return this.#isLockedOut(clientKey(clientAddress), this.#options.clock.now());
  }

  /** How many addresses are remembered (for tests and metrics). */
  get trackedAddresses(): number {
    return this.#records.size;
  }

  #isLockedOut(key: string, now: number): boolean {
    const record = this.#records.get(key);
    if (record === undefined || record.lockedUntil === 0) return false;
    if (record.lockedUntil > now) return true;
    this.#records.delete(key); // lockout over: start counting afresh
    return false;
  }

  /**
   * A success forgives the failures for the name that just logged in (a partner who
   * mistyped its own password), never those for other names: otherwise anyone with
   * one account of their own could erase their guesses at others' before each lockout
   * (fail2ban and SFTPGo's defender do not reset on success either).
   */
  #forgive(key: string, username: string): void {
    const record = this.#records.get(key);
    if (record === undefined || record.lockedUntil !== 0) return;
    record.failures = record.failures.filter((failure) => failure.username !== username);
    if (record.failures.length === 0) this.#records.delete(key);
  }

  #recordFailure(key: string, username: string, now: number): void {
    const { maxFailures, lockoutMs } = this.#options;
    if (maxFailures === 0) return;
    let record = this.#records.get(key);
    if (record === undefined) {
      this.#makeRoom(now);
      record = { failures: [], lockedUntil: 0 };
    } else {
      this.#records.delete(key);
    }
    this.#records.set(key, record);
    if (record.lockedUntil > now) return; // a slow attempt that started before the lockout
    record.failures = record.failures.filter((failure) => failure.at > now - lockoutMs);
    record.failures.push({ at: now, username });
    if (record.failures.length >= maxFailures) {
      record.failures = [];
      record.lockedUntil = now + lockoutMs;
      this.#logger.warn(
        { event: 'lockout', clientAddress: key, failures: maxFailures, lockoutSeconds: lockoutMs / 1000 },
        'login lockout: too many failed logins from this address',
      );
    }
  }

  /** Forgets expired records, then the oldest ones, so a new record fits. */
  #makeRoom(now: number): void {
    const { maxTrackedAddresses, lockoutMs } = this.#options;
    if (this.#records.size < maxTrackedAddresses) return;
    for (const [key, record] of this.#records) {
      const lastFailure = record.failures.at(-1)?.at ?? 0;
      if (record.lockedUntil <= now && lastFailure <= now - lockoutMs) this.#records.delete(key);
    }
    // Then the oldest, down to 90%, so a flood of new addresses does not sweep on every insert.
    const target = Math.floor(maxTrackedAddresses * 0.9);
    for (const key of this.#records.keys()) {
      if (this.#records.size <= target) break;
      this.#records.delete(key);
    }
  }
}
