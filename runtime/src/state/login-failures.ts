import { numberField, type SharedState, type StateDocument } from './shared-state.ts';

interface Failure {
  readonly at: number;
  readonly username: string;
}

/**
 * Failed logins per client (an address, or an IPv6 /64) in the shared state, so every
 * task counts the same guesses and a deploy does not forgive them: one record per
 * client with its recent failures (at most the lockout threshold) and its lockout end.
 */
export class SharedLoginFailures {
  readonly #state: SharedState;

  constructor(options: { readonly state: SharedState }) {
    this.#state = options.state;
  }

  /** When the client's lockout ends (ms since the epoch); 0 when it is not locked out. */
  async lockedUntil(client: string): Promise<number> {
    const record = await this.#state.read(recordKey(client));
    const until = record?.['lockedUntil'];
    return typeof until === 'number' && until > Date.now() ? until : 0;
  }

  /** Counts a failure; returns the lockout end when it locks the client out (or it was already), else 0. */
  async recordFailure(client: string, options: { readonly username: string; readonly windowMs: number; readonly maxFailures: number }): Promise<number> {
    const { username, windowMs, maxFailures } = options;
    return await this.#state.modify(recordKey(client), (current, now) => {
      const lockedUntil = numberField(current, 'lockedUntil');
      if (lockedUntil > now) return { result: lockedUntil };
      const failures = [...failuresOf(current).filter((failure) => failure.at > now - windowMs), { at: now, username }];
      if (failures.length >= maxFailures) {
        return { result: now + windowMs, write: { value: { failures: [], lockedUntil: now + windowMs }, expiresAt: now + windowMs } };
      }
      return { result: 0, write: { value: { failures, lockedUntil: 0, keepUntil: now + windowMs }, expiresAt: now + windowMs } };
    });
  }

  /** A success forgives the failures for its own name only (see LoginGuard). */
  async forgive(client: string, username: string): Promise<void> {
    await this.#state.modify(recordKey(client), (current) => {
      const failures = failuresOf(current);
      const kept = failures.filter((failure) => failure.username !== username);
      if (kept.length === failures.length || numberField(current, 'lockedUntil') !== 0) return { result: undefined };
      if (kept.length === 0) return { result: undefined, write: { value: undefined, expiresAt: 0 } };
      return { result: undefined, write: { value: { ...current, failures: kept }, expiresAt: numberField(current, 'keepUntil') } };
    });
  }
}

function recordKey(client: string): string {
  return `lockout#${client}`;
}

function failuresOf(document: StateDocument | undefined): Failure[] {
  const failures = document?.['failures'];
  if (!Array.isArray(failures)) return [];
  return failures.filter(
    (failure): failure is Failure => typeof failure === 'object' && failure !== null && typeof failure.at === 'number' && typeof failure.username === 'string',
  );
}
