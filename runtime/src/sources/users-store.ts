import { randomUUID } from 'node:crypto';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A users entry as stored: its JSON fields, ones this version does not know included (kept as they are). */
export type StoredEntry = Readonly<Record<string, unknown>>;

/** The users as stored: the entries, and the document's other top-level fields (`version`). */
export interface StoredUsers {
  readonly top: Readonly<Record<string, unknown>>;
  readonly users: readonly StoredEntry[];
}

/**
 * Where the partner command line reads and writes users: a file, a Secrets Manager
 * secret or a DynamoDB table. A change never loses another operator's: each store
 * checks that what it read is still what it replaces, and re-reads if not.
 */
export interface UsersStore {
  /** `file /path`, `secret NAME`, `table NAME`, for messages. */
  readonly description: string;
  /** The users as stored now (a missing file: none). */
  read(): Promise<StoredUsers>;
  /**
   * Writes the entry named `username` that `compute` returns from the users as they are
   * at the time of writing (undefined: remove it; UNCHANGED: write nothing). `compute`
   * may run more than once when another writer got in between, and throws to refuse.
   */
  change(username: string, compute: (current: StoredUsers) => StoredEntry | undefined | typeof UNCHANGED): Promise<void>;
  close(): void;
}

/** What a change's `compute` returns when there is nothing to write. */
export const UNCHANGED = Symbol('unchanged');

/** The store cannot be read or written as asked; the message is for the operator. */
export class UsersStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsersStoreError';
  }
}

/** Attempts of a change that keeps meeting another writer's, before refusing. */
export const CHANGE_ATTEMPTS = 5;

/** The users document as a store writes it: its top-level fields in place, `users` with the change applied. */
export function withEntry(current: StoredUsers, username: string, entry: StoredEntry | undefined): string {
  const users = current.users.filter((user) => user['username'] !== username);
  const at = current.users.findIndex((user) => user['username'] === username);
  if (entry !== undefined) users.splice(at === -1 ? users.length : at, 0, entry);
  return `${JSON.stringify({ ...current.top, users }, null, 2)}\n`;
}

/** Reads a users document's text into entries, keeping every field; throws UsersStoreError for what is not one. */
export function storedUsersOf(text: string, description: string): StoredUsers {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new UsersStoreError(`${description} is not valid JSON (users check shows where)`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new UsersStoreError(`${description} is not a users document {"users": [...]}`);
  }
  const { users, ...top } = document as Record<string, unknown>;
  if (!Array.isArray(users) || !users.every((user) => typeof user === 'object' && user !== null && !Array.isArray(user))) {
    throw new UsersStoreError(`${description}: "users" must be an array of objects`);
  }
  return { top, users: users as StoredEntry[] };
}

/** How long a file change waits for another operator's lock before refusing. */
const LOCK_WAIT_MS = 10_000;

/**
 * A users file. Changes hold `PATH.lock` (created exclusively) while they read and
 * write, and replace the file by a rename, so the bridge never reads half a file and
 * two operators never both write what they read before the other's change.
 */
export class UsersFileStore implements UsersStore {
  readonly description: string;
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
    this.description = `file ${path}`;
  }

  async read(): Promise<StoredUsers> {
    const text = await this.#text();
    return text === undefined ? { top: {}, users: [] } : storedUsersOf(text, this.description);
  }

  async change(username: string, compute: (current: StoredUsers) => StoredEntry | undefined | typeof UNCHANGED): Promise<void> {
    const lock = `${this.#path}.lock`;
    const handle = await this.#lock(lock);
    try {
      const current = await this.read();
      const entry = compute(current);
      if (entry === UNCHANGED) return;
      const mode = await stat(this.#path).then((info) => info.mode & 0o777, () => 0o600);
      const temporary = join(dirname(this.#path), `.${basename(this.#path)}.${randomUUID()}`);
      await writeFile(temporary, withEntry(current, username, entry), { mode, flag: 'wx' });
      try {
        await rename(temporary, this.#path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    } finally {
      await handle.close();
      await rm(lock, { force: true });
    }
  }

  close(): void {}

  async #text(): Promise<string | undefined> {
    try {
      return await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new UsersStoreError(`cannot read ${this.description}: ${(error as Error).message}`);
    }
  }

  async #lock(lock: string) {
    const started = Date.now();
    for (;;) {
      try {
        return await open(lock, 'wx');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsersStoreError(`cannot lock ${this.description}: ${(error as Error).message}`);
      }
      if (Date.now() - started > LOCK_WAIT_MS) {
        throw new UsersStoreError(`another users command holds ${lock} (if none is running, delete that file)`);
      }
      await sleep(20 + Math.random() * 30);
    }
  }
}
