import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
  ScanCommand,
  waitUntilTableExists,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CHANGE_ATTEMPTS, UNCHANGED, UsersStoreError, type StoredEntry, type StoredUsers, type UsersStore } from './users-store.ts';

/**
 * The users table: one item per partner, keyed by `username` (S), the entry as JSON in
 * `entry` (S, every field as in the users document), a `revision` (N) that every write
 * checks and raises, and optionally `documentVersion` (N), the users-document version of
 * an entry written for a newer bridge.
 */
export const USERS_TABLE_KEY = 'username';

/** Items the bridge reads at most (a scan page is 1 MB: ~3,000 partners each). */
export const MAX_TABLE_USERS = 100_000;

export interface UsersTableOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Creates the table when it is missing: for a local DynamoDB (DYNAMODB_ENDPOINT) only; on AWS the CDK app owns it. */
  readonly createIfMissing?: boolean;
}

/** Reads and writes the users table; reads compose the same document a file or a secret holds. */
export class UsersTable implements UsersStore {
  readonly description: string;
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #createIfMissing: boolean;
  #created = false;

  constructor(options: UsersTableOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#createIfMissing = options.createIfMissing ?? false;
    this.description = `table ${options.tableName}`;
  }

  /** Every partner, by username, as one document (`version` the highest of the items'). */
  async read(signal?: AbortSignal): Promise<StoredUsers> {
    const users: StoredEntry[] = [];
    let version: number | undefined;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#attempt(() =>
        this.#client.send(new ScanCommand({ TableName: this.#tableName, ExclusiveStartKey: start, ConsistentRead: true }), signal ? { abortSignal: signal } : {}),
      );
      for (const item of page.Items ?? []) {
        const { entry, documentVersion } = this.#entryOf(item);
        users.push(entry);
        if (documentVersion !== undefined) version = Math.max(version ?? 0, documentVersion);
      }
      if (users.length > MAX_TABLE_USERS) throw new UsersStoreError(`${this.description} holds more than ${MAX_TABLE_USERS} users`);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    users.sort((a, b) => (String(a['username']) < String(b['username']) ? -1 : 1));
    return { top: version === undefined ? {} : { version }, users };
  }

  /** The document as text and a version that changes with it, for WatchedDocument. */
  async snapshot(signal?: AbortSignal): Promise<{ readonly text: string; readonly version: string }> {
    const { top, users } = await this.read(signal);
    const text = JSON.stringify({ ...top, users });
    return { text, version: createHash('sha256').update(text).digest('base64url') };
  }

  async change(username: string, compute: (current: StoredUsers) => StoredEntry | undefined | typeof UNCHANGED): Promise<void> {
    for (let attempt = 1; attempt <= CHANGE_ATTEMPTS; attempt++) {
      const found = await this.#attempt(() =>
        this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: { [USERS_TABLE_KEY]: { S: username } }, ConsistentRead: true })),
      );
      const current = found.Item === undefined ? undefined : this.#entryOf(found.Item);
      const revision = found.Item?.['revision']?.N;
      const entry = compute({
        top: current?.documentVersion === undefined ? {} : { version: current.documentVersion },
        users: current === undefined ? [] : [current.entry],
      });
      if (entry === UNCHANGED) return;
      // Written only if the item is still what was read: absent, or at the same revision.
      const condition: { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Record<string, AttributeValue> } =
        revision === undefined
          ? { ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': USERS_TABLE_KEY } }
          : { ConditionExpression: '#revision = :revision', ExpressionAttributeNames: { '#revision': 'revision' }, ExpressionAttributeValues: { ':revision': { N: revision } } };
      try {
        if (entry === undefined) {
          if (current === undefined) return;
          await this.#client.send(new DeleteItemCommand({ TableName: this.#tableName, Key: { [USERS_TABLE_KEY]: { S: username } }, ...condition }));
        } else {
          const item: Record<string, AttributeValue> = {
            [USERS_TABLE_KEY]: { S: username },
            entry: { S: JSON.stringify(entry) },
            revision: { N: String(Number(revision ?? '0') + 1) },
          };
          await this.#client.send(new PutItemCommand({ TableName: this.#tableName, Item: item, ...condition }));
        }
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw this.#failure(error);
      }
    }
    throw new UsersStoreError(`${this.description}: user ${JSON.stringify(username)} kept changing under this command (${CHANGE_ATTEMPTS} attempts); nothing was written, try again`);
  }

  close(): void {}

  #entryOf(item: Record<string, AttributeValue>): { entry: StoredEntry; documentVersion: number | undefined } {
    const name = item[USERS_TABLE_KEY]?.S ?? '(no username)';
    let entry: unknown;
    try {
      entry = JSON.parse(item['entry']?.S ?? '');
    } catch {
      throw new UsersStoreError(`${this.description}: item ${JSON.stringify(name)} has no JSON "entry" attribute`);
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new UsersStoreError(`${this.description}: item ${JSON.stringify(name)}: "entry" is not a JSON object`);
    }
    // The key is the name: an entry naming someone else is caught by the document check as a duplicate, not trusted.
    const documentVersion = item['documentVersion']?.N === undefined ? undefined : Number(item['documentVersion'].N);
    return { entry: { username: name, ...(entry as Record<string, unknown>) }, documentVersion };
  }

  /** Runs a request; a missing table is created once first when allowed. Errors become UsersStoreErrors. */
  async #attempt<Output>(run: () => Promise<Output>): Promise<Output> {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException) || !this.#createIfMissing || this.#created) throw this.#failure(error);
    }
    this.#created = true;
    try {
      await this.#client.send(
        new CreateTableCommand({
          TableName: this.#tableName,
          AttributeDefinitions: [{ AttributeName: USERS_TABLE_KEY, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: USERS_TABLE_KEY, KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (error) {
      // Another process created it meanwhile: fine.
      if ((error as { name?: string }).name !== 'ResourceInUseException') throw this.#failure(error);
    }
    try {
      // A table is usable once ACTIVE; until then DynamoDB (and dynalite) answer ResourceNotFound.
      await waitUntilTableExists({ client: this.#client, maxWaitTime: 30, minDelay: 0.1, maxDelay: 1 }, { TableName: this.#tableName });
      return await run();
    } catch (error) {
      throw this.#failure(error);
    }
  }

  #failure(error: unknown): UsersStoreError {
    if (error instanceof UsersStoreError) return error;
    return new UsersStoreError(`${this.description}: ${(error as Error).name}: ${(error as Error).message}`);
  }
}
