import type { ChecksumAlgorithm, ChecksumResult } from '../../storage/object-store.ts';
import { isStorageError } from '../../storage/storage-error.ts';
import type { CommandSpec, FtpSession } from '../command-handler.ts';
import { ReplyError } from '../reply.ts';
import { REPLIES } from '../replies.ts';
import { hashFeatureLine, hashName } from '../hash-algorithms.ts';

/**
 * Checksums of stored files: HASH (draft-bryan-ftpext-hash, as WinSCP and FileZilla
 * use it, with OPTS HASH to choose) and the older XSHA256/XSHA1/XMD5/XCRC/MD5, whose
 * replies follow ProFTPD's mod_digest. The store answers from the checksum it keeps
 * with the file where it has that one (docs/design.md, "Checksums"), and otherwise
 * reads the file once. Only the algorithms the store's capabilities name are offered
 * (FEAT, OPTS HASH, the X-commands); every one offered works for every file.
 */

const X_COMMANDS: ReadonlyArray<readonly [verb: string, algorithm: ChecksumAlgorithm]> = [
  ['XSHA256', 'sha256'],
  ['XSHA1', 'sha1'],
  ['XMD5', 'md5'],
  ['XCRC', 'crc32'],
];

export const CHECKSUM_COMMANDS: readonly CommandSpec[] = [
  {
    verb: 'HASH',
    handler: hash,
    login: true,
    argument: 'required',
    permission: 'read',
    syntax: 'HASH <path> (algorithm: OPTS HASH)',
    needs: (store) => store.checksums.length > 0,
    feature: (s) => hashFeatureLine(s.state.hashAlgorithm, s.services.store.capabilities),
  },
  ...X_COMMANDS.map(
    ([verb, algorithm]): CommandSpec => ({
      verb,
      handler: (session, argument) => xChecksum(session, argument, algorithm),
      login: true,
      argument: 'required',
      permission: 'read',
      syntax: `${verb} <path> [<start> <end>]`,
      needs: (store) => store.checksums.includes(algorithm),
      feature: () => verb,
    }),
  ),
  {
    verb: 'MD5',
    handler: md5,
    login: true,
    argument: 'required',
    permission: 'read',
    syntax: 'MD5 <path>',
    needs: (store) => store.checksums.includes('md5'),
    feature: () => 'MD5',
  },
];

async function hash(session: FtpSession, argument: string): Promise<void> {
  const algorithm = session.state.hashAlgorithm;
  const result = await checksumOf(session, argument, algorithm);
  session.reply(213, `${hashName(algorithm)} ${result.start}-${result.end} ${result.digest.toString('hex')} ${argument}`);
}

/** XCRC and friends: "<path>" or "<path> <start> <end>" (end exclusive, as ProFTPD). */
async function xChecksum(session: FtpSession, argument: string, algorithm: ChecksumAlgorithm): Promise<void> {
  const ranged = /^(.*\S)\s+(\d{1,15})\s+(\d{1,15})$/.exec(argument);
  let path = argument;
  let range: { start: number; end: number } | undefined;
  if (ranged) {
    path = ranged[1] ?? '';
    range = { start: Number(ranged[2]), end: Number(ranged[3]) };
    if (range.start >= range.end) throw new ReplyError(501, 'The end must be greater than the start.');
  }
  const result = await checksumOf(session, path, algorithm, range);
  session.reply(250, result.digest.toString('hex').toUpperCase());
}

async function md5(session: FtpSession, argument: string): Promise<void> {
  const result = await checksumOf(session, argument, 'md5');
  session.reply(251, `${argument} ${result.digest.toString('hex').toUpperCase()}`);
}

async function checksumOf(
  session: FtpSession,
  argument: string,
  algorithm: ChecksumAlgorithm,
  range?: { readonly start: number; readonly end: number },
): Promise<ChecksumResult> {
  const target = session.resolve(argument);
  const user = session.requireUser().username;
  const allowance = session.services.allowances.checksumReadBytes;
  const startedAt = Date.now();
  let result: ChecksumResult;
  // Reading a file to hash it costs storage requests, bytes and CPU: within the user's allowance,
  // so repeating it (other algorithms, other ranges, many sessions) is bounded.
  const beforeRead = (bytes: number): void =>
    allowance.spendOrRefuse({
      user,
      amount: bytes,
      refused: `Checksum not computed: it needs ${bytes} bytes read`,
      logFields: { path: target.path, bytes },
      log: session.log,
    });
  try {
    result = await session.services.store.checksum(target.storePath, { algorithm, range, signal: session.closedSignal, beforeRead });
  } catch (error) {
    if (isStorageError(error, 'invalid-offset')) throw new ReplyError(501, 'The range is outside the file.');
    if (isStorageError(error, 'not-found') || isStorageError(error, 'invalid-name')) {
      // The draft's answer for a folder is 553; a missing file is 550.
      if ((await session.stat(target))?.kind === 'directory') throw new ReplyError(553, 'Not a file: folders have no checksum.');
      throw new ReplyError(REPLIES.noSuchFile);
    }
    throw error;
  }
  session.log.info({
    event: 'checksum',
    path: target.path,
    algorithm,
    source: result.source,
    bytes: result.end - result.start,
    ms: Date.now() - startedAt,
  });
  return result;
}
