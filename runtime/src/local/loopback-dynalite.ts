import type { AddressInfo } from 'node:net';
// dynalite ships no types: dynalite-module.d.ts beside this file declares its one function.
import dynaliteServer from 'dynalite';

/** The embedded DynamoDB of the local stack. */
export interface LoopbackDynamo {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * dynalite (a DynamoDB implementation on LevelDB, in memory here) on 127.0.0.1 only: the
 * bridge's shared state under `npm start`, reached through the same DynamoDB code as on
 * AWS. In memory: leases, quota counts and lockouts start afresh with the local stack.
 */
export async function startLoopbackDynalite(port = 0): Promise<LoopbackDynamo> {
  const server = dynaliteServer({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  if (address.address !== '127.0.0.1') {
    server.close();
    throw new Error(`dynalite listened on ${address.address}, not on 127.0.0.1`);
  }
  return {
    port: address.port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
