import type { Socket } from 'node:net';
import { clientKey } from '../auth/ip-address.ts';

export type ConnectionRefusal = 'process-limit' | 'address-limit';

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

  constructor(options: { readonly maxConnections: number; readonly maxPerAddress: number }) {
    this.#maxConnections = options.maxConnections;
    this.#maxPerAddress = options.maxPerAddress;
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
