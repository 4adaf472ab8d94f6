import { crc32 } from 'node:zlib';
import { Readable } from 'node:stream';
import { abortReadOn } from '../abort-read.ts';
import { IncrementalChecksum } from '../incremental-checksum.ts';
import type {
  ChecksumAlgorithm,
  ChecksumOptions,
  ChecksumResult,
  EntryInfo,
  ListOptions,
  ObjectStore,
  OperationOptions,
  ReadOptions,
  ReadResult,
  RenameOptions,
  SetModifiedOptions,
  SetModifiedResult,
  StoreCapabilities,
  WriteOptions,
  WriteResult,
} from '../object-store.ts';
import { crc32ToBase64 } from '../crc32-combine.ts';
import { StorageError, notWholeFile } from '../storage-error.ts';
import { KeyMapper, checkMetadataNames, checkOffset, lastSegment } from '../store-path.ts';

export interface MemoryObjectStoreOptions {
  /** A larger file is refused ('too-large'). @default 64 MiB */
  readonly maxFileBytes?: number;
  /** All files' bytes together, including writes under way; beyond it a write is 'too-large'. @default 256 MiB */
  readonly maxTotalBytes?: number;
  /** Files and folders the store holds at most; beyond it a write or mkdir is 'too-large'. @default 10,000 */
  readonly maxEntries?: number;
  /** A folder rename moving more entries than this is refused ('too-many-objects'). @default 1000 */
  readonly renameMaxObjects?: number;
  /** Entries per listing page. @default 1000 */
  readonly listPageSize?: number;
  /** Whether the store keeps the times clients set (off: setModified is 'unsupported'). @default true */
  readonly clientTimes?: boolean;
  /** The checksums it answers (all by reading the bytes). @default all four */
  readonly checksums?: readonly ChecksumAlgorithm[];
  /** Whether it resumes and appends (off: a write with an offset is 'unsupported'). @default true */
  readonly append?: boolean;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

const MIB = 1024 * 1024;
const ALL_CHECKSUMS: readonly ChecksumAlgorithm[] = ['sha256', 'sha1', 'md5', 'crc32'];

interface StoredFile {
  /** Whole chunks as they were written: never copied into one buffer. */
  readonly chunks: readonly Buffer[];
  readonly size: number;
  /** When the store wrote it. */
  readonly written: Date;
  /** The time a client set, if any. */
  readonly clientTime: Date | undefined;
  /** WriteOptions.metadata, kept with the file. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Changes with every write, rename target and time change: what 'conflict' compares. */
  readonly version: number;
}

/**
 * The ObjectStore in this process's memory, for tests and local use: the protocol
 * runs on it without an S3 server. Folders are explicit (mkdir) or implied by a file
 * below them, as on S3, so the two behave alike. Everything is bounded: the size of
 * one file, of all files, and the number of entries. Nothing survives a restart.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly capabilities: StoreCapabilities;
  readonly #files = new Map<string, StoredFile>();
  /** Folders made by makeDirectory, with when. */
  readonly #folders = new Map<string, Date>();
  readonly #keys = new KeyMapper('');
  readonly #maxTotalBytes: number;
  readonly #maxEntries: number;
  readonly #renameMaxObjects: number;
  readonly #pageSize: number;
  readonly #now: () => Date;
  /** Bytes held by stored files and by writes not yet committed. */
  #heldBytes = 0;
  #nextVersion = 1;

  constructor(options: MemoryObjectStoreOptions = {}) {
    const maxFileBytes = positive('maxFileBytes', options.maxFileBytes ?? 64 * MIB);
    this.#maxTotalBytes = positive('maxTotalBytes', options.maxTotalBytes ?? 256 * MIB);
    this.#maxEntries = positive('maxEntries', options.maxEntries ?? 10_000);
    this.#renameMaxObjects = positive('renameMaxObjects', options.renameMaxObjects ?? 1000);
    this.#pageSize = positive('listPageSize', options.listPageSize ?? 1000);
    this.#now = options.now ?? (() => new Date());
    this.capabilities = {
      name: 'the memory store',
      checksums: [...(options.checksums ?? ALL_CHECKSUMS)],
      storedChecksums: [],
      clientTimes: options.clientTimes ?? true,
      folderTimes: true,
      // The kept start stays where it is (shared, not copied): nothing is read back.
      append: (options.append ?? true) ? 'copy' : false,
      serverSideRename: true,
      maxFileBytes,
    };
  }

  async stat(path: string, options: OperationOptions = {}): Promise<EntryInfo | undefined> {
    this.#keys.key(path);
    checkSignal(options.signal);
    if (path === '') return { name: '', kind: 'directory', size: 0, modified: undefined };
    const file = this.#files.get(path);
    if (file !== undefined) return fileEntry(lastSegment(path), file);
    if (!this.#folderExists(path)) return undefined;
    return { name: lastSegment(path), kind: 'directory', size: 0, modified: this.#folders.get(path) };
  }

  async isFolder(path: string, options: OperationOptions = {}): Promise<boolean> {
    this.#keys.key(path);
    checkSignal(options.signal);
    return path === '' || this.#folderExists(path);
  }

  async *list(dir: string, options: ListOptions = {}): AsyncIterable<readonly EntryInfo[]> {
    const prefix = this.#keys.folderPrefix(dir);
    checkSignal(options.signal);
    // One pass over the store (bounded by maxEntries), then pages of the sorted children.
    const children = new Map<string, EntryInfo>();
    const wanted = (name: string): boolean => !children.has(name) && (options.names?.(name) ?? true);
    for (const [path, file] of this.#files) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf('/');
      const name = slash === -1 ? rest : rest.slice(0, slash);
      if (!wanted(name)) continue;
      if (slash === -1) {
        children.set(name, fileEntry(name, file, options.clientTimes !== false));
      } else {
        children.set(name, { name, kind: 'directory', size: 0, modified: undefined });
      }
    }
    for (const path of this.#folders.keys()) {
      if (!path.startsWith(prefix)) continue;
      const name = path.slice(prefix.length).split('/')[0] ?? '';
      // A listing leaves folders' times out, as S3's does.
      if (wanted(name)) children.set(name, { name, kind: 'directory', size: 0, modified: undefined });
    }
    const sorted = [...children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let start = 0; start < sorted.length; start += this.#pageSize) {
      checkSignal(options.signal);
      yield sorted.slice(start, start + this.#pageSize);
    }
  }

  async read(path: string, options: ReadOptions = {}): Promise<ReadResult> {
    const file = this.#requireFile(path, options.signal);
    const offset = options.offset ?? 0;
    checkOffset(offset);
    if (offset > file.size) throw new StorageError('invalid-offset', 'Offset beyond end of file');
    const body = Readable.from(bytesFrom(file.chunks, offset), { objectMode: false });
    abortReadOn(body, options.signal);
    return { body, size: file.size };
  }

  async write(path: string, source: Readable, options: WriteOptions = {}): Promise<WriteResult> {
    const { signal } = options;
    let reserved = 0;
    try {
      if (path === '') throw new StorageError('invalid-name', 'Invalid file name');
      this.#keys.key(path);
      checkMetadataNames(options.metadata);
      checkSignal(signal);
      const offset = options.offset ?? 0;
      checkOffset(offset);
      const existing = this.#files.get(path);
      if (existing === undefined && this.#files.size + this.#folders.size >= this.#maxEntries) {
        throw new StorageError('too-large', 'The store holds as many files as it may');
      }
      let kept: readonly Buffer[] = [];
      if (offset > 0) {
        if (this.capabilities.append === false) throw new StorageError('unsupported', 'Appending is not supported');
        if (existing === undefined) throw new StorageError('not-found', 'No such file or folder');
        if (offset > existing.size) throw new StorageError('invalid-offset', 'Offset beyond end of file');
        kept = [...bytesFrom(existing.chunks, 0, offset)];
      }
      const reserve = (bytes: number): void => {
        if (offset + reserved + bytes > this.capabilities.maxFileBytes) {
          throw new StorageError('too-large', 'File exceeds the largest file the store accepts');
        }
        if (this.#heldBytes + bytes > this.#maxTotalBytes) throw new StorageError('too-large', 'The store is full');
        this.#heldBytes += bytes;
        reserved += bytes;
      };
      reserve(0);
      const chunks: Buffer[] = [...kept];
      let bytesWritten = 0;
      try {
        for await (const chunk of source as AsyncIterable<Buffer | string>) {
          checkSignal(signal);
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          reserve(bytes.length);
          chunks.push(bytes);
          bytesWritten += bytes.length;
        }
      } catch (error) {
        if (error instanceof StorageError) throw error;
        if (signal?.aborted === true) throw new StorageError('aborted', 'Transfer aborted', { cause: error });
        throw new StorageError('transient', 'The upload failed; nothing was stored', { cause: error });
      }
      await options.wholeFile?.().catch((error: unknown) => {
        throw notWholeFile(error);
      });
      checkSignal(signal);
      // Built on the version it planned from: another write meanwhile is a conflict.
      if (offset > 0 && this.#files.get(path)?.version !== existing?.version) {
        throw new StorageError('conflict', 'The file changed during the operation; nothing was stored');
      }
      const previous = this.#files.get(path);
      const size = offset + bytesWritten;
      this.#heldBytes += offset - (previous?.size ?? 0);
      reserved = 0;
      this.#files.set(path, { chunks, size, written: this.#now(), clientTime: undefined, metadata: { ...options.metadata }, version: this.#nextVersion++ });
      return { bytesWritten, size, crc32: crc32ToBase64(chunks.reduce((value, chunk) => crc32(chunk, value), 0)) };
    } catch (error) {
      this.#heldBytes -= reserved;
      source.destroy();
      throw error;
    }
  }

  async delete(path: string, options: OperationOptions = {}): Promise<void> {
    const file = this.#requireFile(path, options.signal);
    this.#files.delete(path);
    this.#heldBytes -= file.size;
  }

  async makeDirectory(path: string, options: OperationOptions = {}): Promise<void> {
    if (path === '') throw new StorageError('already-exists', 'Already exists');
    this.#keys.key(path, '/');
    checkSignal(options.signal);
    if (this.#files.has(path) || this.#folderExists(path)) throw new StorageError('already-exists', 'Already exists');
    if (this.#files.size + this.#folders.size >= this.#maxEntries) {
      throw new StorageError('too-large', 'The store holds as many files as it may');
    }
    this.#folders.set(path, this.#now());
  }

  async removeDirectory(path: string, options: OperationOptions = {}): Promise<void> {
    if (path === '') throw new StorageError('invalid-name', 'The root folder cannot be removed');
    const prefix = this.#keys.folderPrefix(path);
    checkSignal(options.signal);
    if (!this.#folderExists(path)) throw new StorageError('not-found', 'No such file or folder');
    if (this.#below(prefix).next().done !== true) throw new StorageError('not-empty', 'Folder is not empty');
    this.#folders.delete(path);
  }

  async rename(from: string, to: string, options: RenameOptions = {}): Promise<void> {
    if (from === '' || to === '') throw new StorageError('invalid-name', 'The root folder cannot be renamed');
    this.#keys.key(from);
    this.#keys.key(to);
    if (to === from || to.startsWith(`${from}/`)) throw new StorageError('invalid-name', 'A folder cannot be moved into itself');
    checkSignal(options.signal);
    const file = this.#files.get(from);
    if (file === undefined && !this.#folderExists(from)) throw new StorageError('not-found', 'No such file or folder');
    if (this.#files.has(to) || this.#folderExists(to)) throw new StorageError('already-exists', 'Already exists');
    if (file !== undefined) {
      options.beforeCopy?.(1);
      this.#files.delete(from);
      this.#files.set(to, { ...file, version: this.#nextVersion++ });
      return;
    }
    const prefix = `${from}/`;
    const moves = [...this.#below(prefix)];
    if (moves.length > this.#renameMaxObjects) {
      throw new StorageError('too-many-objects', `Folder holds more than ${this.#renameMaxObjects} files; not renamed`);
    }
    for (const path of moves) this.#keys.key(to + path.slice(from.length), '/');
    options.beforeCopy?.(moves.length + (this.#folders.has(from) ? 1 : 0));
    const marker = this.#folders.get(from);
    this.#folders.delete(from);
    if (marker !== undefined) this.#folders.set(to, marker);
    for (const path of moves) {
      const target = to + path.slice(from.length);
      const moved = this.#files.get(path);
      if (moved !== undefined) {
        this.#files.delete(path);
        this.#files.set(target, { ...moved, version: this.#nextVersion++ });
      } else {
        const made = this.#folders.get(path) ?? this.#now();
        this.#folders.delete(path);
        this.#folders.set(target, made);
      }
    }
  }

  async setModified(path: string, time: Date, options: SetModifiedOptions = {}): Promise<SetModifiedResult> {
    if (!this.capabilities.clientTimes) throw new StorageError('unsupported', 'This store keeps no times set by clients');
    const file = this.#requireFile(path, options.signal);
    const precision = options.precisionMs ?? 1;
    const current = file.clientTime;
    if (current !== undefined && Math.floor(current.getTime() / precision) === Math.floor(time.getTime() / precision)) {
      return { changed: false };
    }
    options.beforeCopy?.();
    this.#files.set(path, { ...file, clientTime: new Date(time.getTime()), version: this.#nextVersion++ });
    return { changed: true };
  }

  async checksum(path: string, options: ChecksumOptions): Promise<ChecksumResult> {
    const { algorithm } = options;
    if (!this.capabilities.checksums.includes(algorithm)) throw new StorageError('unsupported', 'Checksum algorithm not supported');
    const file = this.#requireFile(path, options.signal);
    const start = options.range?.start ?? 0;
    const end = options.range?.end ?? file.size;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end > file.size) {
      throw new StorageError('invalid-offset', 'Range outside the file');
    }
    const checksum = new IncrementalChecksum(algorithm);
    if (end > start) options.beforeRead?.(end - start);
    for (const chunk of bytesFrom(file.chunks, start, end)) checksum.update(chunk);
    return { digest: checksum.digest(), start, end, source: 'computed' };
  }

  /** A file, or 'not-found' (also for a folder and the root). */
  #requireFile(path: string, signal: AbortSignal | undefined): StoredFile {
    if (path === '') throw new StorageError('invalid-name', 'Invalid file name');
    this.#keys.key(path);
    checkSignal(signal);
    const file = this.#files.get(path);
    if (file === undefined) throw new StorageError('not-found', 'No such file or folder');
    return file;
  }

  /** A folder exists when it was made or anything is below it. */
  #folderExists(path: string): boolean {
    return this.#folders.has(path) || this.#below(`${path}/`).next().done !== true;
  }

  /** Every file and made folder below `prefix` (which ends in '/'). */
  *#below(prefix: string): Generator<string> {
    for (const path of this.#files.keys()) if (path.startsWith(prefix)) yield path;
    for (const path of this.#folders.keys()) if (path.startsWith(prefix)) yield path;
  }
}

function fileEntry(name: string, file: StoredFile, clientTimes = true): EntryInfo {
  return { name, kind: 'file', size: file.size, modified: (clientTimes ? file.clientTime : undefined) ?? file.written };
}

/** The bytes [start, end) of a chunked file, as views into its chunks (no copy). */
function* bytesFrom(chunks: readonly Buffer[], start: number, end = Number.MAX_SAFE_INTEGER): Generator<Buffer> {
  let at = 0;
  for (const chunk of chunks) {
    const from = Math.max(start - at, 0);
    const to = Math.min(end - at, chunk.length);
    if (to > from) yield chunk.subarray(from, to);
    at += chunk.length;
    if (at >= end) return;
  }
}


function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new StorageError('aborted', 'Operation aborted');
}


function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
