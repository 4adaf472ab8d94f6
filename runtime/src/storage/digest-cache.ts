import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ChecksumAlgorithm } from './object-store.ts';
import { StorageError } from './storage-error.ts';

/** The bytes a computed checksum covers: one version of one object, all of it or a range. */
export interface DigestSubject {
  readonly key: string;
  readonly etag: string;
  readonly lastModified: Date | undefined;
  readonly algorithm: ChecksumAlgorithm;
  readonly start: number;
  readonly end: number;
}

/**
 * Checksums the store had to compute by reading an object, kept per object version
 * so a checksum asked for again (by any session) reads nothing, and one read shared by
 * everyone asking for the same one at once (single flight). A new version (an upload,
 * a copy) has another ETag or LastModified, so a kept digest never answers for bytes
 * it was not computed from.
 */
export class DigestCache {
  /** By a digest of the subject, not the subject: keys run to 1,024 bytes, the table's memory must not. */
  readonly #digests: LRUCache<string, Buffer>;
  readonly #reads = new Map<string, SharedRead>();

  constructor(options: { readonly maxEntries: number }) {
    this.#digests = new LRUCache({ max: options.maxEntries });
  }

  /** The kept digest of `subject`, if any. */
  get(subject: DigestSubject): Buffer | undefined {
    return this.#digests.get(subjectId(subject));
  }

  /**
   * The digest of `subject`: kept, or being read by another caller (joined), or read
   * now by `read`, which `beforeRead` may refuse by throwing. The read goes on while
   * any caller still waits and is aborted when the last one's signal aborts.
   */
  async compute(
    subject: DigestSubject,
    options: {
      readonly read: (signal: AbortSignal) => Promise<Buffer>;
      readonly beforeRead?: (() => void) | undefined;
      readonly signal?: AbortSignal | undefined;
    },
  ): Promise<{ readonly digest: Buffer; readonly how: 'kept' | 'joined' | 'read' }> {
    const id = subjectId(subject);
    const kept = this.#digests.get(id);
    if (kept !== undefined) return { digest: kept, how: 'kept' };
    let shared = this.#reads.get(id);
    const how = shared === undefined ? 'read' : 'joined';
    if (shared === undefined) {
      options.beforeRead?.();
      const controller = new AbortController();
      const started: SharedRead = {
        controller,
        waiters: 0,
        result: options.read(controller.signal).then((digest) => {
          this.#digests.set(id, digest);
          return digest;
        }),
      };
      const settled = (): void => {
        if (this.#reads.get(id) === started) this.#reads.delete(id);
      };
      started.result.then(settled, settled);
      this.#reads.set(id, started);
      shared = started;
    }
    const digest = await this.#waitFor(id, shared, options.signal);
    return { digest, how };
  }

  /** The shared read's result, or 'aborted' once `signal` aborts; the last caller to leave stops the read. */
  async #waitFor(id: string, shared: SharedRead, signal: AbortSignal | undefined): Promise<Buffer> {
    shared.waiters += 1;
    let onAbort: (() => void) | undefined;
    try {
      if (signal === undefined) return await shared.result;
      return await new Promise<Buffer>((resolve, reject) => {
        onAbort = () => reject(new StorageError('aborted', 'Operation aborted'));
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        shared.result.then(resolve, reject);
      });
    } finally {
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      shared.waiters -= 1;
      if (shared.waiters === 0) {
        shared.controller.abort();
        // A caller arriving now starts a read of its own rather than join a stopped one.
        if (this.#reads.get(id) === shared) this.#reads.delete(id);
      }
    }
  }

  get size(): number {
    return this.#digests.size;
  }
}

interface SharedRead {
  readonly controller: AbortController;
  readonly result: Promise<Buffer>;
  waiters: number;
}

function subjectId({ key, etag, lastModified, algorithm, start, end }: DigestSubject): string {
  return createHash('sha256')
    .update(`${algorithm} ${start} ${end} ${lastModified?.getTime() ?? ''} ${etag} ${key}`)
    .digest('base64');
}
