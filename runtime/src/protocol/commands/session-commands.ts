import type { LoginFailure } from '../../auth/user.ts';
import { isOffered, type CommandSpec, type FtpSession } from '../command-handler.ts';
import { formatListLine, MLST_FACTS, type MlstFact } from '../listing-format.ts';
import { optsHash } from '../hash-algorithms.ts';
import type { User } from '../../auth/user.ts';
import type { SessionAdmission } from '../connection-limits.ts';
import { reply, ReplyError } from '../reply.ts';
import { REPLIES } from '../replies.ts';
import type { AuditActivity } from '../audit-activity.ts';

/** STAT <path> lists over the control connection, in one reply: at most this many entries. */
const STAT_MAX_ENTRIES = 1000;

/** Login, session parameters, and the commands that describe the server. */
export const SESSION_COMMANDS: readonly CommandSpec[] = [
  { verb: 'USER', handler: user, login: false, argument: 'required', syntax: 'USER <username>', secureControl: true },
  { verb: 'PASS', handler: pass, login: false, argument: 'optional', syntax: 'PASS <password>', secureControl: true },
  { verb: 'ACCT', login: false, argument: 'required', syntax: 'ACCT <account> (not implemented)' },
  { verb: 'QUIT', handler: quit, login: false, argument: 'none', syntax: 'QUIT' },
  { verb: 'REIN', handler: rein, login: false, argument: 'none', syntax: 'REIN' },
  { verb: 'NOOP', handler: (s) => s.reply(200, 'NOOP ok.'), login: false, argument: 'optional', syntax: 'NOOP' },
  { verb: 'SYST', handler: (s) => s.reply(215, 'UNIX Type: L8'), login: false, argument: 'none', syntax: 'SYST' },
  { verb: 'FEAT', handler: feat, login: false, argument: 'none', syntax: 'FEAT' },
  {
    verb: 'OPTS',
    handler: opts,
    login: false,
    argument: 'required',
    syntax: 'OPTS UTF8 ON | OPTS MLST <facts> | OPTS HASH [<algorithm>]',
    feature: () => 'UTF8',
  },
  { verb: 'HELP', handler: help, login: false, argument: 'optional', syntax: 'HELP [<command>]' },
  {
    verb: 'STAT',
    handler: stat,
    login: false,
    argument: 'optional',
    syntax: 'STAT [<path>]',
    duringTransfer: true,
    withArgument: { login: true, permission: 'list' },
  },
  { verb: 'CLNT', handler: clnt, login: false, argument: 'optional', syntax: 'CLNT <client name>' },
  // S3 has no free space to report: AVBL answers with what the partner's quotaBytes leaves.
  { verb: 'AVBL', handler: avbl, login: true, argument: 'optional', syntax: 'AVBL [<path>]', feature: () => 'AVBL' },
  { verb: 'TYPE', handler: type, login: true, argument: 'required', syntax: 'TYPE A | I' },
  { verb: 'MODE', handler: mode, login: true, argument: 'required', syntax: 'MODE S' },
  { verb: 'STRU', handler: stru, login: true, argument: 'required', syntax: 'STRU F' },
  {
    verb: 'ALLO',
    handler: (s) => s.reply(202, 'No storage allocation necessary.'),
    login: true,
    argument: 'required',
    syntax: 'ALLO <bytes>',
  },
];

function user(session: FtpSession, argument: string): void {
  if (session.state.user) {
    session.log.info({ event: 'logout', reason: 'USER while logged in' });
    session.reinitialize();
  }
  session.state.pendingUsername = argument;
  session.reply(331, 'Password required.');
}

async function pass(session: FtpSession, argument: string): Promise<void> {
  if (session.state.user) throw new ReplyError(503, 'Already logged in.');
  const username = session.state.pendingUsername;
  if (username === undefined) throw new ReplyError(503, 'Send USER first.');
  session.state.pendingUsername = undefined;
  const result = await session.services.authenticator.login({
    username,
    password: argument,
    clientAddress: session.clientAddress,
    signal: session.closedSignal,
  });
  // The client left while its password was being checked: nothing to answer or log.
  if (session.closedSignal.aborted) return;
  // Too many checks waiting: told at once, instead of waiting towards the login timeout
  // (logged by the authenticator, rate-limited: no guess was checked).
  if (!result.ok && result.reason === 'busy') return session.close(REPLIES.loginsBusy);
  if (!result.ok) {
    session.log.info({ event: 'login', activity: 'AUTH_FAILURE' satisfies AuditActivity, outcome: 'failed', username, reason: result.reason });
    throw refusedLogin(result.reason, session.clientAddress);
  }
  const admission = await admitSession(session, result.user);
  if (session.closedSignal.aborted) {
    if (admission?.ok) await admission.lease?.release().catch(() => undefined);
    return;
  }
  if (admission?.ok === false) {
    session.log.info({ event: 'login', activity: 'AUTH_FAILURE' satisfies AuditActivity, outcome: 'refused', username, reason: 'partner-session-limit', sessions: admission.holders, maxSessions: admission.limit });
    return session.close(reply(421, `Too many sessions for ${username}: ${admission.limit} at most at once; try again later.`));
  }
  session.loggedIn(result.user, admission?.ok ? admission.lease : undefined);
  session.log.info({ event: 'login', activity: 'CONNECTED' satisfies AuditActivity, outcome: 'ok', username, secure: session.state.secure });
  session.reply(230, 'Login successful.');
}

/**
 * The partner's maxSessions place. The shared state out of reach admits the session
 * (logged): a partner is not locked out by a DynamoDB outage; the limit resumes with it.
 */
async function admitSession(session: FtpSession, user: User): Promise<SessionAdmission | undefined> {
  try {
    return await session.services.connections.admitSession(user.username, user.limits?.maxSessions);
  } catch (error) {
    session.log.warn({ event: 'shared-state-error', use: 'session-lease', err: error }, 'maxSessions not checked: shared state unavailable');
    return undefined;
  }
}

/** AVBL (draft-peterson-streamlined-ftp-command-extensions): the bytes the partner's quota leaves. */
async function avbl(session: FtpSession, argument: string): Promise<void> {
  const user = session.requireUser();
  if (argument.trim() !== '') {
    const entry = await session.stat(session.resolve(argument.trim()));
    if (entry?.kind !== 'directory') throw new ReplyError(550, 'No such folder.');
  }
  const quotaBytes = user.limits?.quotaBytes;
  const ledger = session.services.quota;
  if (quotaBytes === undefined || ledger === undefined) throw new ReplyError(550, 'No byte quota: the space is not limited.');
  const usage = await ledger.usage(user.username, user.home);
  session.reply(213, String(Math.max(0, quotaBytes - usage.bytes - usage.pendingBytes)));
}

async function quit(session: FtpSession): Promise<void> {
  session.close({ code: 221, lines: ['Goodbye.'] });
}

function rein(session: FtpSession): void {
  session.reinitialize();
  session.reply(220, 'Service ready for new user.');
}

function feat(session: FtpSession): void {
  const features = new Set<string>();
  for (const spec of session.commands.values()) {
    if (!isOffered(spec, session.services.store.capabilities)) continue;
    const line = spec.feature?.(session);
    if (line) features.add(line);
  }
  session.reply(211, 'Features:', ...[...features].sort(), 'End');
}

function opts(session: FtpSession, argument: string): void {
  const [option = '', ...rest] = argument.trim().split(/\s+/);
  const value = rest.join(' ');
  switch (option.toUpperCase()) {
    case 'UTF8':
    case 'UTF-8':
      if (value === '' || value.toUpperCase() === 'ON') return session.reply(200, 'Always in UTF8 mode.');
      throw new ReplyError(504, 'UTF8 cannot be turned off.');
    case 'MLST': {
      const wanted = value
        .split(';')
        .map((fact) => fact.trim().toLowerCase())
        .filter((fact): fact is MlstFact => (MLST_FACTS as readonly string[]).includes(fact));
      session.state.mlstFacts = new Set(wanted);
      return session.reply(200, `MLST OPTS ${wanted.map((fact) => `${fact};`).join('')}`);
    }
    case 'HASH':
      return optsHash(session, value);
    default:
      throw new ReplyError(501, `Option ${JSON.stringify(option.slice(0, 16))} not understood.`);
  }
}

function help(session: FtpSession, argument: string): void {
  const verb = argument.trim().toUpperCase();
  if (verb !== '') {
    const spec = session.commands.get(verb);
    if (!spec) throw new ReplyError(502, `Unknown command ${JSON.stringify(verb.slice(0, 16))}.`);
    return session.reply(214, `Syntax: ${spec.syntax}`);
  }
  const { capabilities } = session.services.store;
  const verbs = [...session.commands.values()].filter((spec) => isOffered(spec, capabilities)).map((spec) => spec.verb);
  const rows: string[] = [];
  for (let index = 0; index < verbs.length; index += 8) rows.push(verbs.slice(index, index + 8).join(' '));
  session.reply(214, 'The following commands are recognized:', ...rows, 'Help OK.');
}

async function stat(session: FtpSession, argument: string): Promise<void> {
  if (argument.trim() === '' || session.transferStatus !== undefined) {
    const transfer = session.transferStatus;
    const lines = [
      'ftp-s3-bridge status:',
      `Connected from ${session.clientAddress}`,
      session.state.user ? `Logged in as ${session.state.user.username}` : 'Not logged in',
      `TYPE: ${session.state.transferType === 'A' ? 'ASCII' : 'BINARY'}; STRUcture: File; transfer MODE: Stream`,
      `Control connection: ${session.state.secure ? 'TLS' : 'clear'}; data connections: ${session.state.protection === 'P' ? 'TLS' : 'clear'}`,
    ];
    if (transfer) lines.push(`${transfer.command} ${transfer.path}: ${transfer.bytes} bytes transferred`);
    return session.reply(transfer ? 213 : 211, ...lines, 'End of status');
  }
  // STAT <path>: a LIST over the control connection (RFC 959 4.1.3).
  const target = session.resolve(argument.trim());
  const entry = await session.stat(target);
  if (!entry) throw new ReplyError(REPLIES.noSuchFileOrFolder);
  const now = new Date();
  const permissions = session.requireUser().permissions;
  const lines: string[] = [];
  if (entry.kind === 'file') lines.push(formatListLine(entry, permissions, now));
  else {
    // One reply is written at once: keep it small, LIST streams the rest.
    listing: for await (const page of session.services.store.list(target.storePath, { owner: session.requireUser().username })) {
      for (const child of page) {
        if (lines.length === STAT_MAX_ENTRIES) {
          lines.push(`(more than ${STAT_MAX_ENTRIES} entries: use LIST for all of them)`);
          break listing;
        }
        lines.push(formatListLine(child, permissions, now));
      }
    }
  }
  session.reply(213, `Status of ${target.path}:`, ...lines, 'End of status');
}

function clnt(session: FtpSession, argument: string): void {
  session.log.info({ event: 'client-name', client: argument.slice(0, 100) });
  session.reply(200, 'Noted.');
}

function type(session: FtpSession, argument: string): void {
  const [code = '', parameter = ''] = argument.trim().toUpperCase().split(/\s+/);
  if (code === 'I' || (code === 'L' && parameter === '8')) {
    session.state.transferType = 'I';
    return session.reply(200, 'Switching to Binary mode.');
  }
  if (code === 'A' && (parameter === '' || parameter === 'N')) {
    session.state.transferType = 'A';
    return session.reply(200, 'Switching to ASCII mode.');
  }
  if (code === 'A' || code === 'E' || code === 'L') throw new ReplyError(504, 'Type not supported.');
  throw new ReplyError(501, 'Unknown type.');
}

function mode(session: FtpSession, argument: string): void {
  const value = argument.trim().toUpperCase();
  if (value === 'S') return session.reply(200, 'Mode set to S.');
  if (value === 'B' || value === 'C' || value === 'Z') throw new ReplyError(504, 'Only stream mode (S) is supported.');
  throw new ReplyError(501, 'Unknown mode.');
}

function stru(session: FtpSession, argument: string): void {
  const value = argument.trim().toUpperCase();
  if (value === 'F') return session.reply(200, 'Structure set to F.');
  if (value === 'R' || value === 'P') throw new ReplyError(504, 'Only file structure (F) is supported.');
  throw new ReplyError(501, 'Unknown structure.');
}


/**
 * 530 for a failed login. The right password from a refused address, or for a disabled
 * or expired account, is told why (otherwise the partner's operator sees only "Login
 * incorrect" and the reason sits in our log); a guesser never proves the password, so
 * it learns nothing it could use.
 */
function refusedLogin(reason: LoginFailure, clientAddress: string): ReplyError {
  switch (reason) {
    case 'address-not-allowed':
      return new ReplyError(530, `Login refused: this account does not allow your address ${clientAddress} (its allowFrom list).`);
    case 'disabled':
      return new ReplyError(530, 'Login refused: this account is disabled.');
    case 'expired':
      return new ReplyError(530, 'Login refused: this account has expired.');
    default:
      return new ReplyError(530, 'Login incorrect.');
  }
}
