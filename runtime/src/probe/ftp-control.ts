import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { networkError, ProbeError, seconds } from './probe-error.ts';
import { ReplyReader, type FtpReply } from './reply-reader.ts';
import { clientTlsHandshake, type ClientTlsOptions } from './tls-handshake.ts';

export type { FtpReply } from './reply-reader.ts';

/** A reply longer than this is not an FTP server talking (a banner is a few lines). */
const MAX_REPLY_CHARS = 64 * 1024;

/**
 * The client end of an FTP control connection: commands out, replies in (ReplyReader:
 * RFC 959 multi-line aware, a line that is not a reply a protocol failure), each wait
 * bounded by the step timeout.
 */
export class FtpControl {
  #socket: Socket;
  readonly #timeoutMs: number;
  readonly #reader = new ReplyReader({ maxReplyChars: MAX_REPLY_CHARS });
  readonly #replies: Array<FtpReply | ProbeError> = [];
  #closed: ProbeError | undefined;
  /** Readers waiting for the next reply (a transfer's final reply may wait beside a later command's). */
  readonly #wakers = new Set<() => void>();

  constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#attach(socket);
  }

  get socket(): Socket {
    return this.#socket;
  }

  /**
   * The next reply; `what` names the wait in messages ("greeting", "reply to LIST").
   * `Infinity` waits until a reply comes or the connection closes (the caller bounds it).
   */
  async read(what: string, timeoutMs = this.#timeoutMs): Promise<FtpReply> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const next = this.#replies.shift();
      if (next instanceof ProbeError) throw next;
      if (next) return next;
      if (this.#closed) throw new ProbeError(this.#closed.kind, `${what}: ${this.#closed.message}`);
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new ProbeError('timeout', `${what}: no answer within ${seconds(timeoutMs)}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#wakers.delete(wake);
          resolve();
        };
        const timer = Number.isFinite(remaining) ? setTimeout(wake, remaining) : undefined;
        this.#wakers.add(wake);
      });
    }
  }

  /** Sends one command line and reads its reply. */
  async command(line: string): Promise<FtpReply> {
    this.send(line);
    return await this.read(`reply to ${line.startsWith('PASS ') ? 'PASS' : line}`);
  }

  send(line: string): void {
    if (!this.#socket.destroyed) this.#socket.write(`${line}\r\n`);
  }

  /** AUTH TLS accepted: the same TCP connection continues as TLS. */
  async startTls(options: ClientTlsOptions): Promise<TLSSocket> {
    const raw = this.#socket;
    this.#detach(raw);
    const secure = await clientTlsHandshake(raw, options);
    this.#socket = secure;
    this.#reader.restart();
    this.#attach(secure);
    return secure;
  }

  close(): void {
    this.#socket.destroy();
  }

  readonly #listeners = {
    data: (chunk: Buffer) => this.#onData(chunk),
    end: () => this.#onClosed(new ProbeError('closed', 'the server closed the control connection')),
    close: () => this.#onClosed(new ProbeError('closed', 'the server closed the control connection')),
    error: (error: Error) => this.#onClosed(networkError(error, 'control connection')),
  };

  #attach(socket: Socket): void {
    for (const [event, listener] of Object.entries(this.#listeners)) socket.on(event, listener);
  }

  /** Only this reader's listeners: the TLS socket that takes over needs the socket's own. */
  #detach(socket: Socket): void {
    for (const [event, listener] of Object.entries(this.#listeners)) socket.off(event, listener);
  }

  #onClosed(reason: ProbeError): void {
    this.#closed ??= reason;
    this.#wakeAll();
  }

  #wakeAll(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  #onData(chunk: Buffer): void {
    this.#replies.push(...this.#reader.push(chunk));
    if (this.#reader.overflowed) this.#socket.destroy();
    this.#wakeAll();
  }
}

/** "227 Entering Passive Mode (…)": a reply as one line, for summaries and messages. */
export function describeReply(reply: FtpReply): string {
  return `${reply.code} ${reply.text}`;
}

export function unexpectedReply(what: string, reply: FtpReply): ProbeError {
  return new ProbeError('reply', `${what}: unexpected reply ${describeReply(reply)}`);
}
