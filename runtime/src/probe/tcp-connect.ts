import { lookup } from 'node:dns/promises';
import { connect, isIP, type Socket } from 'node:net';
import { networkError, ProbeError, seconds } from './probe-error.ts';

export interface TcpConnection {
  readonly socket: Socket;
  /** The address the host name resolved to (the host itself when it is an address). */
  readonly address: string;
  readonly port: number;
  /** Time spent resolving the name; 0 for an address. */
  readonly resolveMs: number;
  /** Time from SYN to the established connection. */
  readonly connectMs: number;
}

/**
 * A TCP connection with its own deadline, so a dropped SYN (a firewall that drops)
 * shows as a timeout after `timeoutMs` instead of the kernel's two minutes, and an
 * RST (nothing listens, or a firewall that rejects) as a refusal.
 */
export async function connectTcp(options: {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Names the connection in messages: "control connection to example.com:21". */
  readonly what: string;
}): Promise<TcpConnection> {
  const resolveStart = performance.now();
  let address = options.host;
  if (isIP(options.host) === 0) {
    try {
      address = (await lookup(options.host)).address;
    } catch (error) {
      throw networkError(error, options.what);
    }
  }
  const resolveMs = performance.now() - resolveStart;
  const connectStart = performance.now();
  const socket = await new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: address, port: options.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new ProbeError(
          'timeout',
          `${options.what}: no answer within ${seconds(options.timeoutMs)}: a firewall drops the packets, or nothing routes to ${address}`,
        ),
      );
    }, options.timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // Whoever uses the socket listens for its errors; until then none may crash the probe.
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(networkError(error, options.what));
    });
  });
  return { socket, address, port: options.port, resolveMs, connectMs: performance.now() - connectStart };
}

/** "203.0.113.10:21", "[2001:db8::1]:21". */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
