import { Server } from 'node:net';
import { startFauxqs, type FauxqsServer } from 'fauxqs';

type FauxqsOptions = NonNullable<Parameters<typeof startFauxqs>[0]>;

/**
 * fauxqs (2.4) listens on 0.0.0.0 whatever its `host` option says (that option only
 * names the host in queue URLs), which would put an S3 store with no login on the
 * network. Its one listen() call is made to bind 127.0.0.1 instead, and the address it
 * ends up on is checked, so a fauxqs that listens some other way fails here rather
 * than serving the network.
 */
export async function startLoopbackFauxqs(options: Omit<FauxqsOptions, 'host'>): Promise<FauxqsServer> {
  const listen = Server.prototype.listen;
  // Only for the duration of startFauxqs, which listens once; nothing else listens meanwhile.
  Server.prototype.listen = function loopbackListen(this: Server, ...args: unknown[]) {
    const [first] = args;
    if (typeof first === 'object' && first !== null && (first as { host?: unknown }).host === '0.0.0.0') {
      args[0] = { ...first, host: '127.0.0.1' };
    }
    return (listen as (...rest: unknown[]) => Server).apply(this, args);
  } as typeof listen;
  let server: FauxqsServer;
  try {
    server = await startFauxqs({ ...options, host: '127.0.0.1' });
  } finally {
    Server.prototype.listen = listen;
  }
  if (new URL(server.address).hostname !== '127.0.0.1') {
    await server.stop();
    throw new Error(`fauxqs listened on ${server.address}, not on 127.0.0.1: refusing to serve S3 beyond this machine`);
  }
  return server;
}
