/**
 * The only error type the storage layer throws. `kind` is what callers branch on;
 * `message` is safe to show a client (it never carries SDK text or bucket keys),
 * and `cause` keeps the original error for the logs.
 */
export type StorageErrorKind =
  | 'not-found' // no such file or folder
  | 'already-exists' // target exists (or a file/folder of the other kind has the name)
  | 'not-empty' // folder still has entries
  | 'invalid-name' // a path the store will not map to a key
  | 'invalid-offset' // resume/append offset beyond the stored size
  | 'too-many-objects' // a folder rename above the configured object limit
  | 'conflict' // the object changed while an operation built on it (resume, append) was running
  | 'too-large' // an upload beyond the largest file the buffer budget allows
  | 'unsupported' // a power the store's capabilities do not claim (setModified, an algorithm, append)
  | 'access-denied' // the backend refused (S3: credentials, bucket policy, KMS)
  | 'aborted' // the caller's AbortSignal fired
  | 'transient'; // the backend unreachable or failing after its retries

export class StorageError extends Error {
  readonly kind: StorageErrorKind;

  constructor(kind: StorageErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.kind = kind;
  }
}

export function isStorageError(error: unknown, kind?: StorageErrorKind): error is StorageError {
  return error instanceof StorageError && (kind === undefined || error.kind === kind);
}

/** The write's failure when its caller says the source's end was not the file's end (WriteOptions.wholeFile). */
export function notWholeFile(cause: unknown): StorageError {
  return new StorageError('aborted', 'Transfer aborted: the data connection did not end the file', { cause });
}
