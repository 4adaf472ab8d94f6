import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
// dynalite ships no types: runtime/src/local/dynalite-module.d.ts declares its one function.
import dynaliteServer from 'dynalite';

/**
 * A real DynamoDB implementation (dynalite, on an in-memory LevelDB) on 127.0.0.1,
 * with an SDK client pointed at it. Two bridges given the same `endpoint` share its
 * tables, which is how the cross-shard tests run. dynalite has no UpdateTimeToLive and
 * no TransactWriteItems: code under test must not need them.
 */
export interface TestDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** The environment a bridge or a CLI needs to reach this server. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * `createTableMs`: how long a new table stays CREATING (DynamoDB takes seconds; while it
 * lasts, requests on the table get ResourceNotFound). 0 by default, which dynalite still
 * applies a moment after CreateTable has answered.
 */
export async function startDynalite(options: { readonly createTableMs?: number } = {}): Promise<TestDynamo> {
  const server: Server = dynaliteServer({ createTableMs: options.createTableMs ?? 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env = { DYNAMODB_ENDPOINT: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  const client = new DynamoDBClient({ endpoint, region: env.AWS_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  return {
    endpoint,
    client,
    env,
    stop: async () => {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
