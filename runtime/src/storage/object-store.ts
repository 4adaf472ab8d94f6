import type { Readable } from 'node:stream';

/**
 * What the FTP side needs from storage, in terms of "store paths": keys relative to
 * the configured root prefix, segments joined by '/', no leading or trailing slash,
 * '' for the root. Paths never contain empty, '.' or '..' segments; implementations
 * re-check that and throw StorageError('invalid-name') rather than trust callers.
 *
 * Every method throws only StorageError.
 */
export interface ObjectStore {
  /** A file, a folder (marker object or any key below it), or undefined. '' is always a folder. */
  stat(path: string, options?: OperationOptions): Promise<EntryInfo | undefined>;

  /**
   * Whether `path` is a folder (a marker object or any key below it), in one request:
   * cheaper than stat() when a file of that name does not matter (the parent of a new
   * file, the target of a new upload). '' is always a folder.
   */
  isFolder(path: string, options?: OperationOptions): Promise<boolean>;

  /**
   * The direct children of a folder, one S3 page at a time (folders and files, no
   * folder marker of `dir` itself), so a folder of any size lists in bounded memory.
   * A folder that does not exist yields nothing.
   */
  list(dir: string, options?: ListOptions): AsyncIterable<readonly EntryInfo[]>;

  /** Streams a file from `offset` (default 0); `size` is the whole object's size. */
  read(path: string, options?: ReadOptions): Promise<ReadResult>;

  /**
   * Streams `source` into the object at `path`. Resolves only once S3 holds the
   * complete object. On any failure (source error, abort, S3 error) the object is
   * left as it was before the call and no multipart upload is left behind, except a
   * pending upload a PendingUploadStore keeps (pending-uploads.ts): never an object.
   *
   * With `offset` (resume / append), the first `offset` bytes of the existing object
   * are kept (copied server side) and the new bytes follow them; `offset` larger
   * than the existing object is StorageError('invalid-offset').
   */
  write(path: string, source: Readable, options?: WriteOptions): Promise<WriteResult>;

  /** Deletes a file. Missing file: StorageError('not-found'). */
  delete(path: string, options?: OperationOptions): Promise<void>;

  /** Writes the zero-byte `path/` marker. Existing file or folder: 'already-exists'. */
  makeDirectory(path: string, options?: OperationOptions): Promise<void>;

  /** Removes an empty folder's marker. Missing: 'not-found'; entries below it: 'not-empty'. */
  removeDirectory(path: string, options?: OperationOptions): Promise<void>;

  /**
   * Renames a file (copy then delete; multipart copy above 5 GiB) or a folder (every
   * object below it). Target exists: 'already-exists'. A folder holding more than
   * the store's configured limit of objects: 'too-many-objects', nothing changed.
   */
  rename(from: string, to: string, options?: RenameOptions): Promise<void>;

  /**
   * Sets the modification time a file reports (stat, list) without rewriting its
   * bytes: user metadata changed by a copy of the object onto itself, made only when
   * the time the file has differs at `precisionMs` (a no-op costs no copy, no new
   * version, no "Object Created" event). Missing file: 'not-found'; changed meanwhile:
   * 'conflict'.
   */
  setModified(path: string, time: Date, options?: SetModifiedOptions): Promise<SetModifiedResult>;

  /**
   * A checksum of a file's bytes (all of them, or `range`): the one S3 keeps with the
   * object when it has that algorithm for the whole object, otherwise computed by
   * streaming the bytes once. Missing file: 'not-found'; a range past the end:
   * 'invalid-offset'.
   */
  checksum(path: string, options: ChecksumOptions): Promise<ChecksumResult>;
}

export interface SetModifiedOptions extends OperationOptions {
  /** The precision the time was given at: times equal at it are the same. @default 1 */
  readonly precisionMs?: number;
  /** Runs right before the copy is made (not for a no-op); a throw stops it. */
  readonly beforeCopy?: () => void;
}

export interface RenameOptions extends OperationOptions {
  /** Runs before anything is copied, with the number of objects the rename will copy; a throw stops it. */
  readonly beforeCopy?: (objects: number) => void;
}

export interface SetModifiedResult {
  /** False when the file had that time already and nothing was written. */
  readonly changed: boolean;
}

export type ChecksumAlgorithm = 'sha256' | 'sha1' | 'md5' | 'crc32';

export interface ChecksumOptions extends OperationOptions {
  readonly algorithm: ChecksumAlgorithm;
  /** Bytes [start, end) only; default the whole file. */
  readonly range?: { readonly start: number; readonly end: number };
  /**
   * Runs, with the number of bytes, before the file is read to compute the checksum
   * (not when S3 keeps it or it is remembered); a throw stops it.
   */
  readonly beforeRead?: (bytes: number) => void;
}

export interface ChecksumResult {
  /** The checksum's bytes (CRC32: four, big-endian). */
  readonly digest: Buffer;
  /** The bytes it covers: [start, end). */
  readonly start: number;
  readonly end: number;
  /**
   * 'stored': kept with the object by S3; 'computed': read and hashed now;
   * 'remembered': computed earlier (or at once, for another caller) for this version.
   */
  readonly source: 'stored' | 'computed' | 'remembered';
}

export interface ListOptions extends OperationOptions {
  /**
   * Report times set by clients (x-amz-meta-mtime), which a listing does not carry:
   * one HeadObject per file. Off when only names are needed. @default true
   */
  readonly clientTimes?: boolean;
  /**
   * Whom the listing is for (a partner's user name): the HeadObjects for client-set
   * times are bounded per owner, across all of its listings. @default '' (one owner)
   */
  readonly owner?: string;
  /** Only entries whose name this accepts (a LIST pattern): the others cost no HeadObject. @default all */
  readonly names?: (name: string) => boolean;
}

export interface EntryInfo {
  /** Last path segment. */
  readonly name: string;
  readonly kind: 'file' | 'directory';
  /** Bytes; 0 for folders. */
  readonly size: number;
  /**
   * Last modification: the time a client set (setModified) when there is one, else
   * when S3 stored the object. Undefined when unknown: S3 keeps no time for a folder
   * that has no marker object (and a listing does not ask for markers' times).
   */
  readonly modified: Date | undefined;
}

export interface OperationOptions {
  readonly signal?: AbortSignal;
}

export interface ReadOptions extends OperationOptions {
  readonly offset?: number;
}

export interface ReadResult {
  readonly body: Readable;
  readonly size: number;
}

export interface WriteOptions extends OperationOptions {
  /** Keep this many bytes of the existing object and append the source after them. */
  readonly offset?: number;
  /** Stored as user metadata (x-amz-meta-*). Keys are lower-case ASCII. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Runs before the kept start of the object (`offset` bytes) is read from S3 to be
   * uploaded again, where S3 cannot copy it; a throw stops the write with that error.
   */
  readonly beforeReadBack?: (bytes: number) => void;
  /** Called once when the write has settled (either way), with how it fared with the memory budget. */
  readonly onBufferUse?: (use: UploadBufferUse) => void;
  /** Who the write's memory counts against, each held to its share of the budget (e.g. the user and the client address). */
  readonly bufferOwners?: readonly string[];
}

/** How one upload fared with the process-wide buffer budget. */
export interface UploadBufferUse {
  /** Milliseconds the upload waited for the budget to have room for a part buffer. */
  readonly waitMs: number;
  /** The most of the budget in use, by every upload, when this one got a buffer. */
  readonly budgetInUseBytes: number;
}

export interface WriteResult {
  /** Bytes read from the source. */
  readonly bytesWritten: number;
  /** Size of the object now stored. */
  readonly size: number;
}
