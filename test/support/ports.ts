import { createServer } from 'node:net';

/**
 * Ports for servers a test or the bench starts in a child process, which must be told a
 * number before they bind. Picked at random below Linux's ephemeral range (32768-60999):
 * there any outgoing connection (a bridge's own to S3, a client's) may take a port
 * between the check here and the child's bind, and a listener on port 0 may be given it.
 */

/** Whether nothing listens on 127.0.0.1:`port` right now. */
export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first of `count` consecutive ports free right now, all within [from, to). */
export async function freePortRange(count: number, { from = 10_000, to = 32_000 } = {}): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const first = from + Math.floor(Math.random() * (to - from - count + 1));
    let free = true;
    for (let port = first; port < first + count && free; port += 1) free = await portIsFree(port);
    if (free) return first;
  }
  throw new Error(`no ${count} consecutive free ports found in ${from}-${to - 1}`);
}
