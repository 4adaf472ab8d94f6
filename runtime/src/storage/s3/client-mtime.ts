import { createHash } from 'node:crypto';

/**
 * The modification time a client set (MFMT and friends), kept in user metadata
 * under the key rclone and Cyberduck use: `x-amz-meta-mtime`, seconds since the
 * epoch, possibly with a fraction ("1700000000", "1700000000.250000000"). Objects
 * those tools wrote therefore show the times they set, and the other way round.
 */
export const MTIME_METADATA_KEY = 'mtime';

/** Seconds since the epoch; milliseconds kept when there are any. */
export function formatClientMtime(time: Date): string {
  const ms = time.getTime();
  const seconds = Math.floor(ms / 1000);
  const fraction = ms - seconds * 1000;
  return fraction === 0 ? String(seconds) : `${seconds}.${String(fraction).padStart(3, '0')}`;
}

/** The time in `metadata`, or undefined when absent or not a number of seconds. */
export function parseClientMtime(metadata: Readonly<Record<string, string>> | undefined): Date | undefined {
  const value = metadata?.[MTIME_METADATA_KEY]?.trim();
  if (value === undefined || !/^-?\d{1,12}(?:\.\d{1,9})?$/.test(value)) return undefined;
  const time = new Date(Math.round(Number(value) * 1000));
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/**
 * The client-set times the store has read, by object version (key, ETag and
 * LastModified, which a listing gives for free), so a folder listed again costs no
 * HeadObject per file. A new version (an upload, MFMT's copy onto itself) is a new
 * entry; the least recently used ones go past `maxEntries`.
 */
export class ClientTimeCache {
  readonly #maxEntries: number;
  /** null: the version has no client-set time. */
  readonly #times = new Map<string, Date | null>();

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** The time of that version, null for none, undefined when not known yet. */
  get(version: ObjectVersion): Date | null | undefined {
    const id = versionId(version);
    const time = this.#times.get(id);
    if (time !== undefined) {
      this.#times.delete(id);
      this.#times.set(id, time);
    }
    return time;
  }

  set(version: ObjectVersion, time: Date | null): void {
    const id = versionId(version);
    this.#times.delete(id);
    this.#times.set(id, time);
    if (this.#times.size > this.#maxEntries) this.#times.delete(this.#times.keys().next().value!);
  }

  get size(): number {
    return this.#times.size;
  }
}

export interface ObjectVersion {
  readonly key: string;
  readonly etag: string | undefined;
  readonly lastModified: Date | undefined;
}

/**
 * A digest, not the key itself: keys run to 1,024 bytes, and a user who may write
 * could otherwise fill the table with long names to hold tens of MiB outside any budget.
 */
function versionId({ key, etag, lastModified }: ObjectVersion): string {
  return createHash('sha256').update(`${lastModified?.getTime() ?? ''} ${etag ?? ''} ${key}`).digest('base64');
}
