import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { ControlSession } from './control-session.ts';
import { formatReply, reply } from './reply.ts';
import type { SessionServices } from './session-settings.ts';
import { upgradeToTls } from './tls-upgrade.ts';

export interface FtpServerOptions {
  readonly listenAddress: string;
  readonly controlPort: number;
  /** 0 = no implicit FTPS listener. */
  readonly implicitTlsPort: number;
  readonly maxConnections: number;
  readonly services: SessionServices;
  readonly logger: Logger;
}

const IMPLICIT_HANDSHAKE_TIMEOUT_MS = 15_000;

/**
 * The control listeners (plain/explicit FTPS and implicit FTPS) and the sessions
 * they spawn. Shutdown stops accepting, lets running transfers finish within the
 * grace period, and closes every session with 421.
 */
export class FtpServer {
  readonly #options: FtpServerOptions;
  readonly #sessions = new Set<ControlSession>();
  readonly #servers: Server[] = [];
  #draining = false;
  #drained: (() => void) | undefined;

  constructor(options: FtpServerOptions) {
    this.#options = options;
  }

  /** Starts listening; resolves with the bound ports (useful when configured as 0 in tests). */
  async listen(): Promise<{ controlPort: number; implicitTlsPort: number | undefined }> {
    const { listenAddress, controlPort, implicitTlsPort } = this.#options;
    const control = await this.#listenOn(listenAddress, controlPort, (socket) => this.#startSession(socket, false));
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

  /** Stops accepting, drains sessions for up to `graceMs`, then closes what is left with 421. */
  async shutdown(graceMs: number): Promise<void> {
    if (this.#draining && this.#servers.length === 0) return;
    this.#draining = true;
    const closing = this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    this.#options.logger.info({ event: 'shutdown-started', sessions: this.#sessions.size, graceMs });
    if (this.#sessions.size > 0) {
      const drained = new Promise<void>((resolve) => (this.#drained = resolve));
      for (const session of this.#sessions) session.drain();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const session of [...this.#sessions]) session.close(reply(421, 'Service shutting down; please reconnect.'));
    }
    await Promise.all(closing);
    this.#servers.length = 0;
    this.#options.logger.info({ event: 'shutdown-complete' });
  }

  async #listenOn(host: string, port: number, onSocket: (socket: Socket) => void): Promise<number> {
    const server = createServer({ allowHalfOpen: true }, onSocket);
    server.on('error', (error) => this.#options.logger.error({ event: 'listener-error', port, err: error }));
    server.listen({ host, port });
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error))]);
    this.#servers.push(server);
    return (server.address() as AddressInfo).port;
  }

  async #acceptImplicit(socket: Socket): Promise<void> {
    if (this.#refuse(socket)) return;
    const context = this.#options.services.tlsContext();
    if (!context) {
      this.#options.logger.warn({ event: 'connection-refused', clientAddress: socket.remoteAddress, reason: 'no TLS certificate' });
      socket.destroy();
      return;
    }
    socket.on('error', () => socket.destroy());
    try {
      const secure = await upgradeToTls(socket, context, IMPLICIT_HANDSHAKE_TIMEOUT_MS);
      this.#startSession(secure, true);
    } catch (error) {
      this.#options.logger.info({ event: 'tls-failed', clientAddress: socket.remoteAddress, err: error });
    }
  }

  #startSession(socket: Socket, implicitTls: boolean): void {
    if (!implicitTls && this.#refuse(socket)) return;
    const session = new ControlSession({
      socket,
      services: this.#options.services,
      implicitTls,
      onClosed: (closed) => {
        this.#sessions.delete(closed);
        if (this.#sessions.size === 0) this.#drained?.();
      },
    });
    this.#sessions.add(session);
    session.start();
  }

  /** Over the connection limit, or shutting down: 421 and close. */
  #refuse(socket: Socket): boolean {
    const full = this.#sessions.size >= this.#options.maxConnections;
    if (!full && !this.#draining) return false;
    this.#options.logger.warn({ event: 'connection-refused', clientAddress: socket.remoteAddress, full });
    socket.on('error', () => socket.destroy());
    socket.end(formatReply(reply(421, full ? 'Too many connections; try again later.' : 'Service shutting down.')));
    setTimeout(() => socket.destroy(), 1000).unref();
    return true;
  }
}
