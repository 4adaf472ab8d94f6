import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ConcurrencyLimit, QueueFullError } from '../concurrency-limit.ts';
import type { WatchedDocument } from '../sources/watched-document.ts';
import type { LoginGuard } from './login-guard.ts';
import { hashPassword, verifyPassword } from './password-hash.ts';
import { credentialFingerprint, VerifiedPasswordCache } from './verified-password-cache.ts';
import type { Authenticator, LoginRequest, LoginResult, SessionReview, User } from './user.ts';
import { parseUsersDocument, UsersFileError, type UserRecord } from './users-file.ts';

export interface UserAuthenticatorOptions {
  /** The users JSON; create() reads it and watches it. The caller closes it. */
  readonly document: WatchedDocument;
  readonly guard: LoginGuard;
  readonly logger: Logger;
  /** Password verifications running at once (each is ~80 ms of scrypt on libuv's pool). @default 2 */
  readonly maxConcurrentVerifications?: number;
  /**
   * Verifications that may wait for a slot in all; past this a login is refused at once
   * (421). A bound on memory: the wait bound below usually refuses first. @default 256
   */
  readonly maxQueuedVerifications?: number;
  /**
   * Past this expected wait for a verification slot (the turns before it times the
   * recent verification time), a login is refused at once too, rather than answered
   * too close to the login timeout to be of use. Turns go round the user names, so a
   * name under a flood reaches this long before anyone else's. The composition root
   * passes half the login timeout. @default 30 seconds
   */
  readonly maxVerificationWaitMs?: number;
  /** How long a verified password is remembered (0 = never). @default 10 minutes */
  readonly verifiedPasswordTtlMs?: number;
}

interface Account {
  readonly record: UserRecord;
  /** What login hands out: no hash, no allow list. */
  readonly user: User;
}

/** One scrypt verification that identical attempts arriving meanwhile share. */
interface Flight {
  readonly matches: Promise<boolean>;
  /** The signal of the attempt that started it: if that client leaves, the others go again. */
  readonly signal: AbortSignal | undefined;
}

/**
 * The users document cannot be used at startup (unreadable or invalid). The message
 * names the document (`file /etc/users.json: ...`); the composition root adds which
 * setting pointed at it.
 */
export class UsersDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsersDocumentError';
  }
}

/**
 * Checks logins against the users document, which it reloads when it changes, and
 * tells open sessions what a change means for them.
 */
export class UserAuthenticator implements Authenticator {
  readonly #guard: LoginGuard;
  readonly #logger: Logger;
  readonly #verifications: ConcurrencyLimit;
  readonly #maxWaitMs: number;
  readonly #verified: VerifiedPasswordCache | undefined;
  /** Verifications in flight, by credential fingerprint (under a key of this process's own). */
  readonly #flights = new Map<string, Flight>();
  readonly #fingerprintKey = randomBytes(32);
  /** A running average of one scrypt verification, which an unknown name's failure imitates. */
  #verificationMs: number;
  #accounts: ReadonlyMap<string, Account>;
  /** The account each handed-out User came from, to tell what a reload changed for a session. */
  readonly #accountOf = new WeakMap<User, Account>();
  readonly #listeners = new Set<() => void>();
  /** The last `logins-busy` line, and the refusals not logged since (a flood must not flood the log). */
  #busyLog: { at: number; suppressed: number } | undefined;
  /** Unknown names' failures in progress, per name: they wait as if queued, without a place in the queue. */
  readonly #imitating = new Map<string, number>();
  /** Fires when the next account expires, so its sessions end then (one timer, whatever the number of sessions). */
  #expiryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: UserAuthenticatorOptions & { readonly records: UserRecord[]; readonly verificationMs: number }) {
    this.#guard = options.guard;
    this.#logger = options.logger;
    this.#verificationMs = options.verificationMs;
    this.#verifications = new ConcurrencyLimit({
      limit: options.maxConcurrentVerifications ?? 2,
      maxWaiting: options.maxQueuedVerifications ?? 256,
    });
    this.#maxWaitMs = options.maxVerificationWaitMs ?? 30_000;
    const ttlMs = options.verifiedPasswordTtlMs ?? 10 * 60_000;
    this.#verified = ttlMs > 0 ? new VerifiedPasswordCache({ ttlMs, maxEntries: 10_000 }) : undefined;
    this.#accounts = this.#toAccounts(options.records, new Map());
  }

  /**
   * Reads and checks the users document, then watches it. A missing or invalid
   * document throws a UsersDocumentError.
   * A document that turns invalid later is logged and the previous users stay.
   */
  static async create(options: UserAuthenticatorOptions): Promise<UserAuthenticator> {
    const { document } = options;
    let text: string;
    try {
      text = await document.read();
    } catch (error) {
      throw new UsersDocumentError(`cannot read the ${document.description}: ${(error as Error).message}`);
    }
    let records: UserRecord[];
    try {
      records = parseUsersDocument(text, { onWarning: (warning) => warnIgnored(options.logger, warning) });
    } catch (error) {
      if (error instanceof UsersFileError) {
        throw new UsersDocumentError(`${document.description}: ${error.message}`);
      }
      throw error;
    }
    // One hash at the default cost: the first estimate of what a verification takes here.
    const started = performance.now();
    await hashPassword(randomBytes(16).toString('base64'));
    const authenticator = new UserAuthenticator({ ...options, records, verificationMs: performance.now() - started });
    options.logger.info({ event: 'users-loaded', users: records.length }, 'users loaded');
    document.watch((changed) => authenticator.#reload(changed));
    authenticator.#scheduleExpiry();
    return authenticator;
  }

  /** Stops the expiry timer (the document is the caller's to close). */
  close(): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#closed = true;
  }

  /** How many users are in force. */
  get userCount(): number {
    return this.#accounts.size;
  }

  login(request: LoginRequest): Promise<LoginResult> {
    return this.#guard.attempt({
      clientAddress: request.clientAddress,
      username: request.username,
      check: () => this.#check(request),
      signal: request.signal,
    });
  }

  onUsersChanged(listener: () => void): void {
    this.#listeners.add(listener);
  }

  /**
   * A removed, disabled or expired user, a changed password and an allowFrom that no
   * longer admits the session's address revoke what the session logged in with: it ends at once. A
   * moved home ends it once its command in progress is over (an upload started in the
   * old home is the user's data, not lost). Other changes (permissions, TLS session
   * reuse) apply from the next command.
   */
  review(session: { readonly user: User; readonly clientAddress: string }): SessionReview {
    const current = this.#accounts.get(session.user.username);
    if (current === undefined) return { action: 'end', reason: 'removed', when: 'now' };
    if (current.record.disabled) return { action: 'end', reason: 'disabled', when: 'now' };
    if (isExpired(current.record, Date.now())) return { action: 'end', reason: 'expired', when: 'now' };
    if (current.user === session.user) return { action: 'keep' };
    const before = this.#accountOf.get(session.user);
    if (before === undefined || before.record.passwordHash !== current.record.passwordHash) {
      return { action: 'end', reason: 'password-changed', when: 'now' };
    }
    const { allowFrom } = current.record;
    if (allowFrom !== undefined && !allowFrom.allows(session.clientAddress)) {
      return { action: 'end', reason: 'address-not-allowed', when: 'now' };
    }
    if (before.record.home !== current.record.home) return { action: 'end', reason: 'home-changed', when: 'after-command' };
    return { action: 'update', user: current.user };
  }

  /** Never throws, so a failure still goes through the guard's delay and counting. */
  async #check(request: LoginRequest): Promise<LoginResult> {
    const account = this.#accounts.get(request.username);
    const remembered = (): boolean =>
      account !== undefined && this.#verified?.has(request.username, account.record.passwordHash, request.password) === true;
    if (!remembered()) {
      // Decided before looking the name up: a known name and an unknown one get the same answer.
      const waitMs = this.#expectedWaitMs(request.username);
      if (this.#verifications.full || waitMs > this.#maxWaitMs) return this.#busy(waitMs);
      if (account === undefined) return await this.#imitateVerification(request, waitMs);
      try {
        if (!(await this.#verify(account, request, remembered))) return { ok: false, reason: 'bad-credentials' };
      } catch (error) {
        // A client gone while waiting for a verification slot: no scrypt, no count.
        if (request.signal?.aborted) return { ok: false, reason: 'cancelled' };
        if (error instanceof QueueFullError) return this.#busy(this.#expectedWaitMs(request.username));
        this.#logger.error({ event: 'password-check-error', err: { type: (error as Error).name, message: (error as Error).message } }, 'password check failed');
        return { ok: false, reason: 'bad-credentials' };
      }
    }
    // A reload while scrypt ran: the login gets the users now in force, if its password still is one.
    const current = this.#accounts.get(request.username);
    if (current === undefined || current.record.passwordHash !== account?.record.passwordHash) return { ok: false, reason: 'bad-credentials' };
    if (current.record.disabled) return { ok: false, reason: 'disabled' };
    if (isExpired(current.record, Date.now())) return { ok: false, reason: 'expired' };
    const { allowFrom } = current.record;
    if (allowFrom !== undefined && !allowFrom.allows(request.clientAddress)) {
      return { ok: false, reason: 'address-not-allowed' };
    }
    return { ok: true, user: current.user };
  }

  /**
   * An unknown name runs no scrypt (a spray of made-up names must not occupy the
   * threads real partners need), but fails only after as long as a verification would
   * take now, queue included: its reply time does not tell it from a wrong password.
   */
  async #imitateVerification(request: LoginRequest, waitMs: number): Promise<LoginResult> {
    const { username, signal } = request;
    this.#imitating.set(username, (this.#imitating.get(username) ?? 0) + 1);
    try {
      await sleep(waitMs + this.#verificationMs, undefined, signal ? { signal } : undefined);
    } catch {
      return { ok: false, reason: 'cancelled' };
    } finally {
      const left = (this.#imitating.get(username) ?? 1) - 1;
      if (left > 0) this.#imitating.set(username, left);
      else this.#imitating.delete(username);
    }
    return { ok: false, reason: 'bad-credentials' };
  }

  /** A refusal for a full queue, logged at most once a second with the count of those not logged. */
  #busy(waitMs: number): LoginResult {
    const now = Date.now();
    const last = this.#busyLog;
    if (last !== undefined && now - last.at < 1000) {
      last.suppressed += 1;
    } else {
      this.#busyLog = { at: now, suppressed: 0 };
      this.#logger.warn(
        { event: 'logins-busy', waiting: this.#verifications.waiting, expectedWaitMs: Math.round(waitMs), suppressedSinceLast: last?.suppressed ?? 0 },
        'login refused (421): too many password checks waiting',
      );
    }
    return { ok: false, reason: 'busy' };
  }

  /**
   * How long a verification for `username` queued now would wait for its slot; an
   * unknown name's failures in progress count as its own queue, so a flood of one
   * made-up name is refused as soon as a flood of one real name would be.
   */
  #expectedWaitMs(username: string): number {
    const { limit, running } = this.#verifications;
    const turns = this.#verifications.turnsBefore(username, this.#imitating.get(username) ?? 0);
    if (turns === 0 && running < limit) return 0;
    // A slot frees every verification time / limit on average; this one takes the (turns + 1)th.
    return ((turns + 1) / limit) * this.#verificationMs;
  }

  /**
   * Verifies the password, sharing one scrypt among identical attempts in flight (a
   * partner's script opening many sessions at once, or one guess sent from many
   * addresses): only the first takes a place in the queue.
   */
  async #verify(account: Account, request: LoginRequest, remembered: () => boolean): Promise<boolean> {
    const { username, password, signal } = request;
    const { passwordHash } = account.record;
    const fingerprint = credentialFingerprint({ key: this.#fingerprintKey, username, passwordHash, password });
    for (;;) {
      let flight = this.#flights.get(fingerprint);
      if (flight === undefined) {
        const matches = this.#verifications.run(
          async () => {
            // Looked up again once a slot is free: an earlier verification may have remembered it.
            if (remembered()) return true;
            const started = performance.now();
            const result = await verifyPassword(password, passwordHash);
            this.#verificationMs = 0.8 * this.#verificationMs + 0.2 * (performance.now() - started);
            if (result) this.#verified?.remember(username, passwordHash, password);
            return result;
          },
          // The estimate that let it in can be wrong (a burst before the machine got loaded): the bound holds anyway.
          { key: username, signal, maxWaitMs: this.#maxWaitMs },
        );
        const started: Flight = { matches, signal };
        flight = started;
        this.#flights.set(fingerprint, started);
        const done = (): void => {
          if (this.#flights.get(fingerprint) === started) this.#flights.delete(fingerprint);
        };
        matches.then(done, done);
      }
      try {
        return await flight.matches;
      } catch (error) {
        // The client that started it left before its turn: this one, still here, goes again.
        if (signal?.aborted || flight.signal === signal || !flight.signal?.aborted) throw error;
        if (this.#flights.get(fingerprint) === flight) this.#flights.delete(fingerprint);
      }
    }
  }

  #reload(text: string): void {
    let records: UserRecord[];
    try {
      records = parseUsersDocument(text, { onWarning: (warning) => warnIgnored(this.#logger, warning) });
    } catch (error) {
      if (!(error instanceof UsersFileError)) throw error;
      this.#logger.error(
        { event: 'users-invalid', problem: error.message, users: this.#accounts.size },
        'users document is invalid; keeping the previous users',
      );
      return;
    }
    const before = this.#accounts;
    this.#accounts = this.#toAccounts(records, before);
    const added = records.filter((record) => !before.has(record.username)).length;
    const removed = [...before.keys()].filter((username) => !this.#accounts.has(username)).length;
    const changed = [...this.#accounts].filter(([username, account]) => before.has(username) && before.get(username) !== account).length;
    this.#logger.info({ event: 'users-reloaded', users: records.length, added, removed, changed }, 'users reloaded');
    this.#scheduleExpiry();
    if (added + removed + changed === 0) return;
    this.#notify();
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  /**
   * Arms the one timer for the soonest expiry still ahead; when it fires, every session
   * is reviewed (review() ends the expired ones) and the next expiry is armed.
   */
  #scheduleExpiry(): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    if (this.#closed) return;
    const now = Date.now();
    let next = Infinity;
    for (const { record } of this.#accounts.values()) {
      if (record.expiresAtMs !== undefined && record.expiresAtMs > now && record.expiresAtMs < next) next = record.expiresAtMs;
    }
    if (next === Infinity) return;
    // setTimeout holds at most 2^31-1 ms (24.8 days); a later expiry re-arms on the way.
    this.#expiryTimer = setTimeout(() => {
      if (Date.now() >= next) {
        this.#logger.info({ event: 'users-expired', at: new Date(next).toISOString() }, 'an account expired; ending its sessions');
        this.#notify();
      }
      this.#scheduleExpiry();
    }, Math.min(next - now, MAX_TIMER_MS));
    this.#expiryTimer.unref();
  }

  /** An entry that did not change keeps its account (and User object), so its sessions see no change. */
  #toAccounts(records: readonly UserRecord[], before: ReadonlyMap<string, Account>): ReadonlyMap<string, Account> {
    return new Map(
      records.map((record) => {
        const previous = before.get(record.username);
        if (previous !== undefined && sameRecord(previous.record, record)) return [record.username, previous];
        const account: Account = {
          record,
          user: Object.freeze({
            username: record.username,
            home: record.home,
            permissions: record.permissions,
            ...(record.limits ? { limits: record.limits } : {}),
            ...(record.tlsSessionReuse ? { tlsSessionReuse: record.tlsSessionReuse } : {}),
            ...(record.tlsCloseNotify ? { tlsCloseNotify: record.tlsCloseNotify } : {}),
          }),
        };
        this.#accountOf.set(account.user, account);
        return [record.username, account];
      }),
    );
  }
}

function sameRecord(a: UserRecord, b: UserRecord): boolean {
  const cidrs = (record: UserRecord): string | undefined =>
    record.allowFrom?.cidrs.map((cidr) => `${cidr.network}/${cidr.prefixLength}`).join(',');
  return (
    a.passwordHash === b.passwordHash &&
    a.home === b.home &&
    a.tlsSessionReuse === b.tlsSessionReuse &&
    a.tlsCloseNotify === b.tlsCloseNotify &&
    a.disabled === b.disabled &&
    a.expiresAtMs === b.expiresAtMs &&
    JSON.stringify(a.limits ?? {}) === JSON.stringify(b.limits ?? {}) &&
    cidrs(a) === cidrs(b) &&
    a.permissions.size === b.permissions.size &&
    [...a.permissions].every((permission) => b.permissions.has(permission))
  );
}

const MAX_TIMER_MS = 2 ** 31 - 1;

function isExpired(record: UserRecord, now: number): boolean {
  return record.expiresAtMs !== undefined && now >= record.expiresAtMs;
}

/** A field of a newer document version, left out: logged so the operator sees the rollout is not finished. */
function warnIgnored(logger: Logger, warning: string): void {
  logger.warn({ event: 'users-field-ignored', problem: warning }, 'users document field unknown to this version; ignored');
}
