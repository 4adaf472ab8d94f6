import type { Socket } from 'node:net';
import { clientKey } from '../auth/ip-address.ts';
import type { SessionLease, SessionLeases } from '../state/session-leases.ts';

export type ConnectionRefusal = 'process-limit' | 'address-limit';

/** A logged-in partner's session admitted under its maxSessions, or why not. */
export type SessionAdmission =
  | { readonly ok: true; readonly lease: SessionLease | undefined }
  | { readonly ok: false; readonly holders: number; readonly limit: number };

/**
 * Counts every socket the bridge holds for clients — control connections from the
 * moment they are accepted (an implicit-TLS handshake included) and data
 * connections — in total and per client (an IPv4 address or an IPv6 /64).
 *
 * Only new control connections are refused: a data connection belongs to a session
 * that was admitted already, so it is counted (it leaves less room for new
 * sessions) but never turned away for the count; sessions bound their own data
 * connections.
 */
export class ConnectionLimits {
  readonly #maxConnections: number;
  readonly #maxPerAddress: number;
  #total = 0;
  readonly #perClient = new Map<string, number>();

  readonly #leases: SessionLeases | undefined;

  constructor(options: {
    readonly maxConnections: number;
    readonly maxPerAddress: number;
    /** Partners' sessions across every task (maxSessions); without it that limit is not enforced. */
    readonly leases?: SessionLeases;
  }) {
    this.#maxConnections = options.maxConnections;
    this.#maxPerAddress = options.maxPerAddress;
    this.#leases = options.leases;
  }

  /**
   * The per-partner count, taken at login (the first moment the partner is known):
   * a lease on one of `maxSessions` places, across every task when the state is shared.
   */
  async admitSession(username: string, maxSessions: number | undefined): Promise<SessionAdmission> {
    if (maxSessions === undefined || this.#leases === undefined) return { ok: true, lease: undefined };
    const outcome = await this.#leases.acquire(username, maxSessions);
    return outcome.ok ? { ok: true, lease: outcome.lease } : { ok: false, holders: outcome.holders, limit: maxSessions };
  }

  get total(): number {
    return this.#total;
  }

  /** Sockets held for the client that `address` belongs to. */
  countFor(address: string): number {
    return this.#perClient.get(clientKey(address)) ?? 0;
  }

  /** Why a new control connection from `address` must be refused, if it must. */
  refusal(address: string): ConnectionRefusal | undefined {
    if (this.#total >= this.#maxConnections) return 'process-limit';
    if (this.countFor(address) >= this.#maxPerAddress) return 'address-limit';
    return undefined;
  }

  /** Counts `socket` until it closes. */
  track(socket: Socket, address: string): void {
    const key = clientKey(address);
    this.#total += 1;
    this.#perClient.set(key, (this.#perClient.get(key) ?? 0) + 1);
    socket.once('close', () => {
      this.#total -= 1;
      const left = (this.#perClient.get(key) ?? 1) - 1;
      if (left === 0) this.#perClient.delete(key);
      else this.#perClient.set(key, left);
    });
  }
}
