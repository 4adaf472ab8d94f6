import { connect, type Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { withDeadline } from '../deadline.ts';
import type { TlsSessionReuse } from '../tls-policy.ts';
import type { DataEndpoints, PassiveAnnouncement, TransferDirection } from './command-handler.ts';
import { endWhenIdle } from './data-idle-timeout.ts';
import { PassivePortError, type PassiveReservation } from './passive-ports.ts';
import { askKernelAtEnd } from './peer-reset.ts';
import { reply, ReplyError, type Reply } from './reply.ts';
import type { SessionServices } from './session-settings.ts';
import { isRelayed, secureDataConnection, TlsResumptionRequired, transportOf } from './tls-data-connection.ts';
import type { AuditActivity } from './audit-activity.ts';

/** Where the next data connection comes from: a reserved passive port, or PORT/EPRT. */
type DataEndpoint =
  | {
      readonly kind: 'passive';
      readonly reservation: PassiveReservation;
      readonly announced: PassiveAnnouncement;
      readonly reservedAt: number;
      /** Whether any connection to the port came from the client's address. */
      readonly arrival: { arrived: boolean };
      /** The connection, TLS-wrapped when PROT P, set up as soon as it arrives. */
      readonly connection: Promise<Socket>;
      readonly cancel: AbortController;
      /** Told the transfer's direction once its command opens the connection. */
      readonly direction: (direction: TransferDirection) => void;
    }
  | { readonly kind: 'active'; readonly host: string; readonly port: number };

const KEEPALIVE_DELAY_MS = 60_000;
/** How long a finished data connection may take to close from the client's side. */
const DATA_CLOSE_WAIT_MS = 5_000;
/** Finished data connections kept waiting for the client's close; past this the oldest is closed. */
const MAX_CLOSING_DATA_CONNECTIONS = 4;
/** Connections from the client's address handshaking for one passive reservation at once. */
const MAX_DATA_CANDIDATES = 4;
/** A passive port left unused for this long before it is given up is reported (below: clients retrying at once). */
const UNUSED_PASSIVE_REPORT_MS = 5_000;

/**
 * Why a data connection could not be had, as a fixed word a log metric can count by
 * (the `reason` of data-connection-timeout and data-connection-failed events).
 */
export type DataConnectionFailure =
  | 'passive-timeout' // nothing connected to the announced port in time
  | 'passive-wrong-address' // something did, but from another address than the control connection's
  | 'passive-never-connected' // a port given up (new PASV, session end) that the client never reached
  | 'active-timeout' // PORT/EPRT: the client's port did not answer
  | 'active-refused' // PORT/EPRT: the client's port refused or was unreachable
  | 'tls-handshake-failed' // PROT P: the data connection's TLS handshake failed
  | 'tls-session-not-resumed' // PROT P: it did not resume the control connection's session
  | 'protection-changed'; // a passive connection set up (clear or TLS) before PROT said otherwise

class DataConnectionTimeout extends Error {}

/** A PROT P handshake that failed (not one that merely did not resume). */
class DataTlsFailure extends Error {}

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
  usePassive(reservation: PassiveReservation, announced: PassiveAnnouncement): void {
    const cancel = new AbortController();
    const arrival = { arrived: false };
    let direction: (direction: TransferDirection) => void = () => undefined;
    const known = new Promise<TransferDirection>((resolve) => (direction = resolve));
    const connection = this.#acceptPassive(reservation, cancel.signal, arrival, known);
    connection.catch(() => undefined);
    this.#replace({ kind: 'passive', reservation, announced, reservedAt: Date.now(), arrival, connection, cancel, direction });
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
   * `direction` lets a download's TLS run natively (tls-data-connection.ts).
   */
  async open(signal: AbortSignal, direction: TransferDirection): Promise<Socket> {
    const endpoint = this.#endpoint;
    this.#endpoint = undefined;
    if (!endpoint) throw new ReplyError(425, 'Use PASV or EPSV first.');
    const { settings, connections } = this.#services;
    const timeoutMs = settings.dataConnectionTimeoutMs;
    const started = Date.now();
    let socket: Socket;
    try {
      if (endpoint.kind === 'passive') {
        endpoint.direction(direction);
        const late = (): Promise<never> => Promise.reject(new DataConnectionTimeout('Data connection did not arrive in time'));
        socket = await withDeadline(endpoint.connection, timeoutMs, late, signal);
      } else {
        const tcp = await connectActive(endpoint.host, endpoint.port, timeoutMs, signal);
        connections.track(tcp, this.#clientAddress);
        socket = await this.#secure(tcp, signal, Promise.resolve(direction));
      }
    } catch (error) {
      if (endpoint.kind === 'passive') releasePassive(endpoint);
      if (signal.aborted) throw error;
      throw new ReplyError(this.#explain(endpoint, error, Date.now() - started));
    }
    // A passive connection is set up when it arrives, under the PROT of that moment: one
    // made in clear before PROT P must not carry a transfer the session calls protected
    // (nor a TLS one a PROT C transfer).
    const { protection, log } = this.#current();
    if ((transportOf(socket) !== socket) !== (protection === 'P')) {
      socket.destroy();
      log.info({ event: 'data-connection-failed', reason: 'protection-changed' satisfies DataConnectionFailure, protection });
      throw new ReplyError(425, `The data connection was set up before PROT ${protection}: open a new one (PASV/EPSV) after PROT.`);
    }
    // A stalled peer must not hold a transfer open forever.
    endWhenIdle(socket, settings.idleTimeoutMs);
    return socket;
  }

  /**
   * Logs why the data connection could not be had, with what an operator needs to
   * see a firewall problem at once (where the client was sent, the passive range, the
   * likely cause; no stack trace), and returns the reply that tells the client the same.
   */
  #explain(endpoint: DataEndpoint, error: unknown, waitedMs: number): Reply {
    const detail = (error as Error).message;
    const seconds = Math.round(this.#services.settings.dataConnectionTimeoutMs / 1000);
    const ports = this.#services.passivePorts.ports;
    const passiveRange = `${ports[0]}-${ports[ports.length - 1]}`;
    let reason: DataConnectionFailure;
    let text: string;
    let where: Record<string, unknown>;
    if (endpoint.kind === 'passive') {
      const { command, address } = endpoint.announced;
      const port = endpoint.reservation.port;
      where = { mode: 'passive', command, address: address ?? '(control connection address)', port, passiveRange };
      const stranger = this.#services.passivePorts.refusedSince(port, endpoint.reservedAt);
      if (error instanceof TlsResumptionRequired) {
        reason = 'tls-session-not-resumed';
      } else if (error instanceof DataTlsFailure) {
        reason = 'tls-handshake-failed';
      } else if (stranger !== undefined) {
        reason = 'passive-wrong-address';
        where = { ...where, connectionFrom: stranger };
      } else {
        reason = 'passive-timeout';
      }
      const target = address === undefined ? `port ${port}` : `${address}:${port}`;
      text =
        reason === 'passive-wrong-address'
          ? // Never the stranger's address: it may be another client's (the log has it for the operator).
            `A data connection to ${target} came from another address than the control connection's (${this.#clientAddress}): data connections must leave from the same address (a NAT with several addresses?).`
          : `No data connection to ${target} (${command}) within ${seconds} s: a firewall between client and server must allow TCP to the passive ports ${passiveRange}.`;
    } else {
      where = { mode: 'active', address: endpoint.host, port: endpoint.port };
      if (error instanceof TlsResumptionRequired) reason = 'tls-session-not-resumed';
      else if (error instanceof DataTlsFailure) reason = 'tls-handshake-failed';
      else reason = error instanceof DataConnectionTimeout ? 'active-timeout' : 'active-refused';
      text =
        reason === 'active-timeout' || reason === 'active-refused'
          ? `Could not connect to ${endpoint.host}:${endpoint.port} (active mode, ${reason === 'active-timeout' ? `no answer within ${seconds} s` : 'refused'}): the client's firewall or NAT must let this server in; passive mode (PASV/EPSV) avoids that.`
          : '';
    }
    const log = this.#current().log;
    if (reason === 'tls-session-not-resumed') {
      log.warn(
        { event: 'tls-resume-failure', activity: 'TLS_RESUME_FAILURE' satisfies AuditActivity, reason, ...where },
        "a PROT P data connection did not resume the control connection's TLS session: refused (FTP_TLS_SESSION_REUSE=required)",
      );
      return reply(522, "TLS session reuse required: the data connection must resume the control connection's TLS session.");
    }
    if (reason === 'tls-handshake-failed') {
      text = 'TLS negotiation on the data connection failed (with PROT P the data connection must speak TLS).';
    }
    const timedOut = reason === 'passive-timeout' || reason === 'passive-wrong-address' || reason === 'active-timeout';
    log.info({ event: timedOut ? 'data-connection-timeout' : 'data-connection-failed', reason, ...where, waitedMs, detail });
    return reply(425, text);
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
    const previous = this.#endpoint;
    if (previous?.kind === 'passive') {
      releasePassive(previous);
      this.#reportUnused(previous);
    }
    this.#endpoint = endpoint;
  }

  /**
   * A passive port given up (a new PASV, the end of the session) that nothing from
   * the client connected to: most clients connect before they send LIST, so when a
   * firewall drops the connection this is the only trace the bridge can see.
   */
  #reportUnused(endpoint: Extract<DataEndpoint, { kind: 'passive' }>): void {
    const waitedMs = Date.now() - endpoint.reservedAt;
    if (endpoint.arrival.arrived || waitedMs < UNUSED_PASSIVE_REPORT_MS) return;
    const { command, address } = endpoint.announced;
    const ports = this.#services.passivePorts.ports;
    const stranger = this.#services.passivePorts.refusedSince(endpoint.reservation.port, endpoint.reservedAt);
    this.#current().log.info({
      event: 'data-connection-timeout',
      reason: stranger === undefined ? 'passive-never-connected' : 'passive-wrong-address',
      mode: 'passive',
      command,
      address: address ?? '(control connection address)',
      port: endpoint.reservation.port,
      passiveRange: `${ports[0]}-${ports[ports.length - 1]}`,
      ...(stranger === undefined ? {} : { connectionFrom: stranger }),
      waitedMs,
    });
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
  #acceptPassive(
    reservation: PassiveReservation,
    signal: AbortSignal,
    arrival: { arrived: boolean },
    direction: Promise<TransferDirection>,
  ): Promise<Socket> {
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
        arrival.arrived = true;
        this.#services.connections.track(socket, this.#clientAddress);
        if (settled || candidates >= MAX_DATA_CANDIDATES) {
          socket.destroy();
          return;
        }
        candidates += 1;
        this.#secure(socket, signal, direction).then(
          (secured) => {
            candidates -= 1;
            if (settled) secured.destroy();
            else finish(undefined, secured);
          },
          (error: unknown) => {
            candidates -= 1;
            finish(error);
          },
        );
      });
    });
  }

  /** TLS for PROT P (the server side of the handshake, whoever opened the TCP connection). */
  async #secure(socket: Socket, signal: AbortSignal, direction: Promise<TransferDirection>): Promise<Socket> {
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    const { protection, tlsContext, tlsSessionReuse, log } = this.#current();
    if (protection !== 'P') {
      askKernelAtEnd(socket);
      return socket;
    }
    if (!tlsContext) {
      socket.destroy();
      throw new DataTlsFailure('PROT P without a TLS control connection');
    }
    let secure;
    try {
      secure = await secureDataConnection(socket, {
        context: tlsContext,
        timeoutMs: this.#services.settings.tlsHandshakeTimeoutMs,
        requireResumption: tlsSessionReuse === 'required',
        direction,
        signal,
      });
    } catch (error) {
      if (error instanceof TlsResumptionRequired || signal.aborted) throw error;
      throw new DataTlsFailure((error as Error).message, { cause: error });
    }
    log.debug({ event: 'data-tls', protocol: secure.getProtocol(), resumed: secure.isSessionReused(), relayed: isRelayed(secure) });
    return secure;
  }
}

/** Gives a passive port back: no more waiting for, or negotiating, its connection; a late one is closed. */
function releasePassive(endpoint: Extract<DataEndpoint, { kind: 'passive' }>): void {
  endpoint.cancel.abort();
  endpoint.reservation.release();
  endpoint.connection.then((socket) => socket.destroy(), () => undefined);
}

async function connectActive(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return await new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host, port, signal, timeout: timeoutMs, allowHalfOpen: true });
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('timeout', () => socket.destroy(new DataConnectionTimeout('Active data connection timed out')));
    socket.once('error', reject);
  });
}
