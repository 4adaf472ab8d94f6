import type { TLSSocket } from 'node:tls';

/**
 * A client-initiated TLS renegotiation (TLS 1.2; TLS 1.3 has none) on an open
 * connection: 'completed' when the server went through with the new handshake,
 * 'refused' when it answered with an alert or dropped the connection instead.
 */
export async function renegotiate(socket: TLSSocket, timeoutMs = 5000): Promise<'completed' | 'refused'> {
  if (socket.destroyed) return 'refused';
  return await new Promise((resolve) => {
    const finish = (outcome: 'completed' | 'refused'): void => {
      clearTimeout(timer);
      socket.off('close', onRefusal);
      socket.off('error', onRefusal);
      resolve(outcome);
    };
    // The server's no_renegotiation alert surfaces as an error on the client's socket.
    const onRefusal = (): void => finish('refused');
    // No answer at all is no renegotiation either.
    const timer = setTimeout(() => finish('refused'), timeoutMs);
    socket.once('close', onRefusal);
    socket.once('error', onRefusal);
    socket.on('error', () => undefined);
    const started = socket.renegotiate({ rejectUnauthorized: false }, (error) => finish(error ? 'refused' : 'completed'));
    if (!started) finish('refused');
  });
}
