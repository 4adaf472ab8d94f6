import type { CommandSpec, FtpSession } from '../command-handler.ts';
import { ReplyError } from '../reply.ts';

/** RFC 2228 / RFC 4217: explicit FTPS. */
export const SECURITY_COMMANDS: readonly CommandSpec[] = [
  {
    verb: 'AUTH',
    handler: auth,
    login: false,
    argument: 'required',
    syntax: 'AUTH TLS',
    feature: (s) => (tlsOffered(s) ? 'AUTH TLS' : undefined),
  },
  {
    verb: 'PBSZ',
    handler: pbsz,
    login: false,
    argument: 'required',
    syntax: 'PBSZ 0',
    feature: (s) => (tlsOffered(s) ? 'PBSZ' : undefined),
  },
  {
    verb: 'PROT',
    handler: prot,
    login: false,
    argument: 'required',
    syntax: 'PROT P | C',
    feature: (s) => (tlsOffered(s) ? 'PROT' : undefined),
  },
  { verb: 'CCC', handler: ccc, login: false, argument: 'none', syntax: 'CCC' },
];

/** TLS is configured (its certificate may still be on its way: AUTH then answers 431). */
function tlsOffered(session: FtpSession): boolean {
  return session.services.settings.tlsMode !== 'off';
}

async function auth(session: FtpSession, argument: string): Promise<void> {
  const mechanism = argument.trim().toUpperCase();
  if (!tlsOffered(session)) throw new ReplyError(502, 'TLS is not enabled on this server.');
  if (!['TLS', 'TLS-C', 'SSL', 'TLS-P'].includes(mechanism)) throw new ReplyError(504, 'Unsupported security mechanism.');
  if (session.state.secure) throw new ReplyError(503, 'The control connection is already protected.');
  if (session.state.user) throw new ReplyError(503, 'AUTH must come before login.');
  // Per RFC 4217, AUTH resets the data protection state; 'SSL' and 'TLS-P' are the
  // old draft names that also implied a protected data channel.
  session.state.pbszDone = false;
  session.state.protection = mechanism === 'SSL' || mechanism === 'TLS-P' ? 'P' : 'C';
  await session.upgradeControlToTls();
}

function pbsz(session: FtpSession, argument: string): void {
  if (!session.state.secure) throw new ReplyError(503, 'PBSZ needs a protected control connection (AUTH TLS).');
  if (!/^\d+$/.test(argument.trim())) throw new ReplyError(501, 'PBSZ takes a number.');
  session.state.pbszDone = true;
  session.reply(200, 'PBSZ=0');
}

function prot(session: FtpSession, argument: string): void {
  if (!session.state.secure) throw new ReplyError(503, 'PROT needs a protected control connection (AUTH TLS).');
  if (!session.state.pbszDone) throw new ReplyError(503, 'Send PBSZ first.');
  switch (argument.trim().toUpperCase()) {
    case 'P':
      session.state.protection = 'P';
      return session.reply(200, 'Data connections will be protected.');
    case 'C':
      if (session.services.settings.tlsMode === 'required') {
        throw new ReplyError(534, 'Clear data connections are refused by server policy.');
      }
      session.state.protection = 'C';
      return session.reply(200, 'Data connections will be in clear.');
    case 'S':
    case 'E':
      throw new ReplyError(536, 'Only PROT P and PROT C are supported.');
    default:
      throw new ReplyError(504, 'Unknown protection level.');
  }
}

function ccc(session: FtpSession): void {
  session.reply(534, 'The control connection stays protected (policy).');
}
