import type { CommandSpec, FtpSession } from '../command-handler.ts';
import { formatMlsxEntry, formatTimeVal, mlstFeatureLine } from '../listing-format.ts';
import type { AuditActivity } from '../audit-activity.ts';
import { isStorageError } from '../../storage/storage-error.ts';
import { quotaOf, recordPendingChange, recordRemoval } from '../partner-quota.ts';
import { quotePath, ReplyError } from '../reply.ts';
import { REPLIES } from '../replies.ts';
import { hasPendingUploads } from '../../storage/pending-uploads.ts';
import { pendingUploadOf, statWithPending } from '../pending-upload-view.ts';

/** Navigation and single-object commands: no data connection involved. */
export const FILE_COMMANDS: readonly CommandSpec[] = [
  { verb: 'PWD', handler: pwd, login: true, argument: 'none', syntax: 'PWD' },
  // TVFS (RFC 3659 6): paths are Unix-like, '/'-separated, from the user's root.
  { verb: 'CWD', handler: cwd, login: true, argument: 'required', syntax: 'CWD <path>', feature: () => 'TVFS' },
  { verb: 'CDUP', handler: (s) => cwd(s, '..'), login: true, argument: 'none', syntax: 'CDUP' },
  { verb: 'MKD', handler: mkd, login: true, argument: 'required', permission: 'mkdir', syntax: 'MKD <path>' },
  { verb: 'RMD', handler: rmd, login: true, argument: 'required', permission: 'delete', syntax: 'RMD <path>' },
  { verb: 'DELE', handler: dele, login: true, argument: 'required', permission: 'delete', syntax: 'DELE <path>' },
  { verb: 'RNFR', handler: rnfr, login: true, argument: 'required', permission: 'rename', syntax: 'RNFR <path>' },
  { verb: 'RNTO', handler: rnto, login: true, argument: 'required', permission: 'rename', syntax: 'RNTO <path>' },
  {
    verb: 'SIZE',
    handler: size,
    login: true,
    argument: 'required',
    permission: 'list',
    syntax: 'SIZE <path>',
    feature: () => 'SIZE',
  },
  {
    verb: 'MDTM',
    handler: mdtm,
    login: true,
    argument: 'required',
    permission: 'list',
    syntax: 'MDTM <path>',
    feature: () => 'MDTM',
  },
  {
    verb: 'MLST',
    handler: mlst,
    login: true,
    argument: 'optional',
    permission: 'list',
    syntax: 'MLST [<path>]',
    feature: (s) => mlstFeatureLine(s.state.mlstFacts),
  },
];

function pwd(session: FtpSession): void {
  session.reply(257, `${quotePath(session.state.cwd)} is the current directory.`);
}

async function cwd(session: FtpSession, argument: string): Promise<void> {
  const target = session.resolve(argument);
  const entry = await session.stat(target);
  if (entry?.kind !== 'directory') throw new ReplyError(550, 'No such folder.');
  session.state.cwd = target.path;
  session.reply(250, `Directory changed to ${target.path}.`);
}

async function mkd(session: FtpSession, argument: string): Promise<void> {
  const target = session.resolve(argument);
  if (target.path === '/') throw new ReplyError(REPLIES.alreadyExists);
  await session.requireParentFolder(target);
  await session.services.store.makeDirectory(target.storePath);
  session.log.info({ event: 'mkdir', activity: 'MKDIR' satisfies AuditActivity, path: target.path });
  session.reply(257, `${quotePath(target.path)} created.`);
}

async function rmd(session: FtpSession, argument: string): Promise<void> {
  const target = session.resolve(argument);
  if (target.path === '/') throw new ReplyError(550, 'The home folder cannot be removed.');
  await session.services.store.removeDirectory(target.storePath);
  session.log.info({ event: 'rmdir', activity: 'RMDIR' satisfies AuditActivity, path: target.path });
  session.reply(250, 'Folder removed.');
}

/** DELE removes the name whole: the file, and a pending upload of it (see docs/resumable-uploads.md). */
async function dele(session: FtpSession, argument: string): Promise<void> {
  const target = session.resolve(argument);
  // Under a quota the file's size and its pending upload's are needed to give their room back (one HEAD, one lookup more).
  const underQuota = quotaOf(session.requireUser()) !== undefined;
  const [removed, pending] = underQuota ? await Promise.all([session.stat(target), pendingUploadOf(session, target)]) : [];
  const store = session.services.store;
  const discarding = hasPendingUploads(store) && target.path !== '/' ? store.discardPendingUpload(target.storePath, { reason: 'deleted' }) : Promise.resolve(false);
  const [deleted, discarded] = await Promise.allSettled([store.delete(target.storePath), discarding]);
  if (discarded.status === 'rejected') throw discarded.reason;
  if (discarded.value && pending !== undefined) await recordPendingChange(session, -pending.durableBytes);
  if (deleted.status === 'rejected') {
    const error: unknown = deleted.reason;
    if (discarded.value && isStorageError(error, 'not-found')) return session.reply(250, 'Pending upload discarded.');
    // The store's own lookup found no file; only then is it worth asking about a folder.
    if (isStorageError(error, 'not-found') && (await session.stat(target))?.kind === 'directory') {
      throw new ReplyError(550, 'Not a file; use RMD for folders.');
    }
    throw error;
  }
  await recordRemoval(session, removed);
  session.log.info({ event: 'delete', activity: 'DELETE' satisfies AuditActivity, path: target.path });
  session.reply(250, 'File deleted.');
}

async function rnfr(session: FtpSession, argument: string): Promise<void> {
  const source = session.resolve(argument);
  if (source.path === '/') throw new ReplyError(550, 'The home folder cannot be renamed.');
  if (!(await session.stat(source))) throw new ReplyError(REPLIES.noSuchFileOrFolder);
  session.state.renameFrom = source;
  session.reply(350, 'Ready for RNTO.');
}

async function rnto(session: FtpSession, argument: string): Promise<void> {
  const source = session.state.renameFrom;
  session.state.renameFrom = undefined;
  if (!source) throw new ReplyError(503, 'Send RNFR first.');
  const target = session.resolve(argument);
  if (target.path === '/' || target.path === source.path) throw new ReplyError(553, 'Invalid rename target.');
  if (target.path.startsWith(`${source.path}/`)) throw new ReplyError(553, 'A folder cannot be moved into itself.');
  await session.requireParentFolder(target);
  const user = session.requireUser().username;
  const renamed = session.services.allowances.renamedObjects;
  await session.services.store.rename(source.storePath, target.storePath, {
    // Each object moved is a copy inside S3, a new object and an event: bounded per user, as time changes are.
    beforeCopy: (objects) =>
      renamed.spendOrRefuse({
        user,
        amount: objects,
        refused: `Not renamed: it copies ${objects} objects`,
        logFields: { path: source.path, objects },
        log: session.log,
      }),
  });
  // A rename stays inside the home and never replaces a file (550): the quota counts do not change.
  session.log.info({ event: 'rename', activity: 'RENAME' satisfies AuditActivity, path: source.path, from: source.path, to: target.path });
  session.reply(250, 'Rename successful.');
}

async function size(session: FtpSession, argument: string): Promise<void> {
  const entry = await statWithPending(session, session.resolve(argument));
  if (entry?.kind !== 'file') throw new ReplyError(REPLIES.noSuchFile);
  session.reply(213, String(entry.size));
}

async function mdtm(session: FtpSession, argument: string): Promise<void> {
  const entry = await session.stat(session.resolve(argument));
  if (entry?.kind !== 'file' || entry.modified === undefined) throw new ReplyError(REPLIES.noSuchFile);
  session.reply(213, formatTimeVal(entry.modified));
}

async function mlst(session: FtpSession, argument: string): Promise<void> {
  const target = session.resolve(argument.trim() === '' ? '.' : argument);
  const entry = await statWithPending(session, target);
  if (!entry) throw new ReplyError(REPLIES.noSuchFileOrFolder);
  const line = formatMlsxEntry({
    entry,
    name: target.path,
    facts: session.state.mlstFacts,
    permissions: session.requireUser().permissions,
  });
  session.reply(250, `Listing ${target.path}`, line, 'End');
}
