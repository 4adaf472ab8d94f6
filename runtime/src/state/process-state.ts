import type { SharedState, StateChange, StateDocument } from './shared-state.ts';

interface ProcessRecord {
  readonly value: StateDocument;
  readonly expiresAt: number;
}

/**
 * The shared state of a bridge with no table (FTP_STATE_TABLE unset): records live in
 * this process, so every limit kept here holds per task, not across shards, and is
 * forgotten on restart. Bounded: lapsed records go first, then the oldest.
 */
export class ProcessState implements SharedState {
  readonly scope = 'task';
  readonly #records = new Map<string, ProcessRecord>();
  readonly #maxRecords: number;
  readonly #now: () => number;

  constructor(options: { readonly maxRecords?: number; readonly now?: () => number } = {}) {
    this.#maxRecords = options.maxRecords ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  async read(key: string): Promise<StateDocument | undefined> {
    return this.#alive(key, this.#now());
  }

  async modify<T>(key: string, change: (current: StateDocument | undefined, now: number) => StateChange<T>): Promise<T> {
    const now = this.#now();
    const outcome = change(this.#alive(key, now), now);
    if (outcome.write === undefined) return outcome.result;
    this.#records.delete(key);
    if (outcome.write.value !== undefined) {
      this.#makeRoom(now);
      this.#records.set(key, { value: outcome.write.value, expiresAt: outcome.write.expiresAt });
    }
    return outcome.result;
  }

  close(): void {
    this.#records.clear();
  }

  #alive(key: string, now: number): StateDocument | undefined {
    const record = this.#records.get(key);
    if (record === undefined) return undefined;
    if (record.expiresAt > now) return record.value;
    this.#records.delete(key);
    return undefined;
  }

  #makeRoom(now: number): void {
    if (this.#records.size < this.#maxRecords) return;
    for (const [key, record] of this.#records) if (record.expiresAt <= now) this.#records.delete(key);
    for (const key of this.#records.keys()) {
      if (this.#records.size < this.#maxRecords) break;
      this.#records.delete(key);
    }
  }
}
