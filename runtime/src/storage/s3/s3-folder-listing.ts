import type { EntryInfo, ListOptions } from '../object-store.ts';
import { isValidEntryName } from '../store-path.ts';
import { ClientTimeCache, parseClientMtime, type ObjectVersion } from './client-mtime.ts';
import { ListingHeadSlots, type ListingHeads } from './listing-head-slots.ts';
import type { S3Gateway } from './s3-gateway.ts';

/** Keys S3 gives per listing page (its maximum). */
export const LIST_PAGE_SIZE = 1000;
/**
 * HeadObjects in flight for listings (the times clients set): per partner, all its
 * listings together, and for the whole process, which keeps them within the S3
 * connection pool's spare sockets (composition-root.ts, s3SocketsFor) so transfers never wait
 * behind them for long.
 */
const LIST_HEADS_PER_OWNER = 16;
const LIST_HEADS_TOTAL = 16;
/** Object versions whose client-set time the store remembers (about 200 bytes each whatever the key: 10 MiB at most). */
const CLIENT_TIME_CACHE_ENTRIES = 50_000;

/** A file of a listing page, with the version the listing gave for it. */
interface ListedFile {
  entry: EntryInfo;
  readonly version: ObjectVersion;
}

/** A listing page read from S3; its entries resolve once the client-set times are in. */
interface ListedPage {
  readonly token: string | undefined;
  readonly entries: Promise<EntryInfo[]>;
}

/**
 * A folder's direct children as S3 lists them, with the times clients set (kept in
 * user metadata, so one HeadObject per file version not seen before), bounded per
 * owner and per process.
 */
export class S3FolderListing {
  readonly #clientTimes = new ClientTimeCache(CLIENT_TIME_CACHE_ENTRIES);
  readonly #listingHeads = new ListingHeadSlots({ perOwner: LIST_HEADS_PER_OWNER, total: LIST_HEADS_TOTAL });
  readonly #gateway: S3Gateway;
  /** FTP_LIST_CLIENT_TIMES: off, listings show LastModified. */
  readonly #clientTimesOn: boolean;

  constructor(options: { readonly gateway: S3Gateway; readonly clientTimes: boolean }) {
    this.#gateway = options.gateway;
    this.#clientTimesOn = options.clientTimes;
  }

  /**
   * Page by page, each sorted, in S3's order. With client-set times, the next page is
   * listed while this one's HeadObjects run, so S3's listing and the HEADs overlap; never
   * more than two pages (and their HEADs) are held, whatever the folder's size.
   */
  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<readonly EntryInfo[]> {
    const heads = options.clientTimes !== false && this.#clientTimesOn ? this.#listingHeads.open(options.owner ?? '') : undefined;
    // Stops this listing's queued and running HEADs when it fails or its reader goes away.
    const controller = new AbortController();
    const signal = options.signal === undefined ? controller.signal : AbortSignal.any([options.signal, controller.signal]);
    const pending: Array<Promise<unknown>> = [];
    const start = (token: string | undefined): Promise<ListedPage> => {
      const page = this.#readPage({ prefix, token, heads, names: options.names }, signal, controller);
      // Awaited in turn; until then a failure must not count as unhandled.
      pending.push(page.then((read) => read.entries).catch(() => undefined));
      return page;
    };
    try {
      let current: Promise<ListedPage> | undefined = start(undefined);
      while (current !== undefined) {
        const page: ListedPage = await current;
        current = page.token === undefined ? undefined : start(page.token);
        const entries = await page.entries;
        if (entries.length > 0) yield entries;
      }
    } finally {
      controller.abort();
      // The owner's slots are given back only once none of this listing's HEADs runs.
      await Promise.allSettled(pending);
      heads?.close();
    }
  }

  /** One listing page; its entries resolve once the times clients set are read (through `heads`). */
  async #readPage(
    what: {
      readonly prefix: string;
      readonly token: string | undefined;
      readonly heads: ListingHeads | undefined;
      readonly names: ((name: string) => boolean) | undefined;
    },
    signal: AbortSignal,
    controller: AbortController,
  ): Promise<ListedPage> {
    const { prefix, token, heads } = what;
    const wanted = (name: string): boolean => isValidEntryName(name) && (what.names?.(name) ?? true);
    const page = await this.#gateway.listPage({ Prefix: prefix, Delimiter: '/', MaxKeys: LIST_PAGE_SIZE, ContinuationToken: token }, signal);
    const entries: EntryInfo[] = [];
    for (const common of page.CommonPrefixes ?? []) {
      const name = (common.Prefix ?? '').slice(prefix.length, -1);
      // Folder dates would cost a request each; stat() gives the marker's date.
      if (wanted(name)) entries.push({ name, kind: 'directory', size: 0, modified: undefined });
    }
    const files: ListedFile[] = [];
    for (const object of page.Contents ?? []) {
      const name = (object.Key ?? '').slice(prefix.length);
      // Skips the folder's own marker, and names no path can address (they could
      // also forge listing lines), and those a pattern leaves out before their HEADs.
      if (wanted(name)) {
        const entry: EntryInfo = { name, kind: 'file', size: object.Size ?? 0, modified: object.LastModified };
        files.push({ entry, version: { key: object.Key ?? '', etag: object.ETag, lastModified: object.LastModified } });
      }
    }
    const withTimes = heads === undefined ? Promise.resolve() : this.#withClientTimes(files, heads, signal, controller);
    return {
      token: page.IsTruncated === true ? page.NextContinuationToken : undefined,
      entries: withTimes.then(() => {
        entries.push(...files.map((file) => file.entry));
        return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      }),
    };
  }

  /**
   * Listed files with the times their clients set: one HeadObject per file version
   * not seen before, none for one seen already. The HEADs go through the listing's
   * slots (bounded per owner and per process); the first failure stops the rest of
   * the listing's. A file gone meanwhile keeps its listed time.
   */
  async #withClientTimes(files: ListedFile[], heads: ListingHeads, signal: AbortSignal, controller: AbortController): Promise<void> {
    const reads: Array<Promise<void>> = [];
    let failure: { readonly error: unknown } | undefined;
    const failed = (error: unknown): void => {
      failure ??= { error };
      controller.abort();
    };
    for (const file of files) {
      const time = this.#clientTimes.get(file.version);
      if (time === null) continue;
      if (time !== undefined) {
        file.entry = { ...file.entry, modified: time };
        continue;
      }
      reads.push(
        heads.run(async () => {
          const head = await this.#gateway.head(file.version.key, signal);
          if (head === undefined) return; // deleted since the listing: shown as listed
          const found = parseClientMtime(head.Metadata);
          if (found !== undefined) file.entry = { ...file.entry, modified: found };
          // Only for the listing's version: a newer one is read when it is listed. (A HEAD's
          // Last-Modified has whole seconds, a listing's milliseconds.)
          const listedSeconds = Math.floor((file.version.lastModified?.getTime() ?? 0) / 1000);
          if (head.ETag === file.version.etag && Math.floor((head.LastModified?.getTime() ?? -1) / 1000) === listedSeconds) {
            this.#clientTimes.set(file.version, found ?? null);
          }
        }, signal).catch(failed),
      );
    }
    await Promise.all(reads);
    if (failure !== undefined) throw failure.error;
  }
}
