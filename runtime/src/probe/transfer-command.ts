import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { readData, writeData } from './data-transfer.ts';
import { withDeadline } from '../deadline.ts';
import { describeReply, unexpectedReply, type FtpControl, type FtpReply } from './ftp-control.ts';
import { ProbeError, seconds } from './probe-error.ts';

export interface TransferResult {
  /** What was received (the first MiB of it), and how many bytes. */
  readonly data: Buffer;
  readonly bytes: number;
  readonly final: FtpReply;
  /** " over TLSv1.3 (TLS session reused)", or '' for a plain data connection. */
  readonly tls: string;
}

export interface TransferOptions {
  /** Bytes to send (STOR); without, the data is read (LIST, RETR). */
  readonly upload?: Buffer;
  /** The data connection comes from the server (PORT/EPRT). */
  readonly active?: boolean;
  readonly timeoutMs: number;
  /** PROT P: the TLS handshake for a data connection, as its client. */
  readonly protect: (socket: Socket) => Promise<Socket> | Socket;
  /** Hands every data socket to the probe, which destroys what is left when it ends. */
  readonly track: (socket: Socket) => void;
}

/** A promise that never settles: the losing side of a race only one outcome may win. */
const NEVER = new Promise<never>(() => undefined);

/**
 * One transfer command over an opened (or, in active mode, arriving) data
 * connection. With PROT P the TLS handshake runs while the command is sent: some
 * servers only start it after the 150. A transfer is done when the data has moved
 * and the final reply has come, but an error reply ends it at once.
 */
export async function runTransferCommand(
  control: FtpControl,
  command: string,
  connection: Socket | Promise<Socket>,
  options: TransferOptions,
): Promise<TransferResult> {
  const { timeoutMs } = options;
  const active = options.active ?? false;
  const what = `${command.split(' ')[0]} data`;
  control.send(command);
  const stream = Promise.resolve(connection).then(options.protect);
  stream.catch(() => undefined);
  const preliminary = await control.read(`reply to ${command}`);
  if (preliminary.code !== 150 && preliminary.code !== 125) {
    void stream.then((socket) => socket.destroy(), () => undefined);
    throw dataReplyError(command, preliminary, active);
  }
  // Read as soon as it comes: an error reply (425 from a server that never saw the
  // connection) must not wait for a data connection that will stay silent.
  const final = control.read(`final reply to ${command}`, Infinity);
  final.catch(() => undefined);
  const refused = final.then((reply) => (reply.code >= 400 ? Promise.reject(dataReplyError(command, reply, active)) : NEVER));
  refused.catch(() => undefined);
  let received: { data: Buffer; bytes: number } = { data: Buffer.alloc(0), bytes: 0 };
  let tls = '';
  let socket: Socket | undefined;
  const moveData = (async () => {
    socket = await stream;
    options.track(socket);
    if (socket instanceof TLSSocket) tls = ` over ${socket.getProtocol()}${socket.isSessionReused() ? ' (TLS session reused)' : ''}`;
    if (options.upload) await writeData(socket, options.upload, { timeoutMs, what });
    else received = await readData(socket, { timeoutMs, what });
  })();
  moveData.catch(() => undefined);
  try {
    await Promise.race([moveData, refused]);
  } catch (error) {
    if (!(error instanceof ProbeError) || error.kind === 'reply' || error.kind === 'unreachable') throw error;
    // The server may be about to say why (426, or 522 for a TLS session it wanted resumed).
    const said = await withDeadline(final.then(describeReply, () => undefined), Math.min(timeoutMs, 1000), () => undefined);
    throw said ? new ProbeError(error.kind, `${error.message}; the server says: ${said}`) : error;
  }
  const reply = await withDeadline(final, timeoutMs, () => Promise.reject(silentServer(command, timeoutMs, !options.upload && !active && received.bytes === 0)));
  // Only now: an upload's data connection stays until the server has answered for it.
  socket?.destroy();
  if (reply.code !== 226 && reply.code !== 250) throw dataReplyError(command, reply, active);
  return { ...received, final: reply, tls };
}

/** No final reply; after a data connection the server shut at once, it is still waiting for "its" connection. */
function silentServer(command: string, timeoutMs: number, shutAtOnce: boolean): ProbeError {
  const silent = `final reply to ${command}: no answer within ${seconds(timeoutMs)}`;
  if (!shutAtOnce) return new ProbeError('timeout', silent);
  return new ProbeError('timeout', `${silent}, after the server closed the data connection without a byte`, {
    advice: [
      "The server did not take the data connection as this session's and still waits for one. ftp-s3-bridge takes a data connection only from the control connection's address (and logs data-connection-refused otherwise): a NAT or proxy that sends the two from different addresses breaks every transfer.",
    ],
  });
}

/**
 * 425 in passive mode: the server never got the data connection the probe opened;
 * in active mode: the server could not connect to the probe.
 */
function dataReplyError(command: string, reply: FtpReply, active: boolean): ProbeError {
  const verb = command.split(' ')[0]!;
  if (reply.code === 425 && active) {
    return new ProbeError('unreachable', `${verb}: ${describeReply(reply)}: the server could not connect to this machine (active mode)`);
  }
  if (reply.code === 425) {
    return new ProbeError(
      'reply',
      `${verb}: ${describeReply(reply)}: the server did not get the data connection the probe opened, so something between accepted it instead (a proxy or firewall with an FTP helper, or a load balancer that sends the passive port to another server)`,
    );
  }
  return unexpectedReply(verb, reply);
}
