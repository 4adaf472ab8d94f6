import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ProbeError, seconds } from './probe-error.ts';
import { connectTcp } from './tcp-connect.ts';
import { tlsReason } from './tls-handshake.ts';

/**
 * A second connection that tells what a port speaks when the first one failed: a
 * plain FTP greeting where TLS was expected, or a TLS handshake where a greeting was.
 * Clients meet both when implicit and explicit FTPS are mixed up.
 */
export interface SecondConnection {
  readonly address: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly track: (socket: Socket) => void;
}

/** Implicit TLS failed: a plain-text greeting on a fresh connection names the real problem. */
export async function explainFailedImplicitTls(error: unknown, again: SecondConnection): Promise<unknown> {
  if (!(error instanceof ProbeError) || error.kind !== 'tls-handshake') return error;
  try {
    const tcp = await connectTcp({ host: again.address, port: again.port, timeoutMs: again.timeoutMs, what: 'plain connection' });
    again.track(tcp.socket);
    const line = await firstLine(tcp.socket, again.timeoutMs);
    tcp.socket.destroy();
    if (/^\d{3}[ -]/.test(line)) {
      const reason = error.cause instanceof Error ? tlsReason(error.cause) : error.message;
      return new ProbeError(
        'tls-not-spoken',
        `no TLS on this port: the handshake failed (${reason}), and a plain connection gets the FTP greeting ${JSON.stringify(line)}: this port speaks plain FTP, not implicit TLS`,
      );
    }
  } catch {
    // No greeting either: the handshake error is the best there is.
  }
  return error;
}

/** No greeting: a port that expects TLS from the first byte says nothing to a plain client. */
export async function explainSilentPort(
  error: ProbeError,
  again: SecondConnection & { readonly handshake: (socket: Socket) => Promise<TLSSocket> },
): Promise<ProbeError> {
  try {
    const tcp = await connectTcp({ host: again.address, port: again.port, timeoutMs: again.timeoutMs, what: 'TLS connection' });
    again.track(tcp.socket);
    const secure = await again.handshake(tcp.socket);
    const protocol = secure.getProtocol();
    secure.destroy();
    return new ProbeError(
      'tls-expected',
      `no greeting within ${seconds(again.timeoutMs)}, but a TLS handshake on this port succeeds (${protocol}): it expects implicit TLS, TLS from the first byte`,
    );
  } catch {
    return new ProbeError('timeout', `${error.message}: something accepts TCP connections on this port but does not speak FTP (nor TLS)`);
  }
}

/** The first line a server sends on a plain connection, or '' after `timeoutMs`. */
async function firstLine(socket: Socket, timeoutMs: number): Promise<string> {
  return await new Promise<string>((resolve) => {
    let text = '';
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', finish);
      resolve(text.split(/\r?\n/)[0] ?? '');
    };
    const timer = setTimeout(finish, timeoutMs);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (text.includes('\n') || text.length > 512) finish();
    };
    socket.on('data', onData);
    socket.once('close', finish);
  });
}
