import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { pipeline } from 'node:stream';

/**
 * A TCP forwarder on another loopback address, like a load balancer that has a
 * listener for the control port and none for the passive range: the server behind
 * it announces ports (EPSV) that are closed at the address the client connected to.
 */
export interface TcpForwarder {
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startTcpForwarder(options: {
  readonly host: string;
  readonly target: { readonly host: string; readonly port: number };
  /** The address the server sees the client at, as behind a NAT (default: the kernel's choice). */
  readonly sourceAddress?: string;
}): Promise<TcpForwarder> {
  const sockets = new Set<Socket>();
  const keep = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    keep(client);
    const upstream = connect({ ...options.target, ...(options.sourceAddress ? { localAddress: options.sourceAddress } : {}) });
    keep(upstream);
    // Either side closing or failing ends both, as a load balancer's flow would.
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    pipeline(client, upstream, end);
    pipeline(upstream, client, end);
  });
  server.listen(0, options.host);
  await once(server, 'listening');
  return {
    host: options.host,
    port: (server.address() as { port: number }).port,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
