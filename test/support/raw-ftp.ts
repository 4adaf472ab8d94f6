import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureVersion, type TLSSocket } from 'node:tls';
import { ProbeError } from '../../runtime/src/probe/probe-error.ts';
import { ReplyReader, type FtpReply } from '../../runtime/src/probe/reply-reader.ts';

export type { FtpReply };

/** Far above any reply the bridge sends (a STAT listing of a large folder included). */
const MAX_REPLY_CHARS = 16 * 1024 * 1024;

export interface ConnectOptions {
  /** Server address: '127.0.0.1' unless given (e.g. '::1'). */
  readonly host?: string;
  readonly implicitTls?: boolean;
  /** Source address (any of 127.0.0.0/8), to act as a different client. */
  readonly localAddress?: string;
  /** Highest TLS version to offer, on the control and the data connections. */
  readonly tlsMaxVersion?: SecureVersion;
}

/**
 * A bare FTP control connection for protocol-level tests: send exact lines, read
 * exact replies (the probe's ReplyReader: multi-line aware, a non-reply line an error),
 * open data connections by hand.
 */
export class RawFtp {
  #socket: Socket;
  /** The socket connected first: the TCP socket under an explicit-TLS control connection (to reset it). */
  readonly transport: Socket;
  readonly #reader = new ReplyReader({ maxReplyChars: MAX_REPLY_CHARS });
  readonly #replies: Array<FtpReply | ProbeError> = [];
  #waiters: Array<() => void> = [];
  #ended = false;
  readonly #host: string;
  readonly #localAddress: string | undefined;
  readonly #tlsMaxVersion: SecureVersion | undefined;
  /** The latest TLS session ticket of the control connection, for resuming on data connections. */
  #tlsSession: Buffer | undefined;

  private constructor(socket: Socket, endpoint: { host: string; localAddress?: string; tlsMaxVersion?: SecureVersion }) {
    this.#socket = socket;
    this.transport = socket;
    this.#host = endpoint.host;
    this.#localAddress = endpoint.localAddress;
    this.#tlsMaxVersion = endpoint.tlsMaxVersion;
    this.#listen(socket);
  }

  static async connect(port: number, options: ConnectOptions = {}): Promise<RawFtp> {
    const local = options.localAddress ? { localAddress: options.localAddress } : {};
    const host = options.host ?? '127.0.0.1';
    const version = options.tlsMaxVersion ? { maxVersion: options.tlsMaxVersion } : {};
    const socket = options.implicitTls
      ? tlsConnect({ host, port, rejectUnauthorized: false, ...local, ...version })
      : netConnect({ host, port, ...local });
    const ftp = new RawFtp(socket, {
      host,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      ...(options.tlsMaxVersion ? { tlsMaxVersion: options.tlsMaxVersion } : {}),
    });
    await once(socket, options.implicitTls ? 'secureConnect' : 'connect');
    return ftp;
  }

  /** Connects, reads the greeting, logs in. */
  static async login(port: number, username: string, password: string, options: ConnectOptions = {}): Promise<RawFtp> {
    const ftp = await RawFtp.connect(port, options);
    await ftp.expect(220);
    await ftp.command(`USER ${username}`, 331);
    await ftp.command(`PASS ${password}`, 230);
    return ftp;
  }

  /** Connects, AUTH TLS, logs in, PBSZ 0 and PROT P: what an explicit-FTPS client does. */
  static async loginExplicitTls(port: number, username: string, password: string, options: ConnectOptions = {}): Promise<RawFtp> {
    const ftp = await RawFtp.connect(port, options);
    await ftp.expect(220);
    await ftp.upgrade();
    await ftp.command(`USER ${username}`, 331);
    await ftp.command(`PASS ${password}`, 230);
    await ftp.command('PBSZ 0', 200);
    await ftp.command('PROT P', 200);
    return ftp;
  }

  get socket(): Socket {
    return this.#socket;
  }

  get ended(): boolean {
    return this.#ended;
  }

  send(line: string | Buffer): void {
    this.#socket.write(typeof line === 'string' ? `${line}\r\n` : line);
  }

  /** Sends a command and returns its reply; with `expected`, fails unless the code matches. */
  async command(line: string, expected?: number): Promise<FtpReply> {
    this.send(line);
    return expected === undefined ? await this.read() : await this.expect(expected);
  }

  async expect(code: number): Promise<FtpReply> {
    const reply = await this.read();
    if (reply.code !== code) throw new Error(`expected ${code}, got: ${reply.lines.join(' | ')}`);
    return reply;
  }

  /** The next complete reply; rejects after `timeoutMs` or when the connection ends first. */
  async read(timeoutMs = 10_000): Promise<FtpReply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.#replies.shift();
      if (reply instanceof ProbeError) throw reply;
      if (reply) return reply;
      if (this.#ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.#reader.unread)}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no reply within ${timeoutMs} ms; buffered: ${JSON.stringify(this.#reader.unread)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** AUTH TLS and the handshake. */
  async upgrade(): Promise<void> {
    await this.command('AUTH TLS', 234);
    const raw = this.#socket;
    raw.removeAllListeners('data');
    // The same host as the data connections: a session is resumed only for the server name it was made for.
    const secure = tlsConnect({
      socket: raw,
      host: this.#host,
      rejectUnauthorized: false,
      ...(this.#tlsMaxVersion ? { maxVersion: this.#tlsMaxVersion } : {}),
    });
    // Listening before the handshake ends: the session ticket can arrive in the same tick.
    this.#socket = secure;
    this.#reader.restart();
    this.#listen(secure);
    await once(secure, 'secureConnect');
  }

  /**
   * EPSV, and the data connection to the announced port (TLS when `tls`, resuming the
   * control connection's TLS session unless `resume` is false).
   */
  async passive(options: { tls?: boolean; resume?: boolean; command?: 'EPSV' | 'PASV' } = {}): Promise<Socket | TLSSocket> {
    const port = await this.passivePort(options.command ?? 'EPSV');
    return await openData({
      port,
      host: this.#host,
      tls: options.tls ?? false,
      ...(this.#tlsSession && options.resume !== false ? { session: this.#tlsSession } : {}),
      ...(this.#localAddress ? { localAddress: this.#localAddress } : {}),
      ...(this.#tlsMaxVersion ? { tlsMaxVersion: this.#tlsMaxVersion } : {}),
    });
  }

  /** The latest TLS session ticket of the control connection (to try it on another session's port). */
  get tlsSession(): Buffer | undefined {
    return this.#tlsSession;
  }

  async passivePort(command: 'EPSV' | 'PASV' = 'EPSV'): Promise<number> {
    const reply = await this.command(command);
    if (command === 'EPSV') {
      const match = /\(\|\|\|(\d+)\|\)/.exec(reply.text);
      if (reply.code !== 229 || !match) throw new Error(`EPSV failed: ${reply.text}`);
      return Number(match[1]);
    }
    const match = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(reply.text);
    if (reply.code !== 227 || !match) throw new Error(`PASV failed: ${reply.text}`);
    return Number(match[5]) * 256 + Number(match[6]);
  }

  async close(): Promise<void> {
    if (!this.#socket.destroyed) {
      this.#socket.destroy();
      await once(this.#socket, 'close');
    }
  }

  #listen(socket: Socket): void {
    socket.on('session', (session: Buffer) => (this.#tlsSession = session));
    socket.on('data', (chunk: Buffer) => {
      this.#replies.push(...this.#reader.push(chunk));
      this.#wake();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** A data connection to a passive port, TLS (resuming `session`) when `tls`. */
export async function openData(options: {
  port: number;
  tls?: boolean;
  host?: string;
  session?: Buffer;
  localAddress?: string;
  tlsMaxVersion?: SecureVersion;
}): Promise<Socket | TLSSocket> {
  const { port, session, localAddress } = options;
  const host = options.host ?? '127.0.0.1';
  const local = localAddress ? { localAddress } : {};
  if (options.tls) {
    const socket = tlsConnect({
      host,
      port,
      rejectUnauthorized: false,
      ...local,
      ...(session ? { session } : {}),
      ...(options.tlsMaxVersion ? { maxVersion: options.tlsMaxVersion } : {}),
    });
    await once(socket, 'secureConnect');
    return socket;
  }
  const socket = netConnect({ host, port, ...local });
  await once(socket, 'connect');
  return socket;
}

/** Everything the peer sends until it closes. */
export async function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes `data` and half-closes (the end of an upload in stream mode). */
export async function writeAll(socket: Socket, data: Buffer | string): Promise<void> {
  await new Promise<void>((resolve, reject) => socket.end(data, () => resolve()).once('error', reject));
}

/** A binary-mode session of `username`, over plain FTP or explicit FTPS with protected data. */
export async function openSession(port: number, username: string, password: string, tls: boolean): Promise<RawFtp> {
  const ftp = tls ? await RawFtp.loginExplicitTls(port, username, password) : await RawFtp.login(port, username, password);
  if (tls) {
    await ftp.command('PBSZ 0', 200);
    await ftp.command('PROT P', 200);
  }
  await ftp.command('TYPE I', 200);
  return ftp;
}

/** Sends `data` with an upload command (STOR, APPE, ...) and waits for 226. */
export async function uploadOver(ftp: RawFtp, command: string, data: Buffer | string, tls: boolean): Promise<void> {
  const socket = await ftp.passive({ tls });
  await ftp.command(command, 150);
  await writeAll(socket, data);
  await ftp.expect(226);
}

/** Runs a listing command (LIST, MLSD, ...) and returns what came over the data connection. */
export async function listOver(ftp: RawFtp, command: string, tls: boolean): Promise<string> {
  const socket = await ftp.passive({ tls });
  await ftp.command(command, 150);
  const text = (await readAll(socket)).toString();
  await ftp.expect(226);
  return text;
}
