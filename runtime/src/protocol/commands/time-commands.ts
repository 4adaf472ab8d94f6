import { isStorageError } from '../../storage/storage-error.ts';
import type { StoreCapabilities } from '../../storage/object-store.ts';
import type { CommandSpec, FtpSession } from '../command-handler.ts';
import { formatTimeVal, parseTimeVal } from '../listing-format.ts';
import { ReplyError } from '../reply.ts';
import { REPLIES } from '../replies.ts';
import type { AuditActivity } from '../audit-activity.ts';

/**
 * Setting a file's modification time, in the three ways clients ask: MFMT and MFF
 * (draft-somers-ftp-mfxx; FileZilla, WinSCP, rclone, lftp) and SITE UTIME (older
 * servers; lftp's fallback). Offered only where the store keeps client-set times
 * (capabilities.clientTimes); MDTM, MLSD/MLST and LIST then report them.
 */
export const TIME_COMMANDS: readonly CommandSpec[] = [
  {
    verb: 'MFMT',
    handler: mfmt,
    login: true,
    argument: 'required',
    permission: 'write',
    syntax: 'MFMT <YYYYMMDDHHMMSS> <path>',
    needs: keepsTimes,
    feature: () => 'MFMT',
  },
  {
    verb: 'MFF',
    handler: mff,
    login: true,
    argument: 'required',
    permission: 'write',
    syntax: 'MFF modify=<YYYYMMDDHHMMSS>; <path>',
    needs: keepsTimes,
    feature: () => 'MFF modify;',
  },
  {
    verb: 'SITE',
    handler: site,
    login: true,
    argument: 'required',
    permission: 'write',
    syntax: 'SITE UTIME <YYYYMMDDHHMMSS> <path> | SITE UTIME <path> <atime> <mtime> <ctime> UTC',
    needs: keepsTimes,
  },
];

function keepsTimes(capabilities: StoreCapabilities): boolean {
  return capabilities.clientTimes;
}

async function mfmt(session: FtpSession, argument: string): Promise<void> {
  const [text = '', ...rest] = argument.split(' ');
  const path = rest.join(' ');
  const time = requireTime(text);
  if (path === '') throw new ReplyError(501, 'Syntax: MFMT <YYYYMMDDHHMMSS> <path>.');
  await setModified(session, path, time);
  session.reply(213, `Modify=${formatTimeVal(time.time)}; ${path}`);
}

async function mff(session: FtpSession, argument: string): Promise<void> {
  const space = argument.indexOf(' ');
  const path = space === -1 ? '' : argument.slice(space + 1);
  if (path === '') throw new ReplyError(501, 'Syntax: MFF modify=<YYYYMMDDHHMMSS>; <path>.');
  const facts = argument.slice(0, space).split(';').filter((fact) => fact !== '');
  let time: GivenTime | undefined;
  for (const fact of facts) {
    const [name = '', value = ''] = fact.split('=', 2);
    // Stored files have no mode, owner or creation time of their own to set.
    if (name.toLowerCase() !== 'modify') throw new ReplyError(504, `Fact ${JSON.stringify(name.slice(0, 16))} cannot be set; only modify.`);
    time = requireTime(value);
  }
  if (time === undefined) throw new ReplyError(501, 'Syntax: MFF modify=<YYYYMMDDHHMMSS>; <path>.');
  await setModified(session, path, time);
  session.reply(213, `modify=${formatTimeVal(time.time)}; ${path}`);
}

async function site(session: FtpSession, argument: string): Promise<void> {
  const [subcommand = '', ...words] = argument.split(' ');
  switch (subcommand.toUpperCase()) {
    case 'UTIME':
      return siteUtime(session, words);
    case 'HELP':
      return session.reply(214, 'SITE commands: UTIME.');
    default:
      throw new ReplyError(504, `SITE ${JSON.stringify(subcommand.slice(0, 16))} is not supported; SITE HELP lists them.`);
  }
}

/** lftp sends "SITE UTIME <time> <path>", or "SITE UTIME <path> <atime> <mtime> <ctime> UTC". */
async function siteUtime(session: FtpSession, words: readonly string[]): Promise<void> {
  let path: string;
  let time: GivenTime;
  const first = words[0] ?? '';
  if (words.length >= 5 && words[words.length - 1]?.toUpperCase() === 'UTC') {
    path = words.slice(0, -4).join(' ');
    time = requireTime(words[words.length - 3] ?? '');
  } else if (parseTimeVal(first) !== undefined && words.length >= 2) {
    path = words.slice(1).join(' ');
    time = requireTime(first);
  } else {
    throw new ReplyError(501, 'Syntax: SITE UTIME <YYYYMMDDHHMMSS> <path>.');
  }
  await setModified(session, path, time);
  session.reply(200, `Modification time set to ${formatTimeVal(time.time)}.`);
}

/** A time as a command gave it: whole seconds, or milliseconds when it had a fraction. */
interface GivenTime {
  readonly time: Date;
  readonly precisionMs: 1 | 1000;
}

function requireTime(text: string): GivenTime {
  const time = parseTimeVal(text);
  if (time === undefined) throw new ReplyError(501, 'The time must be YYYYMMDDHHMMSS (UTC).');
  return { time, precisionMs: text.includes('.') ? 1 : 1000 };
}

/**
 * Rewrites the file's metadata only when the time differs at the precision given (a
 * client re-sending the time a file has costs one HEAD, no copy, no new version and
 * no "Object Created" event downstream), and only within the user's allowance of
 * metadata rewrites: each may rewrite the whole file inside the store (S3: a copy).
 */
async function setModified(session: FtpSession, path: string, given: GivenTime): Promise<void> {
  const target = session.resolve(path);
  const user = session.requireUser().username;
  const rewrites = session.services.allowances.metadataRewrites;
  let result;
  try {
    result = await session.services.store.setModified(target.storePath, given.time, {
      signal: session.closedSignal,
      precisionMs: given.precisionMs,
      beforeCopy: () =>
        rewrites.spendOrRefuse({
          user,
          amount: 1,
          refused: 'Time not changed: it rewrites the file',
          logFields: { path: target.path },
          log: session.log,
        }),
    });
  } catch (error) {
    if (!isStorageError(error, 'not-found') && !isStorageError(error, 'invalid-name')) throw error;
    // Only now a folder is told from a missing file: the common case costs one HEAD.
    if ((await session.stat(target))?.kind === 'directory') {
      throw new ReplyError(550, `Folder times cannot be set: ${session.services.store.capabilities.name} keeps none.`);
    }
    throw new ReplyError(REPLIES.noSuchFile);
  }
  session.log.info({ event: 'set-modified', activity: 'SETSTAT' satisfies AuditActivity, path: target.path, modified: given.time.toISOString(), changed: result.changed });
}
