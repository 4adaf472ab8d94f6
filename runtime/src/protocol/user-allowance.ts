import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { ReplyError } from './reply.ts';

/**
 * An amount each user may spend per time window, shared by all of that user's
 * sessions on this task: bytes read to compute checksums, metadata-only rewrites.
 * Work that costs S3 requests and bytes is bounded per partner, however many
 * sessions they open.
 *
 * A fixed window per user, opened by their first spending: lru-cache's TTL ends it
 * (so a quiet user holds nothing) and its size bound caps the table (a user pushed
 * out merely starts a new window; users come from the users document, so far fewer
 * than the bound in practice).
 */
export class UserAllowance {
  /** The `allowance` of its `allowance-exceeded` log lines. */
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly #spent: LRUCache<string, { spent: number }>;

  constructor(options: { readonly name: string; readonly limit: number; readonly windowMs: number; readonly maxUsers?: number }) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${options.limit}`);
    this.name = options.name;
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    // lru-cache allocates its tables for `max` up front: 100,000 cost 3.3 MiB of idle RSS per allowance.
    this.#spent = new LRUCache({ max: options.maxUsers ?? 10_000, ttl: options.windowMs, ttlAutopurge: false, updateAgeOnGet: false });
  }

  /** Spends `amount` for `user` when the window has that much left: true; otherwise spends nothing: false. */
  trySpend(user: string, amount: number): boolean {
    let entry = this.#spent.get(user);
    if (entry === undefined) {
      entry = { spent: 0 };
      this.#spent.set(user, entry);
    }
    if (entry.spent + amount > this.limit) return false;
    // Mutated in place: the window keeps the end it was opened with.
    entry.spent += amount;
    return true;
  }

  /**
   * Spends `amount` for `user`, or logs `allowance-exceeded` and refuses with a 450 that
   * says what was not done (`refused`), the allowance, and when the window ends.
   */
  spendOrRefuse(spend: {
    readonly user: string;
    readonly amount: number;
    /** The reply's opening: what was not done and what it needed ("Not renamed: it copies 12 objects"). */
    readonly refused: string;
    /** What the log line names beside the allowance (the path; bytes or objects). */
    readonly logFields: Readonly<Record<string, string | number>>;
    readonly log: Logger;
  }): void {
    if (this.trySpend(spend.user, spend.amount)) return;
    const windowSeconds = this.windowMs / 1000;
    spend.log.warn({ event: 'allowance-exceeded', allowance: this.name, ...spend.logFields, limit: this.limit, windowSeconds });
    throw new ReplyError(
      450,
      `${spend.refused}, beyond this account's ${this.limit} per ${windowSeconds} s; try again in ${this.secondsLeft(spend.user)} s.`,
    );
  }

  /** What `user` may still spend in the current window. */
  remaining(user: string): number {
    return this.limit - (this.#spent.get(user)?.spent ?? 0);
  }

  /** Seconds until `user`'s window ends (0 when none is open), for the reply. */
  secondsLeft(user: string): number {
    return Math.ceil(this.#spent.getRemainingTTL(user) / 1000);
  }
}
