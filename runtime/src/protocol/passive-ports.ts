import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { normalizeAddress } from './client-address.ts';
import { LogThrottle } from './log-throttle.ts';

/**
 * The passive port range, listened on for the life of the server. A PASV/EPSV
 * reserves a port for one client address; a connection to that port is handed to
 * the reservation only if it comes from that address, anything else is closed
 * unread. Several sessions share a port as long as their client addresses differ,
 * which is what lets a task with three passive ports serve many sessions at once.
 *
 * While reserved, every connection from the address goes to the reservation's
 * owner, which picks the one that is really its client's (with PROT P: the one that
 * resumes its TLS session) and then releases the port, free again for the same
 * address right after the data connection is set up.
 */
export interface PassiveReservation {
  readonly port: number;
  /**
   * Hands every connection from the reserved address to `handler` until the
   * reservation is released (those that arrived before it was set, at once).
   */
  onConnection(handler: (socket: Socket) => void): void;
  /** Gives the port back, closing connections that arrived but were never handed over. */
  release(): void;
}

export class PassivePortError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PassivePortError';
  }
}

/** Connections from the reserved address held for a reservation whose owner is not listening yet. */
const MAX_EARLY_CONNECTIONS = 4;

interface Slot {
  handler?: (socket: Socket) => void;
  readonly early: Socket[];
  released: boolean;
}

export class PassivePortPool {
  readonly #servers = new Map<number, Server>();
  /** port → client address → slot */
  readonly #slots = new Map<number, Map<string, Slot>>();
  readonly #ports: readonly number[];
  readonly #logger: Logger;
  #cursor = 0;
  #freed: Array<() => void> = [];
  /** Per port, the last connection refused because its address had no reservation there. */
  readonly #lastRefused = new Map<number, { readonly address: string; readonly at: number }>();
  /** Refused connections are logged like refused control connections: a loop of them must not flood the logs. */
  readonly #refusalLog = new LogThrottle();

  private constructor(ports: readonly number[], logger: Logger) {
    this.#ports = ports;
    this.#logger = logger;
  }

  /** Listens on every port of the range; a port that cannot be bound fails the whole call. */
  static async open(options: { host: string; first: number; last: number; logger: Logger }): Promise<PassivePortPool> {
    const ports = Array.from({ length: options.last - options.first + 1 }, (_, index) => options.first + index);
    const pool = new PassivePortPool(ports, options.logger);
    try {
      for (const port of ports) await pool.#listen(options.host, port);
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get ports(): readonly number[] {
    return this.#ports;
  }

  /**
   * The address of a connection to `port` refused since `since` (ms since the epoch)
   * because no reservation there was for it: the sign of a client whose data
   * connections leave from another address than its control connection (a NAT).
   */
  refusedSince(port: number, since: number): string | undefined {
    const refused = this.#lastRefused.get(port);
    return refused !== undefined && refused.at >= since ? refused.address : undefined;
  }

  /**
   * A port with no pending reservation for `clientAddress`. When every port has one,
   * waits (up to `timeoutMs`) for one to free up: reservations last only from
   * PASV to the data connection, so this queues rather than fails.
   */
  async reserve(clientAddress: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<PassiveReservation> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const reservation = this.#tryReserve(clientAddress);
      if (reservation) return reservation;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new PassivePortError('No passive port is free for this client address');
      await this.#waitForFree(remaining, options.signal);
    }
  }

  async close(): Promise<void> {
    for (const slots of this.#slots.values()) {
      for (const slot of slots.values()) for (const socket of slot.early) socket.destroy();
    }
    this.#slots.clear();
    await Promise.all(
      [...this.#servers.values()].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    this.#servers.clear();
  }

  #tryReserve(clientAddress: string): PassiveReservation | undefined {
    for (let step = 0; step < this.#ports.length; step++) {
      const port = this.#ports[(this.#cursor + step) % this.#ports.length]!;
      const slots = this.#slots.get(port)!;
      if (slots.has(clientAddress)) continue;
      this.#cursor = (this.#cursor + step + 1) % this.#ports.length;
      const slot: Slot = { early: [], released: false };
      slots.set(clientAddress, slot);
      return this.#reservation(port, clientAddress, slot);
    }
    return undefined;
  }

  #reservation(port: number, clientAddress: string, slot: Slot): PassiveReservation {
    return {
      port,
      onConnection: (handler) => {
        if (slot.released) return;
        slot.handler = handler;
        for (const socket of slot.early.splice(0)) handler(socket);
      },
      release: () => {
        if (slot.released) return;
        slot.released = true;
        for (const socket of slot.early.splice(0)) socket.destroy();
        if (this.#slots.get(port)?.get(clientAddress) === slot) this.#slots.get(port)!.delete(clientAddress);
        this.#wakeWaiters();
      },
    };
  }

  async #listen(host: string, port: number): Promise<void> {
    // Half-open: after an upload's FIN the socket stays open until the upload is judged
    // (upload-end.ts asks the kernel whether the connection was reset).
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => this.#onConnection(port, socket));
    server.listen({ host, port, exclusive: true });
    try {
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error))]);
    } catch (error) {
      throw new PassivePortError(`Cannot listen on passive port ${port}: ${(error as Error).message}`, { cause: error });
    }
    // Not before: a port that cannot be had is the start's failure, reported once by the caller.
    server.on('error', (error) => this.#logger.error({ event: 'passive-port-error', port, err: error }));
    this.#servers.set(port, server);
    this.#slots.set(port, new Map());
  }

  #onConnection(port: number, socket: Socket): void {
    const address = normalizeAddress(socket.remoteAddress);
    const slot = this.#slots.get(port)?.get(address);
    if (!slot || slot.released || (!slot.handler && slot.early.length >= MAX_EARLY_CONNECTIONS)) {
      const reason = slot ? 'too-many-connections' : 'no-reservation-for-address';
      if (!slot) this.#lastRefused.set(port, { address, at: Date.now() });
      this.#refusalLog.write(reason, (suppressedSinceLast) =>
        this.#logger.warn({ event: 'data-connection-refused', reason, port, clientAddress: address, suppressedSinceLast }),
      );
      socket.destroy();
      return;
    }
    if (slot.handler) slot.handler(socket);
    else slot.early.push(socket);
  }

  #wakeWaiters(): void {
    const waiting = this.#freed;
    this.#freed = [];
    for (const wake of waiting) wake();
  }

  #waitForFree(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(done, timeoutMs);
      const onAbort = (): void => {
        clearTimeout(timer);
        this.#freed = this.#freed.filter((wake) => wake !== done);
        reject(signal?.reason ?? new Error('aborted'));
      };
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#freed.push(done);
    });
  }
}
