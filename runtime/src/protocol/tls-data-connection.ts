import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { TransferDirection } from './command-handler.ts';
import { askKernelAtEnd } from './peer-reset.ts';
import { ClientRecords, trafficKeys } from './tls13-close-notify.ts';
import { upgradeToTls } from './tls-upgrade.ts';

/**
 * PROT P data connections.
 *
 * Node's TLS run directly on a TCP socket has two flaws that matter for FTP, where
 * the end of the data connection is the end of the file:
 * - a TCP FIN without a TLS close_notify ends the stream like a clean close, so an
 *   upload cut by an injected FIN would look complete;
 * - under TLS 1.3 its own close_notify can be lost when the socket is shut down
 *   while session tickets are still being written, and careful clients (Python's
 *   `unwrap()`) then fail with "unexpected EOF".
 * TLS over a JavaScript duplex that relays the TCP socket has neither: the relay
 * sees the TCP end itself, and Node orders the TLS shutdown correctly over JS streams.
 *
 * The relay costs every byte a trip through JavaScript (Node's JS stream wrapper): about
 * twice the CPU of native TLS. Only an upload needs it: only there does the server decide
 * from the end of the stream (on a download the client checks the server's close_notify,
 * and the server's own close_notify goes out after its last byte however TLS runs). So a
 * connection known to carry a download when its handshake starts (clients that start TLS
 * after the 150: Java's Commons Net, Python's ftplib, lftp) runs TLS natively on the TCP socket; an
 * upload, and a connection whose direction is not known yet (curl and Go's clients start
 * TLS before they send RETR/STOR), go through the relay. OpenSSL run natively does not
 * read Java's TLS 1.3 ending (user_canceled, then close_notify; tls13-close-notify.ts),
 * so an upload's end is never judged natively.
 */
export class TlsResumptionRequired extends Error {
  constructor() {
    super('The data connection did not resume the TLS session of its control connection');
    this.name = 'TlsResumptionRequired';
  }
}

const REFUSED_CLOSE_WAIT_MS = 5000;

/** TLS data connections whose TCP stream ended before the peer's close_notify arrived. */
const truncated = new WeakSet<Socket>();
/** TLS data connections over the relay (the others run natively and carry downloads only). */
const relayed = new WeakSet<Socket>();
/** The TCP socket under each TLS data connection. */
const transports = new WeakMap<Socket, Socket>();

/**
 * The server side of a data connection's TLS handshake, with `context` (the control
 * connection's own, so only its sessions can be resumed). With `requireResumption`,
 * a handshake that did not resume a session fails with TlsResumptionRequired.
 */
export async function secureDataConnection(
  tcp: Socket,
  options: {
    readonly context: SecureContext;
    readonly timeoutMs: number;
    readonly requireResumption: boolean;
    /** The transfer's direction, once its command is known (it may come after the connection). */
    readonly direction: Promise<TransferDirection>;
    readonly signal?: AbortSignal;
  },
): Promise<TLSSocket> {
  const started = Date.now();
  const direction = await directionAtHandshake(tcp, options.direction, options.timeoutMs, options.signal);
  const timeoutMs = Math.max(1, options.timeoutMs - (Date.now() - started));
  const secure =
    direction === 'download'
      ? await upgradeToTls(tcp, options.context, timeoutMs, options.signal)
      : await secureThroughRelay(tcp, { ...options, timeoutMs });
  if (!relayed.has(secure)) writeOneChunkAtATime(secure);
  transports.set(secure, tcp);
  if (options.requireResumption && !secure.isSessionReused()) {
    closeGently(secure);
    throw new TlsResumptionRequired();
  }
  return secure;
}

/**
 * Waits until the client's first TLS bytes arrive or the transfer's command is known,
 * whichever comes first, and answers the direction known by then ('unknown' otherwise).
 * The bytes that arrived stay buffered in `tcp`, and the TLS socket takes them from there.
 */
async function directionAtHandshake(
  tcp: Socket,
  direction: Promise<TransferDirection>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TransferDirection | 'unknown'> {
  const cancel = new AbortController();
  const stop = signal === undefined ? cancel.signal : AbortSignal.any([signal, cancel.signal]);
  const arrived = new Promise<'unknown'>((resolve) => {
    const onArrival = (): void => resolve('unknown');
    tcp.once('readable', onArrival);
    tcp.once('close', onArrival);
    stop.addEventListener(
      'abort',
      () => {
        tcp.off('readable', onArrival);
        tcp.off('close', onArrival);
        resolve('unknown');
      },
      { once: true },
    );
  });
  const timedOut = sleep(timeoutMs, 'unknown' as const, { signal: stop }).catch(() => 'unknown' as const);
  try {
    return await Promise.race([direction, arrived, timedOut]);
  } finally {
    cancel.abort();
  }
}

/**
 * Native TLS encrypts each write straight from its buffer, but copies a batch of writes
 * (writev: the chunks queued while the previous write completed) into one new buffer
 * first: a second copy of every byte a download sends, and garbage to collect. One chunk
 * per write takes the first path.
 */
function writeOneChunkAtATime(secure: TLSSocket): void {
  (secure as unknown as { _writev: unknown })._writev = null;
}

/** TLS over the relay (see above): the end of an upload is judged from what the TCP socket and the records say. */
async function secureThroughRelay(
  tcp: Socket,
  options: { readonly context: SecureContext; readonly timeoutMs: number; readonly signal?: AbortSignal },
): Promise<TLSSocket> {
  const relay = new TcpRelay(tcp);
  let secure: TLSSocket | undefined;
  let clientSecret: Buffer | undefined;
  // Registered before the TLS socket exists, so it runs before Node hands the EOF on:
  // if TLS has not ended by itself by then, and (TLS 1.3) the client's last record is
  // not a close_notify either (tls13-close-notify.ts), no close_notify came first.
  relay.once('end', () => {
    if (secure && !tlsStreamEnded(secure) && !lastRecordIsCloseNotify(secure, relay.records, clientSecret)) truncated.add(secure);
  });
  const onKeylog = (line: Buffer): void => {
    const [label, , secret] = line.toString('latin1').trim().split(' ');
    if (label === 'CLIENT_TRAFFIC_SECRET_0' && secret !== undefined) clientSecret = Buffer.from(secret, 'hex');
  };
  secure = await upgradeToTls(relay, options.context, options.timeoutMs, options.signal, onKeylog);
  relayed.add(secure);
  return secure;
}

/**
 * Ends a refused data connection with a close_notify, reading and dropping what the
 * client still sends, so it sees a clean end (not a reset) and goes on to read the
 * reply that says why; gone after a few seconds whatever the client does.
 */
function closeGently(socket: TLSSocket): void {
  socket.on('error', () => socket.destroy());
  socket.resume();
  socket.end();
  setTimeout(() => socket.destroy(), REFUSED_CLOSE_WAIT_MS).unref();
}

/** True when `socket` is a TLS data connection whose TCP stream ended without a close_notify. */
export function endedWithoutCloseNotify(socket: Socket): boolean {
  return truncated.has(socket);
}

/** Whether `socket` is a TLS data connection over the relay, whose end can be judged (not a native one). */
export function isRelayed(socket: Socket): boolean {
  return relayed.has(socket);
}

/** The TCP socket a data connection runs on: `socket` itself, or the one under its TLS. */
export function transportOf(socket: Socket): Socket {
  return transports.get(socket) ?? socket;
}

/**
 * Whether the TLS layer has ended its readable side (a close_notify), whether or not
 * the consumer has read up to that end yet. Node keeps this only in its stream state.
 */
function tlsStreamEnded(socket: TLSSocket): boolean {
  return (socket as unknown as { _readableState?: { ended?: boolean } })._readableState?.ended === true;
}

/** Whether a TLS 1.3 connection's last record from the client is a close_notify under its application traffic secret. */
function lastRecordIsCloseNotify(secure: TLSSocket, records: ClientRecords, clientSecret: Buffer | undefined): boolean {
  if (secure.getProtocol() !== 'TLSv1.3' || clientSecret === undefined) return false;
  const suite = secure.getCipher()?.standardName;
  const keys = suite === undefined ? undefined : trafficKeys(suite, clientSecret);
  return keys !== undefined && records.endsWithCloseNotify(keys);
}

/** Relays a TCP socket's bytes both ways, with backpressure, and its end and errors. */
class TcpRelay extends Duplex {
  readonly #tcp: Socket;
  /** The record boundaries of what the client sent. */
  readonly records = new ClientRecords();

  constructor(tcp: Socket) {
    // Half-open: the TLS layer decides when to send its close_notify and FIN.
    super({ allowHalfOpen: true });
    this.#tcp = tcp;
    tcp.pause();
    askKernelAtEnd(tcp);
    tcp.on('data', (chunk: Buffer) => {
      this.records.push(chunk);
      if (!this.push(chunk)) tcp.pause();
    });
    tcp.once('end', () => this.push(null));
    tcp.once('error', (error) => this.destroy(error));
    tcp.once('close', () => this.destroy());
  }

  override _read(): void {
    this.#tcp.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#tcp.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#tcp.end(callback);
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    this.#tcp.destroy();
    callback(error);
  }
}
