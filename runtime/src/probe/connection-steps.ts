import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describeReply, unexpectedReply, type FtpControl, type FtpReply } from './ftp-control.ts';
import { explainFailedImplicitTls, explainSilentPort } from './port-diagnosis.ts';
import { ProbeError } from './probe-error.ts';
import type { StepOutcome } from './probe-report.ts';
import { NOT_OFFERED, type ProbeSession } from './probe-session.ts';
import { connectTcp, formatHostPort } from './tcp-connect.ts';
import { certificateSummary, EXPIRY_WARNING_DAYS, inspectTls, verificationProblem } from './tls-inspection.ts';

/**
 * The steps of the control connection: TCP connect, implicit TLS, greeting, AUTH TLS,
 * the certificate, FEAT, login, PBSZ/PROT, PWD and CWD, and QUIT.
 */

export async function connectStep(probe: ProbeSession): Promise<Socket> {
  const { target, timeoutMs } = probe.options;
  return await probe.step('connect', async (step) => {
    step.rule = {
      kind: target.security === 'implicit-tls' ? 'implicit-tls' : 'control',
      ports: { from: target.port, to: target.port },
      bridge: target.host,
    };
    const tcp = await connectTcp({ host: target.host, port: target.port, timeoutMs, what: `TCP connect to ${formatHostPort(target.host, target.port)}` });
    probe.track(tcp.socket);
    probe.controlAddress = tcp.address;
    const resolved = tcp.address === target.host ? '' : ` (${target.host} resolved in ${Math.round(tcp.resolveMs)} ms)`;
    return {
      summary: `${formatHostPort(tcp.address, tcp.port)}${resolved}, from ${tcp.socket.localAddress}`,
      details: { address: tcp.address, port: tcp.port, resolveMs: Math.round(tcp.resolveMs), localAddress: tcp.socket.localAddress ?? null },
      value: tcp.socket,
    };
  });
}

export async function implicitTlsStep(probe: ProbeSession, socket: Socket): Promise<TLSSocket> {
  return await probe.step('tls', async () => {
    let secure: TLSSocket;
    try {
      secure = await probe.handshake(socket, 'implicit TLS handshake');
    } catch (error) {
      throw await explainFailedImplicitTls(error, probe.secondConnection());
    }
    probe.track(secure);
    return { summary: `${secure.getProtocol()} ${secure.getCipher().name}`, value: secure };
  });
}

export async function bannerStep(probe: ProbeSession, control: FtpControl): Promise<void> {
  await probe.step('banner', async () => {
    let reply: FtpReply;
    try {
      reply = await control.read('greeting');
      // 120: "service ready in nnn minutes"; the real greeting follows.
      if (reply.code === 120) reply = await control.read('greeting after 120');
    } catch (error) {
      if (error instanceof ProbeError && error.kind === 'timeout' && probe.options.target.security !== 'implicit-tls') {
        throw await explainSilentPort(error, { ...probe.secondConnection(), handshake: (socket) => probe.handshake(socket, 'TLS probe') });
      }
      throw error;
    }
    if (reply.code !== 220) throw unexpectedReply('greeting', reply);
    return { summary: describeReply(reply), value: undefined };
  });
}

export async function authTlsStep(probe: ProbeSession, control: FtpControl): Promise<TLSSocket> {
  return await probe.step('auth-tls', async () => {
    const reply = await control.command('AUTH TLS');
    if (reply.code !== 234 && reply.code !== 334) {
      throw new ProbeError('tls-not-offered', `AUTH TLS refused: ${describeReply(reply)}`);
    }
    probe.untrack(control.socket);
    const secure = await control.startTls(probe.tlsOptions('TLS handshake after AUTH TLS'));
    probe.track(secure);
    return { summary: `${reply.code} ${reply.text}; ${secure.getProtocol()} ${secure.getCipher().name}`, value: secure };
  });
}

export async function certificateStep(probe: ProbeSession, secure: TLSSocket): Promise<void> {
  const { target, insecure, ca } = probe.options;
  await probe.step('certificate', async (step) => {
    const report = inspectTls(secure, target.host);
    probe.tls = report;
    const summary = certificateSummary(report);
    const problem = verificationProblem(report, target.host);
    if (problem && !insecure) {
      step.note(summary);
      throw new ProbeError('tls-untrusted', `the certificate does not verify: ${problem}`);
    }
    if (problem) step.warn(`not verified: ${problem} (--insecure: going on)`);
    else step.note(`verified against the system CAs${ca.length > 0 ? ' and --ca' : ''} for ${target.host}`);
    const days = report.certificate.daysLeft;
    if (days >= 0 && days < EXPIRY_WARNING_DAYS) step.warn(`the certificate expires in ${days} days`);
    return { summary, value: undefined };
  });
}

export async function featStep(probe: ProbeSession, control: FtpControl): Promise<void> {
  await probe.step('feat', async () => {
    const reply = await control.command('FEAT');
    if (NOT_OFFERED.has(reply.code)) return { summary: `no FEAT: ${describeReply(reply)}`, value: undefined, outcome: 'skipped' };
    if (reply.code !== 211) throw unexpectedReply('FEAT', reply);
    const features = reply.lines.slice(1, -1).map((line) => line.trim()).filter((line) => line !== '');
    return { summary: features.join(', ') || '(none)', details: { features }, value: undefined };
  });
}

export async function loginStep(probe: ProbeSession, control: FtpControl): Promise<void> {
  const { target, password } = probe.options;
  await probe.step('login', async () => {
    const secure = target.security !== 'plain';
    const user = await control.command(`USER ${target.username}`);
    let final = user;
    if (user.code === 331) final = await control.command(`PASS ${password}`);
    if (final.code === 230 || final.code === 202) return { summary: `${target.username}: ${describeReply(final)}`, value: undefined };
    if (final.code === 530 && !secure && (final === user || /TLS|SSL|encrypt/i.test(final.text))) {
      throw new ProbeError('tls-required', `the server refuses to log in over plain FTP: ${describeReply(final)}`);
    }
    if (final.code === 530) {
      throw new ProbeError('login', `${final === user ? 'USER' : 'PASS'} refused for ${target.username}: ${describeReply(final)}`);
    }
    throw unexpectedReply(final === user ? 'USER' : 'PASS', final);
  });
}

export async function protectionStep(probe: ProbeSession, control: FtpControl): Promise<void> {
  await probe.step('protection', async () => {
    await probe.expect(control, 'PBSZ 0', [200]);
    const prot = await probe.expect(control, 'PROT P', [200]);
    probe.protectedData = true;
    return { summary: `PBSZ 0, PROT P: ${prot.text}`, value: undefined };
  });
}

/** PWD, then CWD to the URL's folder when it names one. */
export async function folderSteps(probe: ProbeSession, control: FtpControl): Promise<void> {
  const { target } = probe.options;
  await probe.step('pwd', async () => {
    const reply = await probe.expect(control, 'PWD', [257]);
    return { summary: describeReply(reply), value: undefined };
  });
  if (target.path !== '') {
    await probe.step('cwd', async () => {
      const reply = await probe.expect(control, `CWD ${target.path}`, [250]);
      return { summary: describeReply(reply), value: undefined };
    });
  }
}

/** QUIT: a failure here is only a warning, the walk is over anyway. */
export async function quitStep(probe: ProbeSession, control: FtpControl): Promise<void> {
  const started = performance.now();
  let summary: string;
  let outcome: StepOutcome = 'ok';
  try {
    summary = describeReply(await control.command('QUIT'));
  } catch (error) {
    summary = (error as Error).message;
    outcome = 'warning';
  }
  probe.recorder.record({ step: 'quit', outcome, ms: Math.round(performance.now() - started), summary, details: {}, notes: [] });
}
