import type { EntryInfo } from '../storage/object-store.ts';
import { hasPendingUploads, type PendingUpload } from '../storage/pending-uploads.ts';
import type { FtpSession, ResolvedPath } from './command-handler.ts';

/**
 * How a pending upload (an interrupted upload the store keeps, see
 * docs/resumable-uploads.md) shows to the partner whose home holds it: as a file of
 * its durable length under its name, in SIZE, MLST, LIST and MLSD, so that clients
 * resume it as they would a partial file. Nothing else sees it: it is no object.
 */
export async function pendingUploadOf(session: FtpSession, target: ResolvedPath): Promise<PendingUpload | undefined> {
  const store = session.services.store;
  if (!hasPendingUploads(store) || target.path === '/') return undefined;
  return await store.pendingUpload(target.storePath);
}

export function pendingEntry(pending: PendingUpload): EntryInfo {
  return { name: pending.name, kind: 'file', size: pending.durableBytes, modified: pending.started };
}

/** The entry of `target` a client that resumes sees: its pending upload, when it has one, else what stat says. */
export async function statWithPending(session: FtpSession, target: ResolvedPath): Promise<EntryInfo | undefined> {
  const [entry, pending] = await allSettledOrThrow([session.stat(target), pendingUploadOf(session, target)] as const);
  if (pending === undefined || entry?.kind === 'directory') return entry;
  return pendingEntry(pending);
}

/**
 * A folder listing's pages with the folder's pending uploads in them: each replaces a
 * file of its name (the partner's latest upload of it), and those with no file follow
 * the last page. A page of them at most (the store bounds it).
 */
export async function* withPendingUploads(
  session: FtpSession,
  folder: ResolvedPath,
  pages: AsyncIterable<readonly EntryInfo[]>,
  names: ((name: string) => boolean) | undefined,
): AsyncGenerator<readonly EntryInfo[]> {
  const store = session.services.store;
  const pending = new Map<string, EntryInfo>();
  if (hasPendingUploads(store)) {
    for (const upload of await store.pendingUploads(folder.storePath)) {
      if (names === undefined || names(upload.name)) pending.set(upload.name, pendingEntry(upload));
    }
  }
  for await (const page of pages) {
    if (pending.size === 0) {
      yield page;
      continue;
    }
    yield page.map((entry) => {
      const upload = entry.kind === 'file' ? pending.get(entry.name) : undefined;
      if (upload === undefined) return entry;
      pending.delete(entry.name);
      return upload;
    });
  }
  if (pending.size > 0) yield [...pending.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Promise.all that waits for every request before it fails: a command whose lookups go
 * to the store side by side answers (and may end the session, or the bridge stop) only
 * once none of them is still in flight, so no request outlives the command that made it.
 */
export async function allSettledOrThrow<T extends readonly unknown[]>(work: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
