import { LRUCache } from 'lru-cache';

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
  readonly limit: number;
  readonly windowMs: number;
  readonly #spent: LRUCache<string, { spent: number }>;

  constructor(options: { readonly limit: number; readonly windowMs: number; readonly maxUsers?: number }) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${options.limit}`);
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

  /** What `user` may still spend in the current window. */
  remaining(user: string): number {
    return this.limit - (this.#spent.get(user)?.spent ?? 0);
  }

  /** Seconds until `user`'s window ends (0 when none is open), for the reply. */
  secondsLeft(user: string): number {
    return Math.ceil(this.#spent.getRemainingTTL(user) / 1000);
  }
}
