import { ConcurrencyLimit } from '../../concurrency-limit.ts';

/**
 * How many HeadObjects listings may have in flight (they read the times clients set,
 * which a listing does not carry): per owner (a partner's user name: all of its
 * listings together, however many sessions it opens) and for the whole process. Both
 * queues are first come, first served, so two partners listing at once take turns,
 * and the process-wide bound keeps listings to a fixed share of the S3 connection
 * pool, whatever else transfers need of it.
 */
export interface ListingHeadSlotsOptions {
  readonly perOwner: number;
  readonly total: number;
}

/** One listing's way to the slots; close() once the listing has ended. */
export interface ListingHeads {
  run<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T>;
  close(): void;
}

export class ListingHeadSlots {
  readonly #perOwner: number;
  readonly #total: ConcurrencyLimit;
  /** Only owners with a listing open: the table does not grow with partners seen. */
  readonly #owners = new Map<string, { readonly limit: ConcurrencyLimit; listings: number }>();

  constructor(options: ListingHeadSlotsOptions) {
    this.#perOwner = options.perOwner;
    this.#total = new ConcurrencyLimit({ limit: options.total });
  }

  open(owner: string): ListingHeads {
    let slots = this.#owners.get(owner);
    if (slots === undefined) {
      slots = { limit: new ConcurrencyLimit({ limit: this.#perOwner }), listings: 0 };
      this.#owners.set(owner, slots);
    }
    slots.listings += 1;
    const { limit } = slots;
    const total = this.#total;
    let closed = false;
    return {
      run: (task, signal) => limit.run(() => total.run(task, { signal }), { signal }),
      close: () => {
        if (closed) return;
        closed = true;
        slots.listings -= 1;
        // A listing that closes while another of the same owner still runs leaves the limit to it.
        if (slots.listings === 0 && this.#owners.get(owner) === slots) this.#owners.delete(owner);
      },
    };
  }
}
