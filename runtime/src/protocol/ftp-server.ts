import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { withDeadline } from '../deadline.ts';
import { normalizeAddress } from './client-address.ts';
import type { ConnectionLimits, ConnectionRefusal } from './connection-limits.ts';
import { ControlSession } from './control-session.ts';
import { LogThrottle } from './log-throttle.ts';
import { formatReply, reply } from './reply.ts';
import type { SessionServices } from './session-settings.ts';
import { upgradeToTls } from './tls-upgrade.ts';
import { REPLIES } from './replies.ts';

export interface FtpServerOptions {
  readonly listenAddress: string;
  readonly controlPort: number;
  /** 0 = no implicit FTPS listener. */
  readonly implicitTlsPort: number;
  readonly services: SessionServices;
  readonly logger: Logger;
}

/** Connections being turned away (421, then closed) at once; past this they are closed unanswered. */
const MAX_REFUSALS_IN_FLIGHT = 64;
const REFUSAL_LINGER_MS = 1000;
/**
 * A TLS client sends its ClientHello as soon as it has connected; a plain FTP client
 * sends nothing and waits for a greeting. Silence this long on the implicit port
 * means the latter, and it is told so instead of waiting for the handshake deadline.
 */
const IMPLICIT_SILENCE_MS = 3000;
/** The first byte of a TLS ClientHello record (content type handshake). */
const TLS_HANDSHAKE_RECORD = 0x16;
/**
 * After the grace period, how long shutdown waits for the transfers it cut off to
 * be aborted in S3 and logged (the store retries an abort for about 7.5 s).
 */
export const SHUTDOWN_ABORT_WAIT_MS = 10_000;

/**
 * The control listeners (plain/explicit FTPS and implicit FTPS) and the sessions
 * they spawn. Every accepted socket is counted against the connection limits from
 * the start, an implicit-TLS handshake included. Shutdown stops accepting, lets
 * running transfers finish within the grace period, closes every session with 421,
 * and waits (bounded) until the transfers it cut off have been aborted in S3.
 */
export class FtpServer {
  readonly #options: FtpServerOptions;
  readonly #limits: ConnectionLimits;
  readonly #sessions = new Set<ControlSession>();
  /** Sessions closed or closing whose last command (an aborted transfer) is still settling. */
  readonly #settling = new Set<Promise<void>>();
  readonly #servers: Server[] = [];
  #refusing = 0;
  /** Refusals of one reason: at most one line per second (a flood must not flood the logs). */
  readonly #refusalLog = new LogThrottle();
  #draining = false;
  #drained: (() => void) | undefined;
  /** The port the control listener got (the setting may be 0): what a 421 on the implicit port names. */
  #boundControlPort: number;

  constructor(options: FtpServerOptions) {
    this.#options = options;
    this.#boundControlPort = options.controlPort;
    this.#limits = options.services.connections;
    options.services.authenticator.onUsersChanged(() => this.#reviewSessions());
  }

  /** After a users reload: each logged-in session goes on, takes its new permissions, or ends. */
  #reviewSessions(): void {
    const { authenticator } = this.#options.services;
    for (const session of [...this.#sessions]) {
      const user = session.state.user;
      if (user !== undefined) session.applyReview(authenticator.review({ user, clientAddress: session.clientAddress }));
    }
  }

  /** Starts listening; resolves with the bound ports (useful when configured as 0 in tests). */
  async listen(): Promise<{ controlPort: number; implicitTlsPort: number | undefined }> {
    const { listenAddress, controlPort, implicitTlsPort } = this.#options;
    const control = await this.#listenOn(listenAddress, controlPort, (socket) => this.#acceptPlain(socket));
    this.#boundControlPort = control;
    let implicit: number | undefined;
    if (implicitTlsPort > 0) {
      implicit = await this.#listenOn(listenAddress, implicitTlsPort, (socket) => void this.#acceptImplicit(socket));
    }
    return { controlPort: control, implicitTlsPort: implicit };
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Transfers cut off by shutdown whose abort in S3 has not been logged yet. */
  get settlingTransfers(): number {
    return this.#settling.size;
  }

  /**
   * Ends a running shutdown's grace period now (a second Ctrl-C): the remaining
   * sessions are closed with 421 and their transfers aborted at once.
   */
  endGrace(): void {
    this.#drained?.();
  }

  /**
   * Stops accepting, drains sessions for up to `graceMs`, closes what is left with
   * 421, then waits up to SHUTDOWN_ABORT_WAIT_MS for cut-off transfers to settle.
   */
  async shutdown(graceMs: number): Promise<void> {
    if (this.#draining && this.#servers.length === 0) return;
    this.#draining = true;
    const { logger } = this.#options;
    const closing = this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    logger.info({ event: 'shutdown-started', sessions: this.#sessions.size, graceMs });
    if (this.#sessions.size > 0) {
      const drained = new Promise<void>((resolve) => (this.#drained = resolve));
      for (const session of this.#sessions) session.drain();
      await settleWithin(drained, graceMs);
      for (const session of [...this.#sessions]) session.close(REPLIES.shuttingDown);
    }
    const settling = this.#settling.size;
    const settled = await settleWithin(Promise.all(this.#settling), SHUTDOWN_ABORT_WAIT_MS);
    if (!settled) {
      logger.error(
        { event: 'shutdown-incomplete', transfers: this.#settling.size, waitedMs: SHUTDOWN_ABORT_WAIT_MS },
        'transfers were still being aborted in S3 at exit; the bucket lifecycle rule removes what they leave',
      );
    }
    await Promise.all(closing);
    this.#servers.length = 0;
    logger.info({ event: 'shutdown-complete', settledTransfers: settling });
  }

  async #listenOn(host: string, port: number, onSocket: (socket: Socket) => void): Promise<number> {
    const server = createServer({ allowHalfOpen: true }, onSocket);
    server.listen({ host, port });
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error))]);
    // Not before: a port that cannot be had is the start's failure, reported once by the caller.
    server.on('error', (error) => this.#options.logger.error({ event: 'listener-error', port, err: error }));
    this.#servers.push(server);
    return (server.address() as AddressInfo).port;
  }

  #acceptPlain(socket: Socket): void {
    const address = normalizeAddress(socket.remoteAddress);
    if (this.#refuse(socket, address, true)) return;
    this.#limits.track(socket, address);
    this.#startSession(socket, false);
  }

  /**
   * Implicit FTPS: TLS from the first byte. A client that sends something else, or
   * nothing (a plain FTP client waiting for a greeting), is told in clear text at once
   * what this port is; a handshake that does not finish in time is dropped.
   */
  async #acceptImplicit(socket: Socket): Promise<void> {
    const address = normalizeAddress(socket.remoteAddress);
    // No 421 here: a TLS client could not read a clear-text reply.
    if (this.#refuse(socket, address, false)) return;
    this.#limits.track(socket, address);
    socket.on('error', () => socket.destroy());
    const { services, logger } = this.#options;
    const context = services.newTlsContext();
    if (!context) {
      logger.warn({ event: 'connection-refused', clientAddress: address, reason: 'no TLS certificate' });
      socket.destroy();
      return;
    }
    const first = await firstByte(socket, IMPLICIT_SILENCE_MS);
    if (first !== TLS_HANDSHAKE_RECORD) {
      const reason = first === undefined ? 'client sent nothing (plain FTP?)' : 'client did not start with TLS (plain FTP?)';
      logger.info({ event: 'tls-failed', clientAddress: address, port: socket.localPort, reason });
      socket.end(
        formatReply(
          reply(421, `This port speaks implicit FTPS (TLS from the first byte); use ftps:// here, or port ${this.#boundControlPort} with AUTH TLS.`),
        ),
      );
      setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
      return;
    }
    try {
      const secure = await upgradeToTls(socket, context, services.settings.tlsHandshakeTimeoutMs);
      if (this.#draining) {
        secure.destroy();
        return;
      }
      this.#startSession(secure, true, context);
    } catch (error) {
      logger.info({ event: 'tls-failed', clientAddress: address, port: socket.localPort, reason: (error as Error).message });
    }
  }

  #startSession(socket: Socket, implicitTls: boolean, tlsContext?: ReturnType<SessionServices['newTlsContext']>): void {
    const session = new ControlSession({
      socket,
      services: this.#options.services,
      implicitTls,
      tlsContext,
      onClosed: (closed) => {
        this.#sessions.delete(closed);
        const settled = closed.settled.then(() => {
          this.#settling.delete(settled);
        });
        this.#settling.add(settled);
        if (this.#sessions.size === 0) this.#drained?.();
      },
    });
    this.#sessions.add(session);
    session.start();
  }

  /** Over a connection limit, or shutting down: closes the socket (with 421 where the client can read it). */
  #refuse(socket: Socket, address: string, answer: boolean): boolean {
    const reason: ConnectionRefusal | 'shutting-down' | undefined = this.#draining
      ? 'shutting-down'
      : this.#limits.refusal(address);
    if (reason === undefined) return false;
    this.#logRefusal(address, reason);
    socket.on('error', () => socket.destroy());
    if (!answer || this.#refusing >= MAX_REFUSALS_IN_FLIGHT) {
      socket.destroy();
      return true;
    }
    this.#refusing += 1;
    socket.once('close', () => (this.#refusing -= 1));
    const text =
      reason === 'shutting-down'
        ? 'Service restarting (deploy or maintenance); please reconnect.'
        : reason === 'address-limit'
          ? 'Too many connections from your address; try again later.'
          : 'Too many connections; try again later.';
    socket.end(formatReply(reply(421, text)));
    setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
    return true;
  }

  #logRefusal(address: string, reason: string): void {
    this.#refusalLog.write(reason, (suppressedSinceLast) =>
      this.#options.logger.warn({
        event: 'connection-refused',
        clientAddress: address,
        reason,
        connections: this.#limits.total,
        fromAddress: this.#limits.countFor(address),
        suppressedSinceLast,
      }),
    );
  }
}

/** Resolves true once `promise` settles, or false after `ms`. */
function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return withDeadline(promise.then(() => true, () => true), ms, () => false);
}

/**
 * The first byte the client sends, left in the socket for whoever reads next, or
 * undefined when it sends nothing within `ms` (or goes away).
 */
async function firstByte(socket: Socket, ms: number): Promise<number | undefined> {
  socket.pause();
  return await new Promise<number | undefined>((resolve) => {
    const timer = setTimeout(() => finish(undefined), ms);
    const onReadable = (): void => {
      const chunk = socket.read(1) as Buffer | null;
      if (chunk === null) return;
      socket.unshift(chunk);
      finish(chunk[0]);
    };
    const onGone = (): void => finish(undefined);
    function finish(value: number | undefined): void {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onGone);
      socket.off('close', onGone);
      resolve(value);
    }
    socket.on('readable', onReadable);
    socket.once('end', onGone);
    socket.once('close', onGone);
  });
}
