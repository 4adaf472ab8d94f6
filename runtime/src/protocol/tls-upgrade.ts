import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket, type SecureContext } from 'node:tls';

/**
 * Server side of a TLS handshake on an accepted socket: AUTH TLS on the control
 * connection, implicit FTPS, and PROT P data connections all go through here, so
 * a session's control and data connections use the session's one SecureContext
 * (and its session ticket keys, which lets clients resume the control connection's
 * TLS session on data connections, and only on those).
 */
export async function upgradeToTls(
  socket: Socket | Duplex,
  context: SecureContext,
  timeoutMs: number,
  signal?: AbortSignal,
  /** Given the key log lines of the handshake (the data connection reads the client's close_notify with them). */
  onKeylog?: (line: Buffer) => void,
): Promise<TLSSocket> {
  const secure = new TLSSocket(socket, { isServer: true, secureContext: context });
  if (onKeylog) secure.on('keylog', onKeylog);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('TLS handshake timed out')), timeoutMs);
      const fail = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const done = (): void => {
        cleanup();
        resolve();
      };
      const onClose = (): void => fail(new Error('Connection closed during the TLS handshake'));
      const onAbort = (): void => fail(new Error('TLS handshake cancelled'));
      function cleanup(): void {
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        secure.off('secure', done);
        secure.off('error', fail);
        secure.off('close', onClose);
        secure.off('end', onClose);
      }
      secure.once('secure', done);
      secure.once('error', fail);
      secure.once('close', onClose);
      // Half-open listeners report a peer that hangs up mid-handshake only as 'end'.
      secure.once('end', onClose);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  } catch (error) {
    secure.destroy();
    socket.destroy();
    throw error;
  }
  return secure;
}
