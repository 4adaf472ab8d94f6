import type { Socket } from 'node:net';
import { addressScope } from './address-scope.ts';
import { describeReply, unexpectedReply, type FtpControl, type FtpReply } from './ftp-control.ts';
import { parseEpsvReply, parsePasvReply } from './passive-reply.ts';
import { ProbeError } from './probe-error.ts';
import type { StepName } from './probe-report.ts';
import { NOT_OFFERED, type ProbeSession } from './probe-session.ts';
import type { StepContext } from './probe-steps.ts';
import { connectTcp, formatHostPort } from './tcp-connect.ts';

/** A passive endpoint: where the server said to connect. */
interface PassiveEndpoint {
  readonly mode: 'EPSV' | 'PASV';
  readonly host: string;
  readonly port: number;
}

/** EPSV and PASV, each with a data connection and a LIST over it. */
export async function passiveSteps(probe: ProbeSession, control: FtpControl): Promise<void> {
  const epsv = await probe.step('epsv', async () => {
    const reply = await control.command('EPSV');
    if (NOT_OFFERED.has(reply.code)) return { summary: `not offered: ${describeReply(reply)}`, value: undefined, outcome: 'skipped' };
    if (reply.code !== 229) throw unexpectedReply('EPSV', reply);
    const port = parseEpsvReply(reply.text);
    probe.epsv = true;
    return { summary: `port ${port} (at the control connection's address)`, details: { port }, value: { mode: 'EPSV', host: probe.controlAddress, port } as const };
  });
  if (epsv) await listSteps(probe, control, epsv, 'epsv-connect', 'epsv-list');
  const pasv = await probe.step('pasv', async (step) => {
    const reply = await control.command('PASV');
    if (NOT_OFFERED.has(reply.code) && !epsv) {
      throw new ProbeError('reply', `the server offers neither EPSV nor PASV (${describeReply(reply)}): no passive data connections`);
    }
    if (NOT_OFFERED.has(reply.code)) return { summary: `not offered: ${describeReply(reply)}`, value: undefined, outcome: 'skipped' };
    if (reply.code !== 227) throw unexpectedReply('PASV', reply);
    const endpoint = pasvEndpoint(probe, reply, step);
    return { summary: formatHostPort(endpoint.host, endpoint.port), details: { address: endpoint.host, port: endpoint.port }, value: endpoint };
  });
  if (pasv) await listSteps(probe, control, pasv, 'pasv-connect', 'pasv-list');
}

/** A passive data connection for a later step (--write): EPSV when it worked, PASV otherwise. */
export async function openPassive(probe: ProbeSession, control: FtpControl, step: StepContext): Promise<Socket> {
  const mode = probe.epsv ? 'EPSV' : 'PASV';
  const reply = await probe.expect(control, mode, [mode === 'EPSV' ? 229 : 227]);
  const endpoint: PassiveEndpoint =
    mode === 'EPSV' ? { mode, host: probe.controlAddress, port: parseEpsvReply(reply.text) } : pasvEndpoint(probe, reply, step);
  return await connectData(probe, endpoint, step);
}

/** The address in a 227 reply, with warnings when it is not where the control connection went. */
function pasvEndpoint(probe: ProbeSession, reply: FtpReply, step: StepContext): PassiveEndpoint {
  const announced = parsePasvReply(reply.text);
  const control = probe.controlAddress;
  if (announced.host === '0.0.0.0') {
    step.warn(`PASV announces 0.0.0.0; the probe connects to the control connection's address ${control} instead, as most clients do`);
    return { mode: 'PASV', host: control, port: announced.port };
  }
  if (announced.host !== control) {
    const announcedScope = addressScope(announced.host);
    const unreachable = announcedScope !== 'public' && addressScope(control) === 'public';
    step.warn(
      `PASV announces ${announced.host}, but the control connection went to ${control}` +
        (unreachable ? `: a ${announcedScope} address, which clients outside the server's network cannot reach` : ''),
    );
  }
  return { mode: 'PASV', ...announced };
}

/** TCP (and TLS, with PROT P) to a passive endpoint, then LIST over it. */
async function listSteps(probe: ProbeSession, control: FtpControl, endpoint: PassiveEndpoint, connectName: StepName, listName: StepName): Promise<void> {
  const data = await probe.step(connectName, async (step) => {
    const socket = await connectData(probe, endpoint, step);
    return { summary: `${formatHostPort(endpoint.host, endpoint.port)} from ${formatHostPort(socket.localAddress ?? '', socket.localPort ?? 0)}`, value: socket };
  });
  await probe.step(listName, async () => {
    const result = await probe.transfer(control, 'LIST', data, {});
    const entries = result.data.toString('utf8').split(/\r?\n/).filter((line) => line.trim() !== '').length;
    return {
      summary: `${entries} entr${entries === 1 ? 'y' : 'ies'}, ${result.bytes} bytes${result.tls}; ${describeReply(result.final)}`,
      details: { entries, bytes: result.bytes },
      value: undefined,
    };
  });
}

async function connectData(probe: ProbeSession, endpoint: PassiveEndpoint, step: StepContext): Promise<Socket> {
  const { timeoutMs, passiveRange } = probe.options;
  step.rule = { kind: 'passive', ports: passiveRange ?? { from: endpoint.port, to: endpoint.port }, bridge: endpoint.host };
  if (!passiveRange) {
    step.advice.push(
      `Port ${endpoint.port} is the one the server offered this time: the server's whole passive range must be open (its operator knows it; --passive-range names it here).`,
    );
  }
  try {
    const tcp = await connectTcp({ host: endpoint.host, port: endpoint.port, timeoutMs, what: `data connection to ${formatHostPort(endpoint.host, endpoint.port)} (${endpoint.mode})` });
    probe.track(tcp.socket);
    return tcp.socket;
  } catch (error) {
    if (endpoint.host !== probe.controlAddress && error instanceof ProbeError) {
      await tryControlAddress(probe, endpoint, step);
    }
    throw error;
  }
}

/** After a failed PASV address: does the same port answer where the control connection went? */
async function tryControlAddress(probe: ProbeSession, endpoint: PassiveEndpoint, step: StepContext): Promise<void> {
  const control = probe.controlAddress;
  try {
    const tcp = await connectTcp({ host: control, port: endpoint.port, timeoutMs: probe.options.timeoutMs, what: 'control address' });
    tcp.socket.destroy();
    step.note(`${formatHostPort(control, endpoint.port)} (the control connection's address, same port) accepts`);
    step.findings.push(
      `The address in the PASV reply is wrong: the same port accepts at ${control}, where the control connection went. Set the server's passive address (ftp-s3-bridge: FTP_PASSIVE_ADDRESS; vsftpd: pasv_address) to the address clients reach it at, or unset it; clients that use EPSV are not affected.`,
    );
  } catch (error) {
    step.note(`${formatHostPort(control, endpoint.port)} (the control connection's address) does not accept either: ${(error as Error).message}`);
  }
}
