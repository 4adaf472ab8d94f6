import { randomUUID } from 'node:crypto';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CHANGE_ATTEMPTS, storedUsersOf, UNCHANGED, UsersStoreError, withEntry, type StoredEntry, type StoredUsers, type UsersStore } from './users-store.ts';

/** Secrets Manager's limit on a secret's value. */
export const SECRET_MAX_BYTES = 65_536;

/** The label a new version carries until it is made current (stage labels are unique per secret). */
const PENDING_STAGE = 'FTPS3BRIDGE_PENDING';

/**
 * The users document in a Secrets Manager secret (which must exist: the CDK app
 * creates it). A change is written as a new version that is not yet current, then made
 * current only if the version it was computed from still is (UpdateSecretVersionStage
 * with RemoveFromVersionId fails otherwise): another operator's change in between makes
 * it re-read and compute again, never overwrite.
 */
export class UsersSecretStore implements UsersStore {
  readonly description: string;
  readonly #client: SecretsManagerClient;
  readonly #secretId: string;

  constructor(options: { readonly client: SecretsManagerClient; readonly secretId: string }) {
    this.#client = options.client;
    this.#secretId = options.secretId;
    this.description = `secret ${options.secretId}`;
  }

  async read(): Promise<StoredUsers> {
    return (await this.#current()).users;
  }

  async change(username: string, compute: (current: StoredUsers) => StoredEntry | undefined | typeof UNCHANGED): Promise<void> {
    for (let attempt = 1; attempt <= CHANGE_ATTEMPTS; attempt++) {
      const { users, versionId } = await this.#current();
      const entry = compute(users);
      if (entry === UNCHANGED) return;
      const text = withEntry(users, username, entry);
      const bytes = Buffer.byteLength(text);
      if (bytes > SECRET_MAX_BYTES) {
        throw new UsersStoreError(
          `${this.description}: the document would be ${bytes} bytes, past the secret limit of ${SECRET_MAX_BYTES}; move the users to a table (users import --table)`,
        );
      }
      const pending = randomUUID();
      await this.#attempt(() =>
        this.#client.send(new PutSecretValueCommand({ SecretId: this.#secretId, SecretString: text, ClientRequestToken: pending, VersionStages: [PENDING_STAGE] })),
      );
      try {
        await this.#client.send(
          new UpdateSecretVersionStageCommand({ SecretId: this.#secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: pending, RemoveFromVersionId: versionId }),
        );
        return;
      } catch (error) {
        // AWSCURRENT moved since we read: another change got in. Compute again from it.
        if ((error as { name?: string }).name !== 'InvalidParameterException') throw this.#failure(error);
      }
    }
    throw new UsersStoreError(`${this.description} kept changing under this command (${CHANGE_ATTEMPTS} attempts); nothing was written, try again`);
  }

  close(): void {}

  async #current(): Promise<{ users: StoredUsers; versionId: string }> {
    const response = await this.#attempt(() => this.#client.send(new GetSecretValueCommand({ SecretId: this.#secretId })));
    const text = response.SecretString ?? (response.SecretBinary === undefined ? undefined : Buffer.from(response.SecretBinary).toString('utf8'));
    if (text === undefined || response.VersionId === undefined) throw new UsersStoreError(`${this.description} has no value`);
    return { users: storedUsersOf(text, this.description), versionId: response.VersionId };
  }

  async #attempt<Output>(run: () => Promise<Output>): Promise<Output> {
    try {
      return await run();
    } catch (error) {
      throw this.#failure(error);
    }
  }

  #failure(error: unknown): UsersStoreError {
    return new UsersStoreError(`${this.description}: ${(error as Error).name}: ${(error as Error).message}`);
  }
}
