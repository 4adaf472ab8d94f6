import { readFile, stat } from 'node:fs/promises';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from 'pino';
// A type only: the DynamoDB SDK is loaded only by a bridge whose users are in a table.
import type { UsersTable } from './users-table.ts';

/** Where a reloadable text document (users, TLS credentials) comes from; a table holds users only. */
export type DocumentSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'secret'; readonly secretId: string }
  | { readonly kind: 'table'; readonly tableName: string };

export interface WatchedDocumentOptions {
  readonly source: DocumentSource;
  /** How often watch() re-checks the source. */
  readonly intervalMs: number;
  /** Required when the source is a secret. */
  readonly secretsClient?: SecretsManagerClient;
  /** Required when the source is a table: the table it names. */
  readonly usersTable?: UsersTable;
  readonly logger: Logger;
}

/** Files bigger than this are refused (users and PEM files are kilobytes). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

interface Snapshot {
  readonly text: string;
  /** File: inode, size, mtime and ctime; secret: VersionId. Same version = same text. */
  readonly version: string;
}

/**
 * A text document (users JSON, TLS credentials) from a file or a Secrets Manager
 * secret, re-checked periodically. Errors while re-checking are logged and the last
 * good content stays in force; the owner decides what a change means.
 */
export class WatchedDocument {
  readonly source: DocumentSource;
  readonly #intervalMs: number;
  readonly #secretsClient: SecretsManagerClient | undefined;
  readonly #table: UsersTable | undefined;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  #last: Snapshot | undefined;
  #timer: NodeJS.Timeout | undefined;
  #watching = false;
  /** The last re-check failed; repeats of the failure are logged at debug only. */
  #failing = false;

  constructor(options: WatchedDocumentOptions) {
    if (options.source.kind === 'secret' && options.secretsClient === undefined) {
      throw new TypeError('WatchedDocument: a secret source needs a secretsClient');
    }
    if (options.source.kind === 'table' && options.usersTable === undefined) {
      throw new TypeError('WatchedDocument: a table source needs a usersTable');
    }
    if (!(options.intervalMs > 0)) throw new RangeError('WatchedDocument: intervalMs must be greater than 0');
    this.#table = options.usersTable;
    this.source = options.source;
    this.#intervalMs = options.intervalMs;
    this.#secretsClient = options.secretsClient;
    const { source } = options;
    this.#logger = options.logger.child({
      document: source.kind === 'file' ? { file: source.path } : source.kind === 'secret' ? { secretId: source.secretId } : { table: source.tableName },
    });
  }

  /** `file /path`, `secret name` or `table name`, for messages. */
  get description(): string {
    const { source } = this;
    return source.kind === 'file' ? `file ${source.path}` : source.kind === 'secret' ? `secret ${source.secretId}` : `table ${source.tableName}`;
  }

  /** Reads the current content now (and remembers it as the version watch() compares with). */
  async read(): Promise<string> {
    const snapshot = await this.#fetch(undefined);
    if (snapshot === undefined) throw new Error('unreachable: no previous version given');
    this.#last = snapshot;
    return snapshot.text;
  }

  /**
   * Re-checks every intervalMs and calls onChange (awaited; checks never overlap)
   * when the text differs from what was last read or seen. At most one watcher.
   */
  watch(onChange: (text: string) => Promise<void> | void): void {
    if (this.#abort.signal.aborted) throw new Error('WatchedDocument: closed');
    if (this.#watching) throw new Error('WatchedDocument: already watched');
    this.#watching = true;
    this.#schedule(onChange);
  }

  /** Stops watching and cancels a check in flight. */
  close(): void {
    this.#abort.abort();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(onChange: (text: string) => Promise<void> | void): void {
    if (this.#abort.signal.aborted) return;
    this.#timer = setTimeout(() => {
      void this.#check(onChange).finally(() => this.#schedule(onChange));
    }, this.#intervalMs);
    this.#timer.unref();
  }

  async #check(onChange: (text: string) => Promise<void> | void): Promise<void> {
    let next: Snapshot | undefined;
    try {
      next = await this.#fetch(this.#last?.version);
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      const fields = { event: 'document-check-failed', err: errorSummary(error) };
      if (this.#failing) this.#logger.debug(fields, 'document re-check still failing');
      else this.#logger.error(fields, 'document re-check failed; keeping the last good content');
      this.#failing = true;
      return;
    }
    if (this.#failing) {
      this.#failing = false;
      this.#logger.info({ event: 'document-readable' }, 'document readable again');
    }
    if (next === undefined || this.#abort.signal.aborted) return;
    const changed = next.text !== this.#last?.text;
    this.#last = next;
    if (!changed) return;
    this.#logger.info({ event: 'document-changed' }, 'document changed');
    try {
      await onChange(next.text);
    } catch (error) {
      this.#logger.error({ event: 'document-change-failed', err: errorSummary(error) }, 'handling the changed document failed');
    }
  }

  /** Fetches the document, or returns undefined when its version is still `knownVersion`. */
  async #fetch(knownVersion: string | undefined): Promise<Snapshot | undefined> {
    if (this.source.kind === 'file') return this.#fetchFile(this.source.path, knownVersion);
    if (this.source.kind === 'secret') return this.#fetchSecret(this.source.secretId, knownVersion);
    // One consistent Scan per check: a table has no version to ask for, so its text is compared.
    const snapshot = await this.#table!.snapshot(this.#abort.signal);
    return snapshot.version === knownVersion ? undefined : snapshot;
  }

  async #fetchFile(path: string, knownVersion: string | undefined): Promise<Snapshot | undefined> {
    // stat before reading: a change after the stat shows up as a new version next time.
    const info = await stat(path, { bigint: true });
    if (!info.isFile()) throw new Error(`${path} is not a regular file`);
    if (info.size > MAX_FILE_BYTES) throw new Error(`${path} is larger than ${MAX_FILE_BYTES} bytes`);
    const version = `${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
    if (version === knownVersion) return undefined;
    const text = await readFile(path, { encoding: 'utf8', signal: this.#abort.signal });
    return { text, version };
  }

  async #fetchSecret(secretId: string, knownVersion: string | undefined): Promise<Snapshot | undefined> {
    const client = this.#secretsClient;
    if (client === undefined) throw new Error('unreachable: checked in the constructor');
    const response = await client.send(new GetSecretValueCommand({ SecretId: secretId }), {
      abortSignal: this.#abort.signal,
    });
    const version = response.VersionId ?? '';
    if (version !== '' && version === knownVersion) return undefined;
    let text: string;
    if (response.SecretString !== undefined) text = response.SecretString;
    else if (response.SecretBinary !== undefined) text = Buffer.from(response.SecretBinary).toString('utf8');
    else throw new Error(`secret ${secretId} has no value`);
    return { text, version };
  }
}

/** Name and message only: SDK errors carry request metadata we do not need in logs. */
function errorSummary(error: unknown): { readonly type: string; readonly message: string } {
  if (error instanceof Error) return { type: error.name, message: error.message };
  return { type: typeof error, message: String(error) };
}
