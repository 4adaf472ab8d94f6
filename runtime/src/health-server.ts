import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * GET /health for the load balancer: 200 while the bridge accepts sessions, 503 once
 * it is draining, so the target stops getting new connections before it stops.
 */
export class HealthServer {
  readonly #server: Server;

  constructor(options: { isServing: () => boolean }) {
    this.#server = createServer((request, response) => {
      if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/health') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      const serving = options.isServing();
      response
        .writeHead(serving ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(`${JSON.stringify({ status: serving ? 'ok' : 'draining' })}\n`);
    });
  }

  async listen(host: string, port: number): Promise<number> {
    this.#server.listen({ host, port });
    await Promise.race([once(this.#server, 'listening'), once(this.#server, 'error').then(([error]) => Promise.reject(error))]);
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
