import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ConcurrencyLimit } from './concurrency-limit.ts';
import type { WatchedDocument } from '../sources/watched-document.ts';
import type { LoginGuard } from './login-guard.ts';
import { hashPassword, verifyPassword } from './password-hash.ts';
import { VerifiedPasswordCache } from './verified-password-cache.ts';
import type { Authenticator, LoginRequest, LoginResult, User } from './user.ts';
import { parseUsersDocument, UsersFileError, type UserRecord } from './users-file.ts';

export interface UserAuthenticatorOptions {
  /** The users JSON; create() reads it and watches it. The caller closes it. */
  readonly document: WatchedDocument;
  readonly guard: LoginGuard;
  readonly logger: Logger;
  /** Password verifications running at once (each is ~80 ms of scrypt on libuv's pool). @default 2 */
  readonly maxConcurrentVerifications?: number;
  /** How long a verified password is remembered (0 = never). @default 10 minutes */
  readonly verifiedPasswordTtlMs?: number;
}

interface Account {
  readonly record: UserRecord;
  /** What login hands out: no hash, no allow list. */
  readonly user: User;
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

/** Checks logins against the users document, which it reloads when it changes. */
export class UserAuthenticator implements Authenticator {
  readonly #guard: LoginGuard;
  readonly #logger: Logger;
  /** Verified when the username is unknown, so unknown users cost the same time. */
  readonly #dummyHash: string;
  readonly #verifications: ConcurrencyLimit;
  readonly #verified: VerifiedPasswordCache | undefined;
  #accounts: ReadonlyMap<string, Account>;

  private constructor(options: UserAuthenticatorOptions & { readonly records: UserRecord[]; readonly dummyHash: string }) {
    this.#guard = options.guard;
    this.#logger = options.logger;
    this.#dummyHash = options.dummyHash;
    this.#verifications = new ConcurrencyLimit(options.maxConcurrentVerifications ?? 2);
    const ttlMs = options.verifiedPasswordTtlMs ?? 10 * 60_000;
    this.#verified = ttlMs > 0 ? new VerifiedPasswordCache({ ttlMs, maxEntries: 10_000 }) : undefined;
    this.#accounts = toAccounts(options.records);
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
      records = parseUsersDocument(text);
    } catch (error) {
      if (error instanceof UsersFileError) {
        throw new UsersDocumentError(`${document.description}: ${error.message}`);
      }
      throw error;
    }
    const dummyHash = await hashPassword(randomBytes(16).toString('base64'));
    const authenticator = new UserAuthenticator({ ...options, records, dummyHash });
    options.logger.info({ event: 'users-loaded', users: records.length }, 'users loaded');
    document.watch((changed) => authenticator.#reload(changed));
    return authenticator;
  }

  /** How many users are in force. */
  get userCount(): number {
    return this.#accounts.size;
  }

  login(request: LoginRequest): Promise<LoginResult> {
    return this.#guard.attempt({
      clientAddress: request.clientAddress,
      check: () => this.#check(request),
      signal: request.signal,
    });
  }

  /** Never throws, so a failure still goes through the guard's delay and counting. */
  async #check(request: LoginRequest): Promise<LoginResult> {
    const account = this.#accounts.get(request.username);
    // Always verify, against a throwaway hash for unknown users: same work, same time.
    const hash = account?.record.passwordHash ?? this.#dummyHash;
    const remembered = (): boolean => account !== undefined && this.#verified?.has(request.username, hash, request.password) === true;
    let passwordMatches = remembered();
    if (!passwordMatches) {
      try {
        // Looked up again once a slot is free: logins that arrive together all miss the
        // cache, and without this each would run scrypt after the first had verified it.
        passwordMatches = await this.#verifications.run(async () => {
          if (remembered()) return true;
          const matches = await verifyPassword(request.password, hash);
          if (account !== undefined && matches) this.#verified?.remember(request.username, hash, request.password);
          return matches;
        }, request.signal);
      } catch (error) {
        // A client gone while waiting for a verification slot: no scrypt, no count.
        if (request.signal?.aborted) return { ok: false, reason: 'cancelled' };
        this.#logger.error({ event: 'password-check-error', err: { type: (error as Error).name, message: (error as Error).message } }, 'password check failed');
      }
    }
    if (account === undefined || !passwordMatches) return { ok: false, reason: 'bad-credentials' };
    const { allowFrom } = account.record;
    if (allowFrom !== undefined && !allowFrom.allows(request.clientAddress)) {
      return { ok: false, reason: 'address-not-allowed' };
    }
    return { ok: true, user: account.user };
  }

  #reload(text: string): void {
    let records: UserRecord[];
    try {
      records = parseUsersDocument(text);
    } catch (error) {
      if (!(error instanceof UsersFileError)) throw error;
      this.#logger.error(
        { event: 'users-invalid', problem: error.message, users: this.#accounts.size },
        'users document is invalid; keeping the previous users',
      );
      return;
    }
    const before = this.#accounts;
    this.#accounts = toAccounts(records);
    const added = records.filter((record) => !before.has(record.username)).length;
    const removed = [...before.keys()].filter((username) => !this.#accounts.has(username)).length;
    this.#logger.info({ event: 'users-reloaded', users: records.length, added, removed }, 'users reloaded');
  }
}

function toAccounts(records: readonly UserRecord[]): ReadonlyMap<string, Account> {
  return new Map(
    records.map((record) => [
      record.username,
      {
        record,
        user: Object.freeze({
          username: record.username,
          home: record.home,
          permissions: record.permissions,
          ...(record.tlsSessionReuse ? { tlsSessionReuse: record.tlsSessionReuse } : {}),
          ...(record.tlsCloseNotify ? { tlsCloseNotify: record.tlsCloseNotify } : {}),
        }),
      },
    ]),
  );
}
