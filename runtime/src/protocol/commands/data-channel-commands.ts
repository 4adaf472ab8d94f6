import { isIPv4 } from 'node:net';
import type { CommandSpec, FtpSession } from '../command-handler.ts';
import { ReplyError } from '../reply.ts';
import { protocolNotSupported, REPLIES } from '../replies.ts';

/**
 * PASV/EPSV reserve a port of the shared passive range for this client's address;
 * PORT/EPRT (only with FTP_ACTIVE_MODE=on) accept nothing but the control
 * connection's own client address and ports >= 1024, so the server can never be
 * used to bounce connections elsewhere (RFC 2577).
 */
export const DATA_CHANNEL_COMMANDS: readonly CommandSpec[] = [
  { verb: 'PASV', handler: pasv, login: true, argument: 'none', syntax: 'PASV' },
  { verb: 'EPSV', handler: epsv, login: true, argument: 'optional', syntax: 'EPSV [1 | 2 | ALL]', feature: () => 'EPSV' },
  { verb: 'PORT', handler: port, login: true, argument: 'required', syntax: 'PORT h1,h2,h3,h4,p1,p2' },
  {
    verb: 'EPRT',
    handler: eprt,
    login: true,
    argument: 'required',
    syntax: 'EPRT |proto|address|port|',
    feature: (s) => (s.services.settings.activeMode ? 'EPRT' : undefined),
  },
];

async function reservePassivePort(session: FtpSession): Promise<number> {
  session.data.clear();
  const reservation = await session.services.passivePorts.reserve(session.clientAddress, {
    timeoutMs: session.services.settings.dataConnectionTimeoutMs,
  });
  session.data.usePassive(reservation);
  return reservation.port;
}

async function pasv(session: FtpSession): Promise<void> {
  if (session.state.epsvAll) throw new ReplyError(REPLIES.epsvAllInEffect);
  const address = session.services.settings.passiveAddress ?? session.localAddress;
  if (!isIPv4(address)) throw new ReplyError(522, 'PASV needs IPv4; use EPSV (2).');
  const port = await reservePassivePort(session);
  const numbers = [...address.split('.'), String(port >> 8), String(port & 0xff)].join(',');
  session.reply(227, `Entering Passive Mode (${numbers}).`);
}

async function epsv(session: FtpSession, argument: string): Promise<void> {
  const value = argument.trim().toUpperCase();
  if (value === 'ALL') {
    session.state.epsvAll = true;
    return session.reply(200, 'EPSV ALL ok.');
  }
  if (value !== '' && !/^\d+$/.test(value)) throw new ReplyError(501, 'Syntax: EPSV [1 | 2 | ALL]');
  if (value !== '' && value !== controlProtocol(session)) {
    throw new ReplyError(protocolNotSupported(controlProtocol(session)));
  }
  const port = await reservePassivePort(session);
  session.reply(229, `Entering Extended Passive Mode (|||${port}|).`);
}

function port(session: FtpSession, argument: string): void {
  const parts = argument.trim().split(',');
  if (parts.length !== 6 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) {
    throw new ReplyError(501, 'Syntax: PORT h1,h2,h3,h4,p1,p2');
  }
  const host = parts.slice(0, 4).map(Number).join('.');
  setActiveEndpoint(session, host, Number(parts[4]) * 256 + Number(parts[5]));
  session.reply(200, 'PORT command successful.');
}

function eprt(session: FtpSession, argument: string): void {
  const delimiter = argument.trim()[0];
  const fields = delimiter ? argument.trim().split(delimiter) : [];
  // "|1|192.0.2.1|6446|" splits into ['', '1', '192.0.2.1', '6446', '']
  if (fields.length !== 5 || !['1', '2'].includes(fields[1]!) || !/^\d{1,5}$/.test(fields[3]!)) {
    throw new ReplyError(501, 'Syntax: EPRT |proto|address|port|');
  }
  if (fields[1] !== controlProtocol(session)) {
    throw new ReplyError(protocolNotSupported(controlProtocol(session)));
  }
  setActiveEndpoint(session, fields[2]!, Number(fields[3]));
  session.reply(200, 'EPRT command successful.');
}

function setActiveEndpoint(session: FtpSession, host: string, portNumber: number): void {
  if (!session.services.settings.activeMode) {
    throw new ReplyError(502, 'Active mode is disabled on this server; use PASV or EPSV.');
  }
  if (session.state.epsvAll) throw new ReplyError(REPLIES.epsvAllInEffect);
  if (host !== session.clientAddress) {
    throw new ReplyError(501, 'Active mode connects only to the address of the control connection.');
  }
  if (portNumber < 1024 || portNumber > 65535) throw new ReplyError(501, 'Active mode needs a port from 1024 to 65535.');
  session.data.useActive(host, portNumber);
}

function controlProtocol(session: FtpSession): '1' | '2' {
  return isIPv4(session.localAddress) ? '1' : '2';
}
