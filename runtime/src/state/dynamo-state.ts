import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { STATE_TABLE_LAYOUT } from '../container-environment.ts';
import { StateConflictError, type SharedState, type StateChange, type StateDocument } from './shared-state.ts';

/** The shared-state table's layout, which the CDK app creates the same way (container-environment.ts). */
const STATE_TABLE_KEY = STATE_TABLE_LAYOUT.partitionKey;
const STATE_TABLE_TTL_ATTRIBUTE = STATE_TABLE_LAYOUT.ttlAttribute;

/** Writes of one change before it gives up (each is one GetItem and one conditional write). */
const MAX_ATTEMPTS = 5;

export interface DynamoStateOptions {
  readonly client: DynamoDBClient;
  readonly table: string;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Shared state in a DynamoDB table (FTP_STATE_TABLE): every task of a deployment reads
 * and changes the same records. Each record is `pk`, the JSON document `doc`, a
 * `version` that every write raises (the condition of the next write), `expiresAtMs`
 * that readers check, and `ttl` for DynamoDB's own cleanup. Nothing needs
 * TransactWriteItems or UpdateTimeToLive (dynalite, the local and test DynamoDB, has
 * neither): a change touches one record.
 */
export class DynamoState implements SharedState {
  readonly scope = 'shared';
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #now: () => number;

  constructor(options: DynamoStateOptions) {
    this.#client = options.client;
    this.#table = options.table;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Creates the table when it is missing, for a DYNAMODB_ENDPOINT override (the local
   * stack, tests); on AWS the CDK app owns it and the task may not create tables.
   */
  static async ensureTable(client: DynamoDBClient, table: string): Promise<void> {
    try {
      await client.send(new DescribeTableCommand({ TableName: table }));
      return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    try {
      await client.send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [{ AttributeName: STATE_TABLE_KEY, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: STATE_TABLE_KEY, KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (error) {
      // Another bridge on the same endpoint created it first.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    // Usable once ACTIVE; until then DynamoDB (and dynalite) answer ResourceNotFound.
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.1, maxDelay: 1 }, { TableName: table });
  }

  async read(key: string): Promise<StateDocument | undefined> {
    return (await this.#get(key)).document;
  }

  async modify<T>(key: string, change: (current: StateDocument | undefined, now: number) => StateChange<T>): Promise<T> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const { document, version } = await this.#get(key);
      const now = this.#now();
      const outcome = change(document, now);
      if (outcome.write === undefined) return outcome.result;
      const condition: { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Record<string, AttributeValue> } =
        version === undefined
          ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': STATE_TABLE_KEY } }
          : {
              ConditionExpression: '#version = :version',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':version': { N: String(version) } },
            };
      try {
        if (outcome.write.value === undefined) {
          if (version === undefined) return outcome.result;
          await this.#client.send(new DeleteItemCommand({ TableName: this.#table, Key: { [STATE_TABLE_KEY]: { S: key } }, ...condition }));
        } else {
          const { expiresAt } = outcome.write;
          const item: Record<string, AttributeValue> = {
            [STATE_TABLE_KEY]: { S: key },
            doc: { S: JSON.stringify(outcome.write.value) },
            version: { N: String((version ?? 0) + 1) },
            expiresAtMs: { N: String(Math.ceil(expiresAt)) },
            [STATE_TABLE_TTL_ATTRIBUTE]: { N: String(Math.ceil(expiresAt / 1000)) },
          };
          await this.#client.send(new PutItemCommand({ TableName: this.#table, Item: item, ...condition }));
        }
        return outcome.result;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another task won this round: a short random pause, so the contenders spread out.
        await sleep(Math.floor(Math.random() * 20 * attempt));
      }
    }
    throw new StateConflictError(key, MAX_ATTEMPTS);
  }

  close(): void {
    // The client belongs to the composition root.
  }

  /** The live document and the version any write must match (a lapsed record still has one). */
  async #get(key: string): Promise<{ document: StateDocument | undefined; version: number | undefined }> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: { [STATE_TABLE_KEY]: { S: key } }, ConsistentRead: true }),
    );
    if (Item === undefined) return { document: undefined, version: undefined };
    const version = Number(Item['version']?.N ?? '0');
    const expiresAtMs = Number(Item['expiresAtMs']?.N ?? '0');
    if (expiresAtMs <= this.#now()) return { document: undefined, version };
    try {
      const parsed: unknown = JSON.parse(Item['doc']?.S ?? '');
      const document = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as StateDocument) : undefined;
      return { document, version };
    } catch {
      // Not ours or damaged: treated as absent, and replaced by the next write.
      return { document: undefined, version };
    }
  }
}
