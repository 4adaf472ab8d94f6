import type { Readable } from 'node:stream';
import type { ObjectStore, OperationOptions, WriteOptions, WriteResult } from './object-store.ts';

/**
 * An upload that ended before its file was whole, whose durable start the store keeps
 * (invisibly: it is no object) so that the partner can continue it. See
 * docs/resumable-uploads.md.
 */
export interface PendingUpload {
  /** Last path segment. */
  readonly name: string;
  /** Bytes the store holds for it, from the start of the file: where it continues. */
  readonly durableBytes: number;
  /** When the upload began; it is discarded at `expires`. */
  readonly started: Date;
  readonly expires: Date;
}

/**
 * The optional power of a store to keep interrupted uploads and continue them
 * (SFTPGo's IsUploadResumeSupported, as an extension interface the protocol detects).
 * Every method throws only StorageError.
 */
export interface PendingUploadStore {
  /** The pending upload of `path` (expired ones are discarded on the way), or undefined. */
  pendingUpload(path: string, options?: OperationOptions): Promise<PendingUpload | undefined>;
  /** The pending uploads directly in folder `dir` (at most a page of them). */
  pendingUploads(dir: string, options?: OperationOptions): Promise<readonly PendingUpload[]>;
  /** The bytes every pending upload below `dir` holds, for quotas that count them. */
  pendingBytes(dir: string, options?: OperationOptions): Promise<number>;
  /** Discards the pending upload of `path`; false when there was none. */
  discardPendingUpload(path: string, options?: OperationOptions & { readonly reason?: 'replaced' | 'deleted' }): Promise<boolean>;
  /**
   * Continues the pending upload of `path` with `source`, whose first byte is byte
   * `offset` of the file. `offset` must be the pending upload's durable length
   * ('invalid-offset' otherwise, the message naming it); no pending upload:
   * 'not-found'; another session continuing it: 'conflict'.
   */
  continueUpload(path: string, source: Readable, options: WriteOptions & { readonly offset: number }): Promise<WriteResult>;
}

export function hasPendingUploads(store: ObjectStore): store is ObjectStore & PendingUploadStore {
  return typeof (store as Partial<PendingUploadStore>).continueUpload === 'function';
}
