import type { User } from '../auth/user.ts';
import type { HomeUsage, QuotaLimits, UsageChange } from '../state/quota-ledger.ts';
import type { EntryInfo, ObjectStore } from '../storage/object-store.ts';
import { hasPendingUploads } from '../storage/pending-uploads.ts';
import type { FtpSession } from './command-handler.ts';
import { ReplyError } from './reply.ts';

/**
 * quotaBytes and quotaFiles, as the commands apply them: 552 before an upload starts
 * when the home is full, 552 during it once it passes the room left, and 552 at its
 * end when the reservation (made before the object is committed) does not fit; deletes
 * and overwrites give room back. Pending uploads (docs/resumable-uploads.md) count
 * their durable bytes: a kept upload adds them, a continued one that completes moves
 * them to the file, a discarded or replaced one gives them back, and the reconcile
 * measures them (expired ones included). The counts live in the QuotaLedger (state/).
 */

/** The partner's quota limits, or undefined when it has none (nothing is counted then). */
export function quotaOf(user: User): QuotaLimits | undefined {
  const { quotaBytes, quotaFiles } = user.limits ?? {};
  return quotaBytes === undefined && quotaFiles === undefined ? undefined : { quotaBytes, quotaFiles };
}

/** An upload under a quota: the room it may use, and the commit-time reservation. */
export interface QuotaUpload {
  /** Most bytes the new file may hold (Infinity without quotaBytes). */
  readonly maxFileBytes: number;
  /** Reserves the upload's change before the commit; 552 when it does not fit. */
  reserve(fileBytes: number): Promise<UsageChange>;
  /** Gives a reservation back (the commit failed). */
  giveBack(change: UsageChange): Promise<void>;
}

/**
 * Before an upload starts: 552 when no room is left. `existing` is the file the upload
 * replaces (its bytes and its place are given back by the overwrite); `continuedBytes`
 * the durable bytes of the pending upload it continues (counted already, as pending).
 */
export async function startQuotaUpload(session: FtpSession, existing: EntryInfo | undefined, continuedBytes = 0): Promise<QuotaUpload | undefined> {
  const user = session.requireUser();
  const limits = quotaOf(user);
  const ledger = session.services.quota;
  if (limits === undefined || ledger === undefined) return undefined;
  const usage = await ledger.usage(user.username, user.home);
  const oldBytes = existing?.kind === 'file' ? existing.size : 0;
  const newFile = existing?.kind !== 'file';
  if (newFile && limits.quotaFiles !== undefined && usage.files >= limits.quotaFiles) {
    throw quotaExceeded(session, 'files', usage, limits);
  }
  const room = limits.quotaBytes === undefined ? Infinity : limits.quotaBytes - usage.bytes - usage.pendingBytes + oldBytes + continuedBytes;
  if (room <= 0) throw quotaExceeded(session, 'bytes', usage, limits);
  return {
    maxFileBytes: room,
    reserve: async (fileBytes) => {
      const change = { bytes: fileBytes - oldBytes, files: newFile ? 1 : 0, pendingBytes: -continuedBytes };
      const reserved = await ledger.reserve(user.username, user.home, change, limits);
      if (!reserved.ok) throw quotaExceeded(session, change.files > 0 && limits.quotaFiles !== undefined && reserved.usage.files + 1 > limits.quotaFiles ? 'files' : 'bytes', reserved.usage, limits);
      return change;
    },
    giveBack: async (change) => await ledger.add(user.username, { bytes: -change.bytes, files: -change.files, pendingBytes: -(change.pendingBytes ?? 0) }),
  };
}

/** After a delete, or a rename that replaced a file: the room it held is free again. */
export async function recordRemoval(session: FtpSession, removed: EntryInfo | undefined): Promise<void> {
  const user = session.requireUser();
  const ledger = session.services.quota;
  if (removed?.kind !== 'file' || ledger === undefined || quotaOf(user) === undefined) return;
  try {
    await ledger.add(user.username, { bytes: -removed.size, files: -1 });
  } catch (error) {
    // The next reconcile corrects the count.
    session.log.warn({ event: 'shared-state-error', use: 'quota', err: error }, 'quota count not updated; the next reconcile corrects it');
  }
}

/**
 * After an upload failed: what its pending upload holds now (the store may have kept
 * it, or more of it) against the `counted` bytes the ledger holds for it already. Runs
 * on after the session ends (a vanished client), so it takes what it needs at once.
 */
export async function recordKeptUpload(session: FtpSession, storePath: string, counted: number): Promise<void> {
  const store = session.services.store;
  if (!hasPendingUploads(store)) return;
  try {
    // Taken before the first wait, while the session is sure to be logged in.
    const record = pendingRecorder(session);
    await record(((await store.pendingUpload(storePath))?.durableBytes ?? 0) - counted);
  } catch (error) {
    session.log.warn({ event: 'shared-state-error', use: 'quota', err: error }, 'pending bytes not counted; the next reconcile corrects it');
  }
}

/** Pending bytes kept (positive) or given back (a discarded or replaced pending upload). */
export async function recordPendingChange(session: FtpSession, pendingBytes: number): Promise<void> {
  try {
    await pendingRecorder(session)(pendingBytes);
  } catch (error) {
    session.log.warn({ event: 'shared-state-error', use: 'quota', err: error }, 'pending bytes not counted; the next reconcile corrects it');
  }
}

/** Adds pending bytes to the count of the session's partner (nothing without a quota). */
function pendingRecorder(session: FtpSession): (pendingBytes: number) => Promise<void> {
  const user = session.requireUser();
  const ledger = session.services.quota;
  if (ledger === undefined || quotaOf(user) === undefined) return async () => undefined;
  return async (pendingBytes) => {
    if (pendingBytes !== 0) await ledger.add(user.username, { bytes: 0, files: 0, pendingBytes });
  };
}

/** The 552 of a full home, logged with the figures. */
export function quotaExceeded(session: FtpSession, what: 'bytes' | 'files', usage: HomeUsage, limits: QuotaLimits): ReplyError {
  session.log.info({ event: 'quota-exceeded', what, bytes: usage.bytes, pendingBytes: usage.pendingBytes, files: usage.files, ...limits });
  return what === 'files'
    ? new ReplyError(552, `Quota exceeded: the home holds ${usage.files} of ${limits.quotaFiles} files.`)
    : new ReplyError(552, `Quota exceeded: the home holds ${usage.bytes + usage.pendingBytes} of ${limits.quotaBytes} bytes.`);
}

/**
 * Adds up the files below a home by listing it folder by folder (a request per folder
 * and per 1000 entries), and the durable bytes of its pending uploads (the store bounds
 * how many it reads); the quota ledger runs it at most once per partner per reconcile
 * interval. Folders are walked from an explicit stack: deep trees use heap, not call stack.
 */
export async function measureHome(store: ObjectStore, home: string): Promise<UsageChange> {
  let bytes = 0;
  let files = 0;
  const folders = [home];
  for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
    for await (const page of store.list(folder, { clientTimes: false })) {
      for (const entry of page) {
        if (entry.kind === 'directory') folders.push(folder === '' ? entry.name : `${folder}/${entry.name}`);
        else {
          bytes += entry.size;
          files += 1;
        }
      }
    }
  }
  return { bytes, files, pendingBytes: hasPendingUploads(store) ? await store.pendingBytes(home) : 0 };
}
