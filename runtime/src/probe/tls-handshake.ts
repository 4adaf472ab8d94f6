import { isIP, type Socket } from 'node:net';
import { connect, rootCertificates, type TLSSocket } from 'node:tls';
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
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new ProbeError('timeout', `${options.what}: no TLS answer within ${seconds(options.timeoutMs)}`)),
        options.timeoutMs,
      );
      const fail = (error: Error): void => {
        cleanup();
        reject(error instanceof ProbeError ? error : new ProbeError('tls-handshake', `${options.what}: TLS handshake failed: ${tlsReason(error)}`, { cause: error }));
      };
      const done = (): void => {
        cleanup();
        resolve();
      };
      const onClose = (): void => fail(new Error('the server closed the connection during the handshake'));
      function cleanup(): void {
        clearTimeout(timer);
        secure.off('secureConnect', done);
        secure.off('error', fail);
        secure.off('close', onClose);
      }
      secure.once('secureConnect', done);
      secure.once('error', fail);
      secure.once('close', onClose);
    });
  } catch (error) {
    // The TLS socket owns the TCP socket now: destroying it closes both.
    secure.destroy();
    throw error;
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
