import type { PendingUpload } from '../storage/pending-uploads.ts';
import type { FtpSession, ResolvedPath } from './command-handler.ts';
import { ReplyError } from './reply.ts';

/**
 * Holds a pending upload for the one session continuing it, on every shard: a lease in
 * the shared state (renewed while the transfer runs, released at its end, lapsing
 * within FTP_SESSION_LEASE_SECONDS when a task dies). Another session gets 450 at once,
 * before any data is sent: the file is busy, and the same command succeeds once the
 * continuation ends. Without a state table the lease lives in this process, as the
 * store's own claim does. Resolves with the release.
 */
export async function leasePendingUpload(session: FtpSession, target: ResolvedPath, pending: PendingUpload): Promise<() => Promise<void>> {
  const leases = session.services.uploadLeases;
  if (leases === undefined) return async () => undefined;
  let outcome;
  try {
    outcome = await leases.acquire(target.storePath, 1);
  } catch (error) {
    // The table is out of reach: the store's claim (this process) and S3's check of
    // every part at the commit still keep the file whole.
    session.log.warn({ event: 'shared-state-error', use: 'upload-lease', path: target.path, err: error }, 'pending upload not leased');
    return async () => undefined;
  }
  if (!outcome.ok) {
    session.log.info({ event: 'upload-busy', path: target.path, durableBytes: pending.durableBytes, scope: leases.scope });
    throw new ReplyError(450, `Another session is continuing this upload (pending at ${pending.durableBytes} bytes); nothing was sent. Try again when it ends.`);
  }
  const { lease } = outcome;
  return async () => {
    await lease.release().catch((error: unknown) => session.log.warn({ event: 'shared-state-error', use: 'upload-lease', path: target.path, err: error }, 'lease not released; it lapses'));
  };
}
