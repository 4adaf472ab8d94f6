import { connect, type Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { TlsSessionReuse } from '../auth/user.ts';
import type { DataEndpoints } from './command-handler.ts';
import { PassivePortError, type PassiveReservation } from './passive-ports.ts';
import { ReplyError } from './reply.ts';
import type { SessionServices } from './session-settings.ts';
import { secureDataConnection, TlsResumptionRequired } from './tls-data-connection.ts';
import { REPLIES } from './replies.ts';

/** Where the next data connection comes from: a reserved passive port, or PORT/EPRT. */
type DataEndpoint =
  | {
      readonly kind: 'passive';
      readonly reservation: PassiveReservation;
      /** The connection, TLS-wrapped when PROT P, set up as soon as it arrives. */
      readonly connection: Promise<Socket>;
      readonly cancel: AbortController;
    }
  | { readonly kind: 'active'; readonly host: string; readonly port: number };

const KEEPALIVE_DELAY_MS = 60_000;
/** How long a finished data connection may take to close from the client's side. */
const DATA_CLOSE_WAIT_MS = 5_000;
/** Finished data connections kept waiting for the client's close; past this the oldest is closed. */
const MAX_CLOSING_DATA_CONNECTIONS = 4;
/** Connections from the client's address handshaking for one passive reservation at once. */
const MAX_DATA_CANDIDATES = 4;

export interface DataChannelOptions {
  readonly services: SessionServices;
  readonly clientAddress: string;
  /** What the session is now (PROT, AUTH TLS and login change it), read for each connection. */
  readonly current: () => {
    readonly protection: 'C' | 'P';
    /** The control connection's own TLS context: data connections may resume only its sessions. */
    readonly tlsContext: SecureContext | undefined;
    readonly tlsSessionReuse: TlsSessionReuse;
    readonly log: Logger;
  };
}

/**
 * One session's data connections: the endpoint PASV/EPSV or PORT/EPRT set up, the
 * connection (TLS under PROT P, resuming the control connection's session), and the
 * end of each connection. Every data socket is counted in the connection limits.
 */
export class DataChannel implements DataEndpoints {
  readonly #services: SessionServices;
  readonly #clientAddress: string;
  readonly #current: DataChannelOptions['current'];
  #endpoint: DataEndpoint | undefined;
  /** Finished data connections waiting for the client to close its side. */
  readonly #closing = new Set<Socket>();

  constructor(options: DataChannelOptions) {
    this.#services = options.services;
    this.#clientAddress = options.clientAddress;
    this.#current = options.current;
  }

  /** PASV/EPSV: the next data connection comes to this reserved port. */
  usePassive(reservation: PassiveReservation): void {
    const cancel = new AbortController();
    const connection = this.#acceptPassive(reservation, cancel.signal);
    connection.catch(() => undefined);
    this.#replace({ kind: 'passive', reservation, connection, cancel });
  }

  /** PORT/EPRT: the next data connection is opened to the client. */
  useActive(host: string, port: number): void {
    this.#replace({ kind: 'active', host, port });
  }

  /** Forgets the pending endpoint (ABOR, REIN, a new PASV, the end of the session). */
  clear(): void {
    this.#replace(undefined);
  }

  /**
   * The data connection for the current transfer, TLS-wrapped when PROT P. Uses up
   * the endpoint set by PASV/EPSV/PORT/EPRT. Rejects with ReplyError 425 (522 for a
   * connection that did not resume the TLS session) when it cannot be had in time.
   */
  async open(signal: AbortSignal): Promise<Socket> {
    const endpoint = this.#endpoint;
    this.#endpoint = undefined;
    if (!endpoint) throw new ReplyError(425, 'Use PASV or EPSV first.');
    const { settings, connections } = this.#services;
    const timeoutMs = settings.dataConnectionTimeoutMs;
    let socket: Socket;
    try {
      if (endpoint.kind === 'passive') {
        socket = await withTimeout(endpoint.connection, timeoutMs, signal);
      } else {
        const tcp = await connectActive(endpoint.host, endpoint.port, timeoutMs, signal);
        connections.track(tcp, this.#clientAddress);
        socket = await this.#secure(tcp, signal);
      }
    } catch (error) {
      if (endpoint.kind === 'passive') releasePassive(endpoint);
      if (signal.aborted) throw error;
      if (error instanceof TlsResumptionRequired) {
        if (endpoint.kind === 'active') this.#logResumeFailure(endpoint.port);
        throw new ReplyError(
          522,
          "TLS session reuse required: the data connection must resume the control connection's TLS session.",
        );
      }
      this.#current().log.info({ event: 'data-connection-failed', mode: endpoint.kind, reason: (error as Error).message });
      throw new ReplyError(REPLIES.cannotOpenDataConnection);
    }
    // A stalled peer must not hold a transfer open forever.
    socket.setTimeout(settings.idleTimeoutMs, () => socket.destroy(new Error('Data connection idle timeout')));
    return socket;
  }

  /**
   * Ends a finished data connection: our side is closed and the peer may close its
   * own. Destroying at once would reset a connection with unread input (a TLS
   * close_notify, say), which can make the client drop the tail of a download it
   * has not read yet. Whatever is still open when the session closes is destroyed.
   */
  finish(data: Socket): void {
    if (data.destroyed) return;
    if (this.#closing.size >= MAX_CLOSING_DATA_CONNECTIONS) {
      const [oldest] = this.#closing;
      oldest?.destroy();
    }
    this.#closing.add(data);
    const timer = setTimeout(() => data.destroy(), DATA_CLOSE_WAIT_MS).unref();
    data.once('close', () => {
      clearTimeout(timer);
      this.#closing.delete(data);
    });
    data.on('error', () => data.destroy());
    data.resume();
    data.end();
  }

  /** The session is over: nothing pending, nothing left open. */
  close(): void {
    this.clear();
    for (const data of this.#closing) data.destroy();
  }

  #replace(endpoint: DataEndpoint | undefined): void {
    if (this.#endpoint?.kind === 'passive') releasePassive(this.#endpoint);
    this.#endpoint = endpoint;
  }

  /**
   * The client's data connection on a reserved port, accepted (and TLS negotiated)
   * as soon as it arrives: some clients finish the handshake before RETR/STOR, others
   * only after the 150. Under PROT P several connections from the client's address
   * may race, each handshaking at once; the first to finish its handshake decides:
   * it is taken if it resumed this session's TLS session (unless the user may skip
   * that), otherwise the transfer fails (522; 425 for a failed handshake). So a
   * connection from the same address that is not the client's cannot take the data,
   * and one that stalls its handshake cannot hold the port.
   */
  #acceptPassive(reservation: PassiveReservation, signal: AbortSignal): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      let settled = false;
      let candidates = 0; // handshakes under way
      const finish = (error: unknown, socket?: Socket): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reservation.release();
        if (socket) resolve(socket);
        else reject(error);
      };
      const timer = setTimeout(
        () => finish(new PassivePortError('Data connection did not arrive in time')),
        this.#services.settings.idleTimeoutMs,
      );
      const onAbort = (): void => finish(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      reservation.onConnection((socket) => {
        this.#services.connections.track(socket, this.#clientAddress);
        if (settled || candidates >= MAX_DATA_CANDIDATES) {
          socket.destroy();
          return;
        }
        candidates += 1;
        this.#secure(socket, signal).then(
          (secured) => {
            candidates -= 1;
            if (settled) secured.destroy();
            else finish(undefined, secured);
          },
          (error: unknown) => {
            candidates -= 1;
            if (settled) return;
            if (error instanceof TlsResumptionRequired) this.#logResumeFailure(reservation.port);
            finish(error);
          },
        );
      });
    });
  }

  /** TLS for PROT P (the server side of the handshake, whoever opened the TCP connection). */
  async #secure(socket: Socket, signal: AbortSignal): Promise<Socket> {
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    const { protection, tlsContext, tlsSessionReuse, log } = this.#current();
    if (protection !== 'P') return socket;
    if (!tlsContext) {
      socket.destroy();
      throw new Error('PROT P without a TLS control connection');
    }
    const secure = await secureDataConnection(socket, {
      context: tlsContext,
      timeoutMs: this.#services.settings.tlsHandshakeTimeoutMs,
      requireResumption: tlsSessionReuse === 'required',
      signal,
    });
    log.debug({ event: 'data-tls', protocol: secure.getProtocol(), resumed: secure.isSessionReused() });
    return secure;
  }

  #logResumeFailure(port: number): void {
    this.#current().log.warn(
      { event: 'tls-resume-failure', port },
      "a PROT P data connection did not resume the control connection's TLS session: refused (FTP_TLS_SESSION_REUSE=required)",
    );
  }
}

/** Gives a passive port back: no more waiting for, or negotiating, its connection; a late one is closed. */
function releasePassive(endpoint: Extract<DataEndpoint, { kind: 'passive' }>): void {
  endpoint.cancel.abort();
  endpoint.reservation.release();
  endpoint.connection.then((socket) => socket.destroy(), () => undefined);
}

/** `promise`, or a rejection after `timeoutMs` or when `signal` aborts. */
async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, signal: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('Data connection did not arrive in time')), timeoutMs);
        onAbort = () => reject(signal.reason);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

async function connectActive(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return await new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host, port, signal, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('timeout', () => socket.destroy(new Error('Active data connection timed out')));
    socket.once('error', reject);
  });
}
