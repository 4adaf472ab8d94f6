import { once } from 'node:events';
import { isIP, type Socket } from 'node:net';
import { connect, rootCertificates, type TLSSocket } from 'node:tls';
import { withDeadline } from '../deadline.ts';
import { ProbeError, seconds } from './probe-error.ts';

export interface ClientTlsOptions {
  /** The name (or address) the probe was asked to reach: SNI, and what the certificate must name. */
  readonly host: string;
  readonly timeoutMs: number;
  /** Names the connection in messages. */
  readonly what: string;
  /** Extra trusted CA certificates (PEM), on top of the system's. */
  readonly ca: readonly string[];
  /** A session of the control connection, for data connections (vsftpd requires the reuse). */
  readonly session?: Buffer | undefined;
  /** Called with every session ticket the server sends (TLS 1.3 sends them after the handshake). */
  readonly onSession?: (session: Buffer) => void;
}

/**
 * The client side of a TLS handshake on a connected socket (implicit FTPS, AUTH TLS,
 * PROT P data connections). It never rejects an untrusted certificate itself: the
 * probe reports the certificate and decides (tls-inspection.ts), so `--insecure`
 * can look past it.
 */
export async function clientTlsHandshake(socket: Socket, options: ClientTlsOptions): Promise<TLSSocket> {
  const secure = connect({
    socket,
    host: options.host,
    // SNI carries names only (RFC 6066).
    ...(isIP(options.host) === 0 ? { servername: options.host } : {}),
    rejectUnauthorized: false,
    ...(options.ca.length > 0 ? { ca: [...rootCertificates, ...options.ca] } : {}),
    ...(options.session ? { session: options.session } : {}),
  });
  if (options.onSession) secure.on('session', options.onSession);
  const settled = new AbortController();
  // once() rejects on 'error' as well; a close before secureConnect is a failure too.
  const connected = once(secure, 'secureConnect', { signal: settled.signal });
  const closed = once(secure, 'close', { signal: settled.signal }).then(() =>
    Promise.reject(new Error('the server closed the connection during the handshake')),
  );
  connected.catch(() => undefined);
  closed.catch(() => undefined);
  try {
    await withDeadline(Promise.race([connected, closed]), options.timeoutMs, () =>
      Promise.reject(new ProbeError('timeout', `${options.what}: no TLS answer within ${seconds(options.timeoutMs)}`)),
    );
  } catch (error) {
    // The TLS socket owns the TCP socket now: destroying it closes both.
    secure.destroy();
    if (error instanceof ProbeError) throw error;
    throw new ProbeError('tls-handshake', `${options.what}: TLS handshake failed: ${tlsReason(error as Error)}`, { cause: error });
  } finally {
    settled.abort();
  }
  // Later errors belong to whoever reads the socket.
  secure.on('error', () => undefined);
  return secure;
}

/** OpenSSL's reason and Node's code ("wrong version number (ERR_SSL_WRONG_VERSION_NUMBER)"), not its multi-line dump. */
export function tlsReason(error: Error): string {
  const { reason, code } = error as Error & { reason?: string; code?: string };
  if (reason) return code ? `${reason} (${code})` : reason;
  return error.message.split('\n')[0] ?? error.message;
}
