/**
 * State the bridge's tasks share: small JSON records, each changed by read, change and
 * conditional write, so two shards never lose each other's change. Records carry the
 * time they lapse; readers treat a lapsed record as absent (DynamoDB's TTL deletes
 * within about 48 hours: it is the cleanup, not the rule).
 */
export type StateDocument = Readonly<Record<string, unknown>>;

/** What a change decided: a result for the caller and, unless it changes nothing, the record's new content. */
export interface StateChange<T> {
  readonly result: T;
  /** Absent: nothing is written. `value` undefined deletes the record. */
  readonly write?: {
    readonly value: StateDocument | undefined;
    /** When the record lapses, in ms since the epoch. */
    readonly expiresAt: number;
  };
}

export interface SharedState {
  /** 'shared': every task sees the same records (a DynamoDB table); 'task': this process only. */
  readonly scope: 'shared' | 'task';
  /** The record under `key`, or undefined when there is none or it has lapsed. */
  read(key: string): Promise<StateDocument | undefined>;
  /**
   * Applies `change` to the record under `key` atomically: when another task wrote the
   * record between the read and the write, it runs again on the new content, a bounded
   * number of times, then StateConflictError. `change` must have no side effects.
   */
  modify<T>(key: string, change: (current: StateDocument | undefined, now: number) => StateChange<T>): Promise<T>;
  close(): void;
}

/** Too many tasks changed one record at once: the change was not made. */
export class StateConflictError extends Error {
  constructor(key: string, attempts: number) {
    super(`shared state record ${JSON.stringify(key)} changed under us ${attempts} times in a row`);
    this.name = 'StateConflictError';
  }
}

/** A number field of a record, 0 when absent or not a number. */
export function numberField(document: StateDocument | undefined, field: string): number {
  const value = document?.[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
