import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EntryInfo, WriteOptions } from '../../storage/object-store.ts';
import { fromNetworkAscii, toNetworkAscii } from '../ascii-transcoder.ts';
import type { CommandSpec, FtpSession, ResolvedPath } from '../command-handler.ts';
import { GlobPattern, hasGlob, MAX_GLOB_LENGTH } from '../glob-pattern.ts';
import { formatListLine, formatMlsxEntry } from '../listing-format.ts';
import { ReplyError } from '../reply.ts';
import { bandwidthLimit } from '../bandwidth-limit.ts';
import { recordKeptUpload, recordPendingChange, startQuotaUpload } from '../partner-quota.ts';
import { leasePendingUpload } from '../pending-upload-lease.ts';
import { confirmWholeUpload } from '../upload-end.ts';
import { baseName, joinPath } from '../virtual-path.ts';
import { REPLIES } from '../replies.ts';
import { hasPendingUploads } from '../../storage/pending-uploads.ts';
import { allSettledOrThrow, pendingEntry, pendingUploadOf, withPendingUploads } from '../pending-upload-view.ts';
import { NO_UPLOAD_OUTCOMES } from '../upload-outcomes.ts';
import { isStorageError } from '../../storage/storage-error.ts';

/** Commands that move bytes over a data connection, and the ABOR/REST that steer them. */
export const TRANSFER_COMMANDS: readonly CommandSpec[] = [
  { verb: 'REST', handler: rest, login: true, argument: 'required', syntax: 'REST <offset>', feature: () => 'REST STREAM' },
  { verb: 'RETR', handler: retr, login: true, argument: 'required', permission: 'read', syntax: 'RETR <path>', dataTransfer: true },
  { verb: 'STOR', handler: stor, login: true, argument: 'required', permission: 'write', syntax: 'STOR <path>', dataTransfer: true },
  { verb: 'STOU', handler: stou, login: true, argument: 'optional', permission: 'write', syntax: 'STOU [<name>]', dataTransfer: true },
  {
    verb: 'APPE',
    handler: appe,
    login: true,
    argument: 'required',
    permission: 'write',
    syntax: 'APPE <path>',
    dataTransfer: true,
    needs: (store) => store.append !== false,
  },
  { verb: 'LIST', handler: list, login: true, argument: 'optional', permission: 'list', syntax: 'LIST [<path>]', dataTransfer: true },
  { verb: 'NLST', handler: nlst, login: true, argument: 'optional', permission: 'list', syntax: 'NLST [<path>]', dataTransfer: true },
  { verb: 'MLSD', handler: mlsd, login: true, argument: 'optional', permission: 'list', syntax: 'MLSD [<path>]', dataTransfer: true },
  { verb: 'ABOR', handler: abor, login: false, argument: 'none', syntax: 'ABOR', duringTransfer: true },
];

function rest(session: FtpSession, argument: string): void {
  if (!/^\d{1,15}$/.test(argument.trim())) throw new ReplyError(501, 'REST takes a byte offset.');
  session.state.restOffset = Number(argument.trim());
  session.reply(350, `Restarting at ${session.state.restOffset}. Send STOR or RETR to initiate transfer.`);
}

function takeRestOffset(session: FtpSession): number {
  const offset = session.state.restOffset;
  session.state.restOffset = 0;
  return offset;
}

async function retr(session: FtpSession, argument: string): Promise<void> {
  const target = session.resolve(argument);
  const offset = takeRestOffset(session);
  const entry = await session.stat(target);
  if (entry === undefined) {
    const pending = await pendingUploadOf(session, target);
    if (pending !== undefined) {
      throw new ReplyError(550, `An upload of this file is in progress (${pending.durableBytes} bytes so far); it can be read once it is complete.`);
    }
  }
  if (entry?.kind !== 'file') throw new ReplyError(REPLIES.noSuchFile);
  if (offset > entry.size) throw new ReplyError(REPLIES.offsetBeyondEnd);
  const ascii = session.state.transferType === 'A';
  const opening = `Opening ${ascii ? 'ASCII' : 'BINARY'} mode data connection for ${baseName(target.path)} (${entry.size - offset} bytes).`;
  await session.transfer({ command: 'RETR', path: target.path, opening, direction: 'download' }, async (data, signal, progress) => {
    const { body } = await session.services.store.read(target.storePath, { offset, signal });
    const downloadKiBps = session.requireUser().limits?.downloadKiBps;
    const paced = downloadKiBps === undefined ? [] : [bandwidthLimit(downloadKiBps, signal)];
    const stages = ascii ? [...paced, counter(progress), toNetworkAscii()] : [...paced, counter(progress)];
    await pipeline([body, ...stages, data], { signal });
  });
}

async function stor(session: FtpSession, argument: string): Promise<void> {
  const target = session.resolve(argument);
  await storeFile(session, 'STOR', target, takeRestOffset(session));
}

async function appe(session: FtpSession, argument: string): Promise<void> {
  takeRestOffset(session);
  await storeFile(session, 'APPE', session.resolve(argument), 'append');
}

async function stou(session: FtpSession, argument: string): Promise<void> {
  takeRestOffset(session);
  // A hint that names no file ('/', '.', '..') is no hint: never a name like '.123.abc'.
  const hint = argument.trim() === '' ? undefined : baseName(session.resolve(argument.trim()).path) || undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    const name =
      hint !== undefined && attempt === 0 ? hint : `${hint ?? 'stou'}.${Date.now()}.${randomBytes(4).toString('hex')}`;
    const target = session.resolve(joinPath(session.state.cwd, name));
    if (await session.stat(target)) continue;
    await storeFile(session, 'STOU', target, 0, `FILE: ${name}`);
    return;
  }
  throw new ReplyError(450, 'Could not find a unique file name.');
}

/**
 * STOR/APPE/STOU. The object is committed by the store before 226 goes out; any
 * failure (client gone, ABOR, S3 error) leaves the previous state untouched (an
 * interrupted upload may be kept pending, never as an object).
 * `start` is where the new bytes go: a REST offset, or 'append' (the stored size,
 * 0 for a new file). A name with a pending upload continues it at its durable length
 * (REST of that length, or APPE), and only there; from byte 0 replaces it.
 */
async function storeFile(
  session: FtpSession,
  command: string,
  target: ResolvedPath,
  start: number | 'append',
  opening = `Ok to send data for ${baseName(target.path)}.`,
): Promise<void> {
  if (target.path === '/') throw new ReplyError(553, 'Not a file name.');
  // A new upload from byte 0 needs only to know the name is not a folder (one LIST, no
  // HEAD); a resume or append needs the file's size, and so does a quota (an overwrite
  // gives the old file's bytes back).
  const user = session.requireUser();
  const underQuota = user.limits?.quotaBytes !== undefined || user.limits?.quotaFiles !== undefined;
  const store = session.services.store;
  const [entry, , pending] = await allSettledOrThrow([
    start === 0 && !underQuota ? store.isFolder(target.storePath).then(folderEntry) : session.stat(target),
    session.requireParentFolder(target),
    pendingUploadOf(session, target),
  ] as const);
  if (entry?.kind === 'directory') throw new ReplyError(550, 'Target is a folder.');
  const continuing = pending !== undefined && start !== 0 && hasPendingUploads(store);
  if (continuing) {
    const durable = pending.durableBytes;
    if ((start === 'append' ? durable : start) !== durable) {
      throw new ReplyError(554, `An upload of this file is pending with ${durable} bytes: send REST ${durable} to continue it, or STOR without REST to start anew.`);
    }
    opening = `Ok to send data for ${baseName(target.path)}, continuing at byte ${durable}.`;
  } else if (pending !== undefined && hasPendingUploads(store)) {
    if (await store.discardPendingUpload(target.storePath, { reason: 'replaced' })) await recordPendingChange(session, -pending.durableBytes);
  }
  const offset = continuing ? pending.durableBytes : start === 'append' ? (entry?.size ?? 0) : start;
  if (!continuing && offset > 0 && !entry) throw new ReplyError(550, 'No such file to resume.');
  if (!continuing && offset > (entry?.size ?? 0)) throw new ReplyError(REPLIES.offsetBeyondEnd);
  if (!continuing && offset > 0 && session.services.store.capabilities.append === false) {
    throw new ReplyError(504, 'Uploads cannot resume here: send the whole file from the start.');
  }
  // Under a quota the continued upload's bytes are counted already, as pending.
  const counted = continuing ? pending.durableBytes : 0;
  const quota = await startQuotaUpload(session, entry, counted);
  const closeNotify = user.tlsCloseNotify ?? session.services.settings.tlsCloseNotify;
  const readBack = session.services.allowances.readBackBytes;
  // Kept bytes the store cannot copy are read and uploaded again: a 1-byte append costs up to
  // 5 MiB each way, so they are bounded per user, as checksum reads are.
  const beforeReadBack = (bytes: number): void =>
    readBack.spendOrRefuse({
      user: user.username,
      amount: bytes,
      refused: `Not stored: keeping the start of the file needs ${bytes} bytes read back`,
      logFields: { path: target.path, bytes },
      log: session.log,
    });
  const startedAt = new Date();
  let received = 0;
  let storedSize: number | undefined;
  // The CRC32 of what is stored, for the upload event, as the store computed it (once per byte).
  let storedCrc32: string | undefined;
  const report = (status: 'completed' | 'failed', failure?: string): void =>
    (session.services.uploadOutcomes ?? NO_UPLOAD_OUTCOMES).report({
      status,
      username: user.username,
      path: target.path,
      command,
      bytes: storedSize ?? received,
      ...(status === 'completed' && storedCrc32 !== undefined ? { crc32: storedCrc32 } : {}),
      clientAddress: session.clientAddress,
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      ...(failure === undefined ? {} : { failure }),
    });
  const release = continuing ? await leasePendingUpload(session, target, pending) : undefined;
  try {
    await session.transfer({ command, path: target.path, opening, direction: 'upload' }, async (data, signal, progress, note) => {
      // Small: the store reads into buffers from the shared budget; bytes held here are per session and outside it.
      const source = new PassThrough({ highWaterMark: 64 * 1024 });
      const decoded = session.state.transferType === 'A' ? [fromNetworkAscii()] : [];
      const uploadKiBps = user.limits?.uploadKiBps;
      const paced = uploadKiBps === undefined ? [] : [bandwidthLimit(uploadKiBps, signal)];
      // Bytes of the new file (kept start included), as the store will hold them.
      let fileBytes = offset;
      const sized = quota === undefined ? [] : [roomCheck(quota.maxFileBytes, offset, (bytes) => (fileBytes = bytes))];
      let reserved: { bytes: number; files: number } | undefined;
      // Whether the data connection's end was the file's is decided from the moment it
      // ends, while the store sends what it holds; the store commits only once it is.
      let wholeFile: Promise<void> | undefined;
      const ended = onEnd(() => {
        wholeFile = (async () => {
          await confirmWholeUpload(data, { signal, closeNotify, log: session.log });
          // The last word before the commit: another session may have taken the room meanwhile.
          if (quota !== undefined) reserved = await quota.reserve(fileBytes);
        })();
        wholeFile.catch(() => undefined);
      });
      const counted = counter((bytes) => {
        received += bytes;
        progress(bytes);
      });
      const feeding = pipeline([data, ...paced, counted, ...decoded, ...sized, ended, source], { signal });
      const options: WriteOptions & { readonly offset: number } = {
        signal,
        offset,
        wholeFile: () => wholeFile ?? Promise.reject(new Error('The upload was committed before its data connection ended')),
        beforeReadBack,
        metadata: { 'ftp-user': user.username, 'ftp-client-address': session.clientAddress },
        bufferOwners: [`user:${user.username}`, `address:${session.clientAddress}`],
        onBufferUse: (use) => note({ bufferWaitMs: use.waitMs, bufferInUseMiB: Math.ceil(use.budgetInUseBytes / 2 ** 20) }),
      };
      const writing =
        continuing && hasPendingUploads(store)
          ? store.continueUpload(target.storePath, source, options)
          : store.write(target.storePath, source, options);
      // A refusal of the data's end, or in the data (a quota), is the reason the store's
      // write failed; otherwise a failed write decides (and must also stop reading the socket).
      const [fed, written] = await Promise.allSettled([feeding, writing]);
      const [whole] = await Promise.allSettled([wholeFile ?? Promise.resolve()]);
      if (reserved !== undefined && (written.status === 'rejected' || fed.status === 'rejected')) {
        await quota?.giveBack(reserved).catch((error: unknown) => session.log.warn({ event: 'shared-state-error', use: 'quota', err: error }));
      }
      if (whole.status === 'rejected' && whole.reason instanceof ReplyError) throw whole.reason;
      if (fed.status === 'rejected' && fed.reason instanceof ReplyError) throw fed.reason;
      if (written.status === 'rejected') throw written.reason;
      if (fed.status === 'rejected') throw fed.reason;
      storedSize = written.value.size;
      storedCrc32 = written.value.crc32;
    });
  } catch (error) {
    report('failed', failureText(error));
    // The store may have kept the upload (or more of it): its bytes count against the
    // quota. In the background: the reply does not wait for the lookup (it never throws).
    if (quota !== undefined) void recordKeptUpload(session, target.storePath, counted);
    throw error;
  } finally {
    await release?.();
  }
  report('completed');
}

/** What a failed upload's event says went wrong: the reply the client got, or the storage error's kind. */
function failureText(error: unknown): string {
  if (error instanceof ReplyError) return `${error.reply.code} ${error.message}`;
  if (isStorageError(error)) return `storage: ${error.kind}`;
  return 'internal error';
}

/**
 * Stops an upload (552) as soon as the file it writes passes the room its partner's
 * quota leaves, instead of receiving the rest to refuse it at the end.
 */
function roomCheck(maxFileBytes: number, keptBytes: number, sized: (fileBytes: number) => void): Transform {
  let fileBytes = keptBytes;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      fileBytes += chunk.length;
      sized(fileBytes);
      if (fileBytes > maxFileBytes) callback(new ReplyError(552, `Quota exceeded: the file passed the ${maxFileBytes} bytes left.`));
      else callback(null, chunk);
    },
  });
}

/** What storeFile needs of a name that may be a folder. */
function folderEntry(isFolder: boolean): { readonly kind: 'directory'; readonly size: 0 } | undefined {
  return isFolder ? { kind: 'directory', size: 0 } : undefined;
}

/**
 * Tells `ended` when the upload's data has ended (a clean end of the data connection, past
 * every check on the way), before the store sees its source end: the store then sends what
 * it holds while `ended`'s decision (upload-end.ts) runs, and commits only once it is made.
 */
function onEnd(ended: () => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      ended();
      callback(null);
    },
  });
}

async function list(session: FtpSession, argument: string): Promise<void> {
  const user = session.requireUser();
  const now = new Date();
  await sendListing(session, 'LIST', argument, (entry) => formatListLine(entry, user.permissions, now));
}

async function nlst(session: FtpSession, argument: string): Promise<void> {
  await sendListing(session, 'NLST', argument, (entry, prefix) => `${prefix}${entry.name}`);
}

async function mlsd(session: FtpSession, argument: string): Promise<void> {
  const user = session.requireUser();
  const format = (entry: EntryInfo): string =>
    formatMlsxEntry({ entry, name: entry.name, facts: session.state.mlstFacts, permissions: user.permissions });
  await sendListing(session, 'MLSD', argument, format);
}

/**
 * LIST/NLST/MLSD: streams the folder page by page into the data connection. LIST
 * and NLST accept `ls`-style options (ignored) and a '*'/'?' pattern in the last
 * segment; NLST prefixes names with the folder as the client wrote it, so the
 * names it returns can be passed straight back to RETR (what mget does).
 */
async function sendListing(
  session: FtpSession,
  command: 'LIST' | 'NLST' | 'MLSD',
  argument: string,
  format: (entry: EntryInfo, prefix: string) => string,
): Promise<void> {
  const written = command === 'MLSD' ? argument.trim() : stripListOptions(argument);
  let pattern: GlobPattern | undefined;
  let folderArgument = written;
  if (command !== 'MLSD' && hasGlob(baseName(`/${written}`))) {
    pattern = GlobPattern.parse(baseName(`/${written}`));
    if (!pattern) throw new ReplyError(501, `Pattern longer than ${MAX_GLOB_LENGTH} characters.`);
    folderArgument = written.includes('/') ? written.slice(0, written.lastIndexOf('/')) || '/' : '';
  }
  const target = session.resolve(folderArgument === '' ? '.' : folderArgument);
  const stored = await session.stat(target);
  const pending = stored === undefined ? await pendingUploadOf(session, target) : undefined;
  const entry = pending === undefined ? stored : pendingEntry(pending);
  if (!entry) throw new ReplyError(REPLIES.noSuchFileOrFolder);
  if (command === 'MLSD' && entry.kind !== 'directory') throw new ReplyError(501, 'MLSD needs a folder; use MLST for a file.');
  const prefix = folderArgument === '' || folderArgument === '.' ? '' : `${folderArgument.replace(/\/+$/, '')}/`;

  async function* lines(signal: AbortSignal): AsyncGenerator<string> {
    if (entry!.kind === 'file') {
      yield `${format({ ...entry!, name: baseName(target.path) }, command === 'NLST' ? parentPrefix(folderArgument) : '')}\r\n`;
      return;
    }
    // NLST gives names only: the times clients set would cost a request per file for nothing.
    const clientTimes = command !== 'NLST';
    const owner = session.state.user?.username ?? '';
    // Names the pattern leaves out are dropped by the store, before it asks S3 for their times.
    const names = pattern === undefined ? undefined : (name: string): boolean => pattern.matches(name);
    const pages = session.services.store.list(target.storePath, { signal, clientTimes, owner, ...(names ? { names } : {}) });
    for await (const page of withPendingUploads(session, target, pages, names)) {
      let chunk = '';
      for (const child of page) chunk += `${format(child, prefix)}\r\n`;
      if (chunk !== '') yield chunk;
    }
  }

  const opening = `Here comes the listing of ${target.path}.`;
  await session.transfer({ command, path: target.path, opening, direction: 'download' }, async (data, signal, progress) => {
    await pipeline([Readable.from(lines(signal)), counter(progress), data], { signal });
  });
}

/** "-la /some dir" → "/some dir"; "-1" → "". `ls` options are dropped, as vsftpd does. */
function stripListOptions(argument: string): string {
  const rest = argument.trim();
  const option = /-[A-Za-z0-9]+(?:\s+|$)/y;
  let index = 0;
  // One pass: each option is matched where the previous one ended.
  while (index < rest.length) {
    option.lastIndex = index;
    if (option.exec(rest) === null) break;
    index = option.lastIndex;
  }
  return rest.slice(index);
}

function parentPrefix(written: string): string {
  const slash = written.lastIndexOf('/');
  return slash === -1 ? '' : written.slice(0, slash + 1);
}

async function abor(session: FtpSession): Promise<void> {
  if (await session.abortTransfer()) session.reply(226, 'ABOR successful; transfer aborted.');
  else session.reply(225, 'No transfer to abort.');
}

function counter(progress: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer | string, _encoding, callback: TransformCallback) {
      progress(chunk.length);
      callback(null, chunk);
    },
  });
}
