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
  /**
   * What this store can do beyond the common core, fixed for its lifetime. FEAT, the
   * commands offered and the replies follow it, so a backend that lacks a power is
   * refused cleanly (502) rather than failing half-way.
   */
  readonly capabilities: StoreCapabilities;

  /** A file, a folder (marker object or any key below it), or undefined. '' is always a folder. */
  stat(path: string, options?: OperationOptions): Promise<EntryInfo | undefined>;

  /**
   * Whether `path` is a folder (a marker object or any key below it), in one request:
   * cheaper than stat() when a file of that name does not matter (the parent of a new
   * file, the target of a new upload). '' is always a folder.
   */
  isFolder(path: string, options?: OperationOptions): Promise<boolean>;

  /**
   * The direct children of a folder, a bounded page at a time (folders and files, no
   * folder marker of `dir` itself), so a folder of any size lists in bounded memory.
   * Pages come in name order (UTF-8 byte order); each page is sorted.
   * A folder that does not exist yields nothing.
   */
  list(dir: string, options?: ListOptions): AsyncIterable<readonly EntryInfo[]>;

  /** Streams a file from `offset` (default 0); `size` is the whole object's size. */
  read(path: string, options?: ReadOptions): Promise<ReadResult>;

  /**
   * Streams `source` into the file at `path`. Resolves only once the store holds the
   * complete file. On any failure (source error, abort, store error) the file is
   * left as it was before the call and nothing half-written is left behind (but a
   * pending upload a PendingUploadStore keeps, pending-uploads.ts: never a file). A file
   * larger than `capabilities.maxFileBytes`: 'too-large'.
   *
   * With `offset` (resume / append; only where `capabilities.append`), the first
   * `offset` bytes of the existing file are kept and the new bytes follow them;
   * `offset` larger than the existing file is StorageError('invalid-offset'), and
   * another write committed meanwhile is 'conflict'.
   */
  write(path: string, source: Readable, options?: WriteOptions): Promise<WriteResult>;

  /** Deletes a file. Missing file: StorageError('not-found'). */
  delete(path: string, options?: OperationOptions): Promise<void>;

  /** Creates an empty folder. Existing file or folder: 'already-exists'. */
  makeDirectory(path: string, options?: OperationOptions): Promise<void>;

  /** Removes an empty folder. Missing: 'not-found'; entries below it: 'not-empty'. */
  removeDirectory(path: string, options?: OperationOptions): Promise<void>;

  /**
   * Renames a file or a folder (with everything below it). Target exists:
   * 'already-exists'; into itself: 'invalid-name'. A folder holding more than the
   * store's configured limit of files: 'too-many-objects', nothing changed.
   */
  rename(from: string, to: string, options?: RenameOptions): Promise<void>;

  /**
   * Sets the modification time a file reports (stat, list) without changing its
   * bytes (only where `capabilities.clientTimes`; elsewhere 'unsupported'), and only
   * when the time the file has differs at `precisionMs`: a no-op writes nothing.
   * Missing file (or a folder): 'not-found'; changed meanwhile: 'conflict'.
   */
  setModified(path: string, time: Date, options?: SetModifiedOptions): Promise<SetModifiedResult>;

  /**
   * A checksum of a file's bytes (all of them, or `range`): the one the store keeps
   * with the file when it has that algorithm for the whole file, otherwise computed
   * by streaming the bytes once. Only the algorithms in `capabilities.checksums`;
   * others: 'unsupported'. Missing file (or a folder): 'not-found'; a range past the
   * end: 'invalid-offset'.
   */
  checksum(path: string, options: ChecksumOptions): Promise<ChecksumResult>;
}

/**
 * The powers a store has beyond the common core, in the spirit of SFTPGo's vfs.Fs
 * capability methods and ftpserverlib's optional driver interfaces: the protocol side
 * asks these and never names a backend's facts itself.
 */
export interface StoreCapabilities {
  /** How replies name the store where a limit is its own ("Folder times cannot be set: S3 keeps none."). */
  readonly name: string;
  /** Algorithms checksum() answers (from stored data or by reading); empty: none, and HASH is not offered. */
  readonly checksums: readonly ChecksumAlgorithm[];
  /**
   * Of those, the ones the store may keep with a whole file and give without reading
   * it (a file written without one is still read).
   */
  readonly storedChecksums: readonly ChecksumAlgorithm[];
  /** setModified works: a time a client sets is kept and reported by stat and list. */
  readonly clientTimes: boolean;
  /** Whether stat() can give a folder a modification time (list may still leave it out). */
  readonly folderTimes: boolean;
  /**
   * write() with an offset (resume, append): 'copy' keeps the start in place inside
   * the store (small starts may still be read back), 'read-back' reads it and writes
   * it again, false refuses ('unsupported').
   */
  readonly append: 'copy' | 'read-back' | false;
  /** Whether rename() moves a file without its bytes passing through this process. */
  readonly serverSideRename: boolean;
  /** The largest file write() stores; larger is 'too-large'. */
  readonly maxFileBytes: number;
}

export interface SetModifiedOptions extends OperationOptions {
  /** The precision the time was given at: times equal at it are the same. @default 1 */
  readonly precisionMs?: number;
  /** Runs right before the time is written (not for a no-op); a throw stops it. */
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
   * (not when the store keeps it or it is remembered); a throw stops it.
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
   * 'stored': kept with the file by the store; 'computed': read and hashed now;
   * 'remembered': computed earlier (or at once, for another caller) for this version.
   */
  readonly source: 'stored' | 'computed' | 'remembered';
}

export interface ListOptions extends OperationOptions {
  /**
   * Report times set by clients, which may cost the store a request per file (S3: a
   * HEAD). Off when only names are needed. @default true
   */
  readonly clientTimes?: boolean;
  /**
   * Whom the listing is for (a partner's user name): the requests for client-set
   * times are bounded per owner, across all of its listings. @default '' (one owner)
   */
  readonly owner?: string;
  /** Only entries whose name this accepts (a LIST pattern): the others cost no request for their times. @default all */
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
   * when the store wrote the file. Undefined when unknown (`capabilities.folderTimes`
   * says whether folders have one at all; a listing may leave folders' times out).
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
  /** Kept with the file (S3: user metadata). Keys are lower-case ASCII: [a-z0-9][a-z0-9._-]*. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Runs before the kept start of the file (`offset` bytes) is read back to be
   * written again, where the store cannot keep it in place (`capabilities.append`
   * 'read-back' or sometimes 'copy'); a throw stops the write with that error.
   */
  readonly beforeReadBack?: (bytes: number) => void;
  /**
   * Whether the source's end was the file's end, which the caller may decide only after
   * the source has ended (a data connection's end, judged with a grace period). Called
   * once the source has ended; the store commits nothing before it resolves, and a
   * rejection fails the write with 'aborted' as if the source had failed (nothing
   * committed; an upload may be kept pending). The store overlaps the wait with
   * sending what it holds: the last part, or all but the last bytes of a single put.
   */
  readonly wholeFile?: () => Promise<void>;
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
  /**
   * CRC32 of every byte of the object now stored, when the store saw them all (not when
   * it copied the start of the file from another object it holds no checksum of), as S3's
   * ChecksumCRC32 carries it: four bytes, big-endian, base64.
   */
  readonly crc32?: string | undefined;
}
