import { numberField, type SharedState, type StateDocument } from './shared-state.ts';

/** What a partner's home holds, as the ledger counts it. */
export interface HomeUsage {
  readonly bytes: number;
  readonly files: number;
  /**
   * Bytes of uploads begun and not finished (pending uploads' parts kept in S3),
   * counted against quotaBytes; measured with the home, changed as uploads are kept,
   * continued and discarded.
   */
  readonly pendingBytes: number;
  /** When the home was last measured by listing it (ms since the epoch). */
  readonly countedAt: number;
}

export interface UsageChange {
  readonly bytes: number;
  readonly files: number;
  /** Pending uploads' bytes (a continued upload that completes moves its own to `bytes`). */
  readonly pendingBytes?: number;
}

export interface QuotaLimits {
  readonly quotaBytes?: number | undefined;
  readonly quotaFiles?: number | undefined;
}

export type Reservation = { readonly ok: true } | { readonly ok: false; readonly usage: HomeUsage };

export interface QuotaLedgerOptions {
  readonly state: SharedState;
  /** A count older than this is measured again (in the background: checks meanwhile use the old one). */
  readonly reconcileMs: number;
  /**
   * Lists a home and adds up its files (a request per 1000 entries and per folder) and,
   * when the store keeps pending uploads, their bytes.
   */
  readonly measure: (home: string) => Promise<UsageChange>;
  /** A background reconcile failed; the old count stays until the next try. */
  readonly onReconcileFailure?: (error: unknown, username: string) => void;
}

/** A usage record lives this long past its last change: a partner idle for longer is measured afresh. */
const RECORD_LIFE_MS = 30 * 24 * 3_600_000;

/**
 * Bytes and files per partner home, kept in the shared state: uploads reserve what they
 * add before they commit (a conditional change, so two shards cannot both take the last
 * room), deletes and overwrites give room back, and a periodic reconcile (a listing of
 * the home, at most one per partner per `reconcileMs` across every task) corrects for
 * what other tools wrote or removed and for changes the bridge could not see whole.
 */
export class QuotaLedger {
  readonly #state: SharedState;
  readonly #reconcileMs: number;
  readonly #measure: (home: string) => Promise<UsageChange>;
  readonly #onReconcileFailure: (error: unknown, username: string) => void;
  /** A measure still running on this task per partner (the first count is awaited by all who need it). */
  readonly #measuring = new Map<string, Promise<HomeUsage>>();

  constructor(options: QuotaLedgerOptions) {
    this.#state = options.state;
    this.#reconcileMs = options.reconcileMs;
    this.#measure = options.measure;
    this.#onReconcileFailure = options.onReconcileFailure ?? (() => undefined);
  }

  /** The partner's usage; the first time (or after the record lapsed) the home is listed first. */
  async usage(username: string, home: string): Promise<HomeUsage> {
    const current = await this.#state.read(recordKey(username));
    // No record (or one a reconcile claim made before any count): the home was never measured.
    if (numberField(current, 'countedAt') === 0) return await this.#countOnce(username, home);
    const usage = usageOf(current);
    if (usage.countedAt + this.#reconcileMs <= Date.now()) void this.#reconcile(username, home);
    return usage;
  }

  /**
   * Adds `change` unless it takes the home past a limit: bytes (with pending bytes) are
   * checked when the change adds some, files when it adds files (an overwrite that
   * shrinks a file, or a continued upload that completes, always fits for what it held).
   */
  async reserve(username: string, home: string, change: UsageChange, limits: QuotaLimits): Promise<Reservation> {
    await this.usage(username, home);
    return await this.#state.modify<Reservation>(recordKey(username), (current, now) => {
      const usage = usageOf(current);
      const addedBytes = change.bytes + (change.pendingBytes ?? 0);
      const overBytes = addedBytes > 0 && limits.quotaBytes !== undefined && usage.bytes + usage.pendingBytes + addedBytes > limits.quotaBytes;
      const overFiles = change.files > 0 && limits.quotaFiles !== undefined && usage.files + change.files > limits.quotaFiles;
      if (overBytes || overFiles) return { result: { ok: false, usage } as const };
      return { result: { ok: true } as const, write: write(current, changed(usage, change), now) };
    });
  }

  /**
   * Records what a delete, an overwrite or a failed upload gave back, and what pending
   * uploads kept or gave back (never refused).
   */
  async add(username: string, change: UsageChange): Promise<void> {
    await this.#state.modify(recordKey(username), (current, now) => {
      // No record: nothing counted yet, and the first count will see the home as it is.
      if (current === undefined) return { result: undefined };
      return { result: undefined, write: write(current, changed(usageOf(current), change), now) };
    });
  }

  async #countOnce(username: string, home: string): Promise<HomeUsage> {
    let measuring = this.#measuring.get(username);
    if (measuring === undefined) {
      measuring = this.#count(username, home).finally(() => this.#measuring.delete(username));
      this.#measuring.set(username, measuring);
    }
    return await measuring;
  }

  async #count(username: string, home: string): Promise<HomeUsage> {
    const measured = await this.#measure(home);
    return await this.#state.modify(recordKey(username), (current, now) => {
      const pendingBytes = measured.pendingBytes ?? numberField(current, 'pendingBytes');
      const next = { ...current, bytes: measured.bytes, files: measured.files, pendingBytes, countedAt: now, countingUntil: 0 };
      return { result: usageOf(next), write: { value: next, expiresAt: now + RECORD_LIFE_MS } };
    });
  }

  /** At most one task measures a partner's home per interval: it claims the record first. */
  async #reconcile(username: string, home: string): Promise<void> {
    if (this.#measuring.has(username)) return;
    try {
      const claimMs = Math.max(60_000, this.#reconcileMs);
      const claimed = await this.#state.modify(recordKey(username), (current, now) => {
        const usage = usageOf(current);
        if (usage.countedAt + this.#reconcileMs > now || numberField(current, 'countingUntil') > now) return { result: false };
        return { result: true, write: write(current, { countingUntil: now + claimMs }, now) };
      });
      if (claimed) await this.#countOnce(username, home);
    } catch (error) {
      this.#onReconcileFailure(error, username);
    }
  }
}

function recordKey(username: string): string {
  return `usage#${username}`;
}

function usageOf(document: StateDocument | undefined): HomeUsage {
  return {
    bytes: numberField(document, 'bytes'),
    files: numberField(document, 'files'),
    pendingBytes: numberField(document, 'pendingBytes'),
    countedAt: numberField(document, 'countedAt'),
  };
}

/** The counts after `change` (none below 0: a count the bridge could not see whole waits for the reconcile). */
function changed(usage: HomeUsage, change: UsageChange): Record<string, number> {
  return {
    bytes: Math.max(0, usage.bytes + change.bytes),
    files: Math.max(0, usage.files + change.files),
    pendingBytes: Math.max(0, usage.pendingBytes + (change.pendingBytes ?? 0)),
  };
}

function write(current: StateDocument | undefined, fields: Record<string, number>, now: number): { value: StateDocument; expiresAt: number } {
  return { value: { ...current, ...fields }, expiresAt: now + RECORD_LIFE_MS };
}
