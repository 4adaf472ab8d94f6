import type { Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { unexpectedReply, type FtpControl, type FtpReply } from './ftp-control.ts';
import type { PartnerPorts } from './partner-rules.ts';
import type { SecondConnection } from './port-diagnosis.ts';
import type { ProbeReport, StepName } from './probe-report.ts';
import { StepRecorder, type StepContext, type StepResult } from './probe-steps.ts';
import type { ProbeTarget } from './probe-target.ts';
import { clientTlsHandshake } from './tls-handshake.ts';
import { runTransferCommand } from './transfer-command.ts';

export interface ProbeOptions {
  readonly target: ProbeTarget;
  readonly password: string;
  /** How long each step may wait for an answer. */
  readonly timeoutMs: number;
  /** Go on when the certificate does not verify (reported as a warning). */
  readonly insecure: boolean;
  /** Extra trusted CA certificates (PEM). */
  readonly ca: readonly string[];
  /** STOR, SIZE, RETR, DELE of a small file in the target folder. */
  readonly write: boolean;
  /** An active-mode LIST (EPRT/PORT to a listener of the probe). */
  readonly active: boolean;
  /** The server's whole passive range, when known, so advice can name it. */
  readonly passiveRange: PartnerPorts | undefined;
}

/** Replies that mean "this server does not do that", as opposed to a failure. */
export const NOT_OFFERED = new Set([500, 501, 502, 504, 522]);

/**
 * What the step groups of one probe run share: the options, the step record, what
 * earlier steps learnt (the control connection and its address, TLS, whether EPSV
 * works, the file --write left), and every socket and listener it opened, closed when
 * the run ends.
 */
export class ProbeSession {
  readonly options: ProbeOptions;
  readonly recorder: StepRecorder;
  /** The TLS report of the certificate step. */
  tls: ProbeReport['tls'] = null;
  control: FtpControl | undefined;
  /** The address the control connection went to. */
  controlAddress = '';
  /** PROT P is in effect: data connections are TLS. */
  protectedData = false;
  /** EPSV worked, so --write uses it. */
  epsv = false;
  /** The file --write uploaded and has not deleted yet. */
  uploaded: string | undefined;
  #tlsSession: Buffer | undefined;
  /** Every socket the probe opened, destroyed when it ends (a TLS socket stands for the TCP socket it wraps). */
  readonly #sockets = new Set<Socket>();
  readonly #servers = new Set<Server>();

  constructor(options: ProbeOptions) {
    this.options = options;
    this.recorder = new StepRecorder(options.target);
  }

  async step<T>(name: StepName, work: (step: StepContext) => Promise<StepResult<T>>): Promise<T> {
    return await this.recorder.run(name, work);
  }

  /** Sends a command and insists on one of the `codes`. */
  async expect(control: FtpControl, line: string, codes: readonly number[]): Promise<FtpReply> {
    const reply = await control.command(line);
    if (!codes.includes(reply.code)) throw unexpectedReply(line.split(' ')[0]!, reply);
    return reply;
  }

  /** A transfer command over `connection`, TLS with PROT P, every socket tracked. */
  async transfer(control: FtpControl, command: string, connection: Socket | Promise<Socket>, options: { upload?: Buffer; active?: boolean }) {
    const what = `TLS handshake on the ${command.split(' ')[0]} data connection`;
    return await runTransferCommand(control, command, connection, {
      ...options,
      timeoutMs: this.options.timeoutMs,
      protect: (socket) => (this.protectedData ? this.handshake(socket, what) : socket),
      track: (socket) => this.track(socket),
    });
  }

  /** Another connection to the control port, to tell what it speaks. */
  secondConnection(): SecondConnection {
    return { address: this.controlAddress, port: this.options.target.port, timeoutMs: this.options.timeoutMs, track: (socket) => this.track(socket) };
  }

  tlsOptions(what: string) {
    return {
      host: this.options.target.host,
      timeoutMs: this.options.timeoutMs,
      what,
      ca: this.options.ca,
      session: this.#tlsSession,
      onSession: (session: Buffer) => (this.#tlsSession = session),
    };
  }

  async handshake(socket: Socket, what: string): Promise<TLSSocket> {
    // Data connections resume the control connection's session; the control connection records it.
    this.untrack(socket);
    const secure = await clientTlsHandshake(socket, this.tlsOptions(what));
    this.track(secure);
    return secure;
  }

  track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /**
   * A socket that TLS now wraps belongs to its TLS socket: destroying the TCP socket
   * under a live TLS socket crashed Node 24 (SIGSEGV) when the server side ran in the
   * same process.
   */
  untrack(socket: Socket): void {
    this.#sockets.delete(socket);
  }

  /** A listener the probe opened (active mode), closed when it ends; the connections it accepts are tracked. */
  trackServer(server: Server): void {
    this.#servers.add(server);
    server.on('connection', (socket) => this.track(socket));
  }

  /** Destroys every socket and closes every listener the run opened. */
  async closeAll(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all([...this.#servers].map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
