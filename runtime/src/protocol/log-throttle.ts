/**
 * At most one log line per key per interval: a flood of one event (connections
 * refused at the limits, strangers knocking on passive ports) must not flood the
 * logs. The line that is written counts those dropped since the previous one
 * (`suppressedSinceLast`). Keys are a fixed set (reasons), so the map stays small.
 */
export class LogThrottle {
  readonly #intervalMs: number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  /** `intervalMs`: one line per second unless told otherwise. */
  constructor(options: { readonly intervalMs?: number } = {}) {
    this.#intervalMs = options.intervalMs ?? 1000;
  }

  /** Calls `write` with the count dropped since the last line, unless a line for `key` went out within the interval. */
  write(key: string, write: (suppressedSinceLast: number) => void): void {
    const now = Date.now();
    const last = this.#last.get(key);
    if (last && now - last.at < this.#intervalMs) {
      last.suppressed += 1;
      return;
    }
    this.#last.set(key, { at: now, suppressed: 0 });
    write(last?.suppressed ?? 0);
  }
}
