import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { addressScope } from './address-scope.ts';
import { describeReply, FtpControl, unexpectedReply, type FtpReply } from './ftp-control.ts';
import { ACTIVE_MODE_CLIENT_PORTS, type PartnerPorts } from './partner-rules.ts';
import { parseEpsvReply, parsePasvReply } from './passive-reply.ts';
import { explainFailedImplicitTls, explainSilentPort, type SecondConnection } from './port-diagnosis.ts';
import { ProbeError, seconds } from './probe-error.ts';
import type { ProbeReport, StepName, StepOutcome } from './probe-report.ts';
import { StepRecorder, StopProbe, type StepContext, type StepResult } from './probe-steps.ts';
import type { ProbeTarget } from './probe-target.ts';
import { connectTcp, formatHostPort } from './tcp-connect.ts';
import { clientTlsHandshake } from './tls-handshake.ts';
import { certificateSummary, EXPIRY_WARNING_DAYS, inspectTls, verificationProblem } from './tls-inspection.ts';
import { runTransferCommand } from './transfer-command.ts';

export interface ProbeOptions {
  readonly target: ProbeTarget;
  readonly password: string;
  /** How long each step may wait for an answer. */
  readonly timeoutMs: number;
  /** Go on when the certificate does not verify (reported as a warning). */
  readonly insecure: boolean;
  /** Extra trusted CA certificates (PEM). */
  readonly ca: readonly string[];
  /** STOR, SIZE, RETR, DELE of a small file in the target folder. */
  readonly write: boolean;
  /** An active-mode LIST (EPRT/PORT to a listener of the probe). */
  readonly active: boolean;
  /** The server's whole passive range, when known, so advice can name it. */
  readonly passiveRange: PartnerPorts | undefined;
}

/** Walks the steps an FTP client goes through, stopping at the first that fails. */
export async function runProbe(options: ProbeOptions): Promise<ProbeReport> {
  return await new ProbeRun(options).run();
}

/** A passive endpoint: where the server said to connect. */
interface PassiveEndpoint {
  readonly mode: 'EPSV' | 'PASV';
  readonly host: string;
  readonly port: number;
}

/** Replies that mean "this server does not do that", as opposed to a failure. */
const NOT_OFFERED = new Set([500, 501, 502, 504, 522]);
const PROBE_FILE_BYTES = 4096;

class ProbeRun {
  readonly #options: ProbeOptions;
  readonly #recorder: StepRecorder;
  #tls: ProbeReport['tls'] = null;
  #control: FtpControl | undefined;
  /** The address the control connection went to. */
  #controlAddress = '';
  #tlsSession: Buffer | undefined;
  /** PROT P is in effect: data connections are TLS. */
  #protectedData = false;
  #epsv = false;
  /** The file --write uploaded and has not deleted yet. */
  #uploaded: string | undefined;
  /** Every socket the probe opened, destroyed when it ends (a TLS socket stands for the TCP socket it wraps). */
  readonly #sockets = new Set<Socket>();
  readonly #servers = new Set<Server>();

  constructor(options: ProbeOptions) {
    this.#options = options;
    this.#recorder = new StepRecorder(options.target);
  }

  async run(): Promise<ProbeReport> {
    const started = performance.now();
    try {
      await this.#walk();
    } catch (error) {
      if (!(error instanceof StopProbe)) throw error;
      await this.#removeProbeFile();
    } finally {
      for (const socket of this.#sockets) socket.destroy();
      await Promise.all([...this.#servers].map((server) => new Promise((resolve) => server.close(resolve))));
    }
    const { target, timeoutMs } = this.#options;
    return {
      tool: 'ftp-s3-bridge probe',
      target: { url: target.display, host: target.host, port: target.port, security: target.security, username: target.username },
      timeoutMs,
      ok: this.#recorder.failure === undefined,
      ms: Math.round(performance.now() - started),
      steps: this.#recorder.steps,
      tls: this.#tls,
      failure: this.#recorder.failure ?? null,
    };
  }

  // ---- the walk ---------------------------------------------------------------

  async #walk(): Promise<void> {
    const { target } = this.#options;
    let socket: Socket = await this.#connectStep();
    if (target.security === 'implicit-tls') {
      socket = await this.#implicitTlsStep(socket);
      await this.#certificateStep(socket as TLSSocket);
    }
    const control = new FtpControl(socket, this.#options.timeoutMs);
    this.#control = control;
    await this.#bannerStep(control);
    if (target.security === 'explicit-tls') {
      const secure = await this.#authTlsStep(control);
      await this.#certificateStep(secure);
    }
    await this.#featStep(control);
    await this.#loginStep(control);
    if (target.security !== 'plain') await this.#protectionStep(control);
    await this.#step('pwd', async () => {
      const reply = await this.#expect(control, 'PWD', [257]);
      return { summary: describeReply(reply), value: undefined };
    });
    if (target.path !== '') {
      await this.#step('cwd', async () => {
        const reply = await this.#expect(control, `CWD ${target.path}`, [250]);
        return { summary: describeReply(reply), value: undefined };
      });
    }
    await this.#passiveSteps(control);
    if (this.#options.write) await this.#writeSteps(control);
    if (this.#options.active) await this.#activeSteps(control);
    await this.#quitStep(control);
  }

  async #connectStep(): Promise<Socket> {
    const { target, timeoutMs } = this.#options;
    return await this.#step('connect', async (step) => {
      step.rule = {
        kind: target.security === 'implicit-tls' ? 'implicit-tls' : 'control',
        ports: { from: target.port, to: target.port },
        bridge: target.host,
      };
      const tcp = await connectTcp({ host: target.host, port: target.port, timeoutMs, what: `TCP connect to ${formatHostPort(target.host, target.port)}` });
      this.#track(tcp.socket);
      this.#controlAddress = tcp.address;
      const resolved = tcp.address === target.host ? '' : ` (${target.host} resolved in ${Math.round(tcp.resolveMs)} ms)`;
      return {
        summary: `${formatHostPort(tcp.address, tcp.port)}${resolved}, from ${tcp.socket.localAddress}`,
        details: { address: tcp.address, port: tcp.port, resolveMs: Math.round(tcp.resolveMs), localAddress: tcp.socket.localAddress ?? null },
        value: tcp.socket,
      };
    });
  }

  async #implicitTlsStep(socket: Socket): Promise<TLSSocket> {
    return await this.#step('tls', async () => {
      let secure: TLSSocket;
      try {
        secure = await this.#handshake(socket, 'implicit TLS handshake');
      } catch (error) {
        throw await explainFailedImplicitTls(error, this.#secondConnection());
      }
      this.#track(secure);
      return { summary: `${secure.getProtocol()} ${secure.getCipher().name}`, value: secure };
    });
  }

  async #bannerStep(control: FtpControl): Promise<void> {
    await this.#step('banner', async () => {
      let reply: FtpReply;
      try {
        reply = await control.read('greeting');
        // 120: "service ready in nnn minutes"; the real greeting follows.
        if (reply.code === 120) reply = await control.read('greeting after 120');
      } catch (error) {
        if (error instanceof ProbeError && error.kind === 'timeout' && this.#options.target.security !== 'implicit-tls') {
          throw await explainSilentPort(error, { ...this.#secondConnection(), handshake: (socket) => this.#handshake(socket, 'TLS probe') });
        }
        throw error;
      }
      if (reply.code !== 220) throw unexpectedReply('greeting', reply);
      return { summary: describeReply(reply), value: undefined };
    });
  }

  async #authTlsStep(control: FtpControl): Promise<TLSSocket> {
    return await this.#step('auth-tls', async () => {
      const reply = await control.command('AUTH TLS');
      if (reply.code !== 234 && reply.code !== 334) {
        throw new ProbeError('tls-not-offered', `AUTH TLS refused: ${describeReply(reply)}`);
      }
      this.#untrack(control.socket);
      const secure = await control.startTls(this.#tlsOptions('TLS handshake after AUTH TLS'));
      this.#track(secure);
      return { summary: `${reply.code} ${reply.text}; ${secure.getProtocol()} ${secure.getCipher().name}`, value: secure };
    });
  }

  async #certificateStep(secure: TLSSocket): Promise<void> {
    const { target, insecure } = this.#options;
    await this.#step('certificate', async (step) => {
      const report = inspectTls(secure, target.host);
      this.#tls = report;
      const summary = certificateSummary(report);
      const problem = verificationProblem(report, target.host);
      if (problem && !insecure) {
        step.note(summary);
        throw new ProbeError('tls-untrusted', `the certificate does not verify: ${problem}`);
      }
      if (problem) step.warn(`not verified: ${problem} (--insecure: going on)`);
      else step.note(`verified against the system CAs${this.#options.ca.length > 0 ? ' and --ca' : ''} for ${target.host}`);
      const days = report.certificate.daysLeft;
      if (days >= 0 && days < EXPIRY_WARNING_DAYS) step.warn(`the certificate expires in ${days} days`);
      return { summary, value: undefined };
    });
  }

  async #featStep(control: FtpControl): Promise<void> {
    await this.#step('feat', async () => {
      const reply = await control.command('FEAT');
      if (NOT_OFFERED.has(reply.code)) return { summary: `no FEAT: ${describeReply(reply)}`, value: undefined, outcome: 'skipped' };
      if (reply.code !== 211) throw unexpectedReply('FEAT', reply);
      const features = reply.lines.slice(1, -1).map((line) => line.trim()).filter((line) => line !== '');
      return { summary: features.join(', ') || '(none)', details: { features }, value: undefined };
    });
  }

  async #loginStep(control: FtpControl): Promise<void> {
    const { target, password } = this.#options;
    await this.#step('login', async () => {
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

  async #protectionStep(control: FtpControl): Promise<void> {
    await this.#step('protection', async () => {
      await this.#expect(control, 'PBSZ 0', [200]);
      const prot = await this.#expect(control, 'PROT P', [200]);
      this.#protectedData = true;
      return { summary: `PBSZ 0, PROT P: ${prot.text}`, value: undefined };
    });
  }

  async #passiveSteps(control: FtpControl): Promise<void> {
    const epsv = await this.#step('epsv', async () => {
      const reply = await control.command('EPSV');
      if (NOT_OFFERED.has(reply.code)) return { summary: `not offered: ${describeReply(reply)}`, value: undefined, outcome: 'skipped' };
      if (reply.code !== 229) throw unexpectedReply('EPSV', reply);
      const port = parseEpsvReply(reply.text);
      this.#epsv = true;
      return { summary: `port ${port} (at the control connection's address)`, details: { port }, value: { mode: 'EPSV', host: this.#controlAddress, port } as const };
    });
    if (epsv) await this.#listSteps(control, epsv, 'epsv-connect', 'epsv-list');
    const pasv = await this.#step('pasv', async (step) => {
      const reply = await control.command('PASV');
      if (NOT_OFFERED.has(reply.code) && !epsv) {
        throw new ProbeError('reply', `the server offers neither EPSV nor PASV (${describeReply(reply)}): no passive data connections`);
      }
      if (NOT_OFFERED.has(reply.code)) return { summary: `not offered: ${describeReply(reply)}`, value: undefined, outcome: 'skipped' };
      if (reply.code !== 227) throw unexpectedReply('PASV', reply);
      const endpoint = this.#pasvEndpoint(reply, step);
      return { summary: formatHostPort(endpoint.host, endpoint.port), details: { address: endpoint.host, port: endpoint.port }, value: endpoint };
    });
    if (pasv) await this.#listSteps(control, pasv, 'pasv-connect', 'pasv-list');
  }

  /** The address in a 227 reply, with warnings when it is not where the control connection went. */
  #pasvEndpoint(reply: FtpReply, step: StepContext): PassiveEndpoint {
    const announced = parsePasvReply(reply.text);
    const control = this.#controlAddress;
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
  async #listSteps(control: FtpControl, endpoint: PassiveEndpoint, connectName: StepName, listName: StepName): Promise<void> {
    const data = await this.#step(connectName, async (step) => {
      const socket = await this.#connectData(endpoint, step);
      return { summary: `${formatHostPort(endpoint.host, endpoint.port)} from ${formatHostPort(socket.localAddress ?? '', socket.localPort ?? 0)}`, value: socket };
    });
    await this.#step(listName, async () => {
      const result = await this.#transfer(control, 'LIST', data, {});
      const entries = result.data.toString('utf8').split(/\r?\n/).filter((line) => line.trim() !== '').length;
      return {
        summary: `${entries} entr${entries === 1 ? 'y' : 'ies'}, ${result.bytes} bytes${result.tls}; ${describeReply(result.final)}`,
        details: { entries, bytes: result.bytes },
        value: undefined,
      };
    });
  }

  async #connectData(endpoint: PassiveEndpoint, step: StepContext): Promise<Socket> {
    const { timeoutMs, passiveRange } = this.#options;
    step.rule = { kind: 'passive', ports: passiveRange ?? { from: endpoint.port, to: endpoint.port }, bridge: endpoint.host };
    if (!passiveRange) {
      step.advice.push(
        `Port ${endpoint.port} is the one the server offered this time: the server's whole passive range must be open (its operator knows it; --passive-range names it here).`,
      );
    }
    try {
      const tcp = await connectTcp({ host: endpoint.host, port: endpoint.port, timeoutMs, what: `data connection to ${formatHostPort(endpoint.host, endpoint.port)} (${endpoint.mode})` });
      this.#track(tcp.socket);
      return tcp.socket;
    } catch (error) {
      if (endpoint.host !== this.#controlAddress && error instanceof ProbeError) {
        await this.#tryControlAddress(endpoint, step);
      }
      throw error;
    }
  }

  /** After a failed PASV address: does the same port answer where the control connection went? */
  async #tryControlAddress(endpoint: PassiveEndpoint, step: StepContext): Promise<void> {
    const control = this.#controlAddress;
    try {
      const tcp = await connectTcp({ host: control, port: endpoint.port, timeoutMs: this.#options.timeoutMs, what: 'control address' });
      tcp.socket.destroy();
      step.note(`${formatHostPort(control, endpoint.port)} (the control connection's address, same port) accepts`);
      step.findings.push(
        `The address in the PASV reply is wrong: the same port accepts at ${control}, where the control connection went. Set the server's passive address (ftp-s3-bridge: FTP_PASSIVE_ADDRESS; vsftpd: pasv_address) to the address clients reach it at, or unset it; clients that use EPSV are not affected.`,
      );
    } catch (error) {
      step.note(`${formatHostPort(control, endpoint.port)} (the control connection's address) does not accept either: ${(error as Error).message}`);
    }
  }

  async #writeSteps(control: FtpControl): Promise<void> {
    const name = `ftp-s3-bridge-probe-${randomBytes(6).toString('hex')}.bin`;
    const payload = randomBytes(PROBE_FILE_BYTES);
    await this.#step('type', async () => {
      const reply = await this.#expect(control, 'TYPE I', [200]);
      return { summary: describeReply(reply), value: undefined };
    });
    await this.#step('stor', async (step) => {
      const data = await this.#openPassive(control, step);
      this.#uploaded = name;
      const result = await this.#transfer(control, `STOR ${name}`, data, { upload: payload });
      return { summary: `${payload.length} bytes to ${name}${result.tls}; ${describeReply(result.final)}`, details: { file: name, bytes: payload.length }, value: undefined };
    });
    await this.#step('size', async () => {
      const reply = await control.command(`SIZE ${name}`);
      if (NOT_OFFERED.has(reply.code)) return { summary: `not offered: ${describeReply(reply)}`, value: undefined, outcome: 'skipped' };
      if (reply.code !== 213) throw unexpectedReply('SIZE', reply);
      const size = Number(reply.text.trim());
      if (size !== payload.length) throw new ProbeError('data-mismatch', `SIZE says ${reply.text.trim()} bytes, ${payload.length} were uploaded`);
      return { summary: `${size} bytes, as uploaded`, value: undefined };
    });
    await this.#step('retr', async (step) => {
      const data = await this.#openPassive(control, step);
      const result = await this.#transfer(control, `RETR ${name}`, data, {});
      if (!result.data.equals(payload)) {
        throw new ProbeError('data-mismatch', `downloaded ${result.bytes} bytes that differ from the ${payload.length} uploaded (first difference at byte ${firstDifference(result.data, payload)})`);
      }
      return { summary: `${result.bytes} bytes${result.tls}, identical to the upload; ${describeReply(result.final)}`, value: undefined };
    });
    await this.#step('dele', async () => {
      const reply = await this.#expect(control, `DELE ${name}`, [250]);
      this.#uploaded = undefined;
      return { summary: describeReply(reply), value: undefined };
    });
  }

  /** A passive data connection for --write: EPSV when it worked, PASV otherwise. */
  async #openPassive(control: FtpControl, step: StepContext): Promise<Socket> {
    const mode = this.#epsv ? 'EPSV' : 'PASV';
    const reply = await this.#expect(control, mode, [mode === 'EPSV' ? 229 : 227]);
    const endpoint: PassiveEndpoint =
      mode === 'EPSV' ? { mode, host: this.#controlAddress, port: parseEpsvReply(reply.text) } : this.#pasvEndpoint(reply, step);
    return await this.#connectData(endpoint, step);
  }

  async #activeSteps(control: FtpControl): Promise<void> {
    const local = control.socket.localAddress ?? '127.0.0.1';
    const listener = await this.#step('active', async (step) => {
      step.advice.push(
        "Active mode is off on the server, or not for this client: use passive mode (most clients' default). ftp-s3-bridge allows it with FTP_ACTIVE_MODE=on (bridge:activeMode), and only towards the control connection's own address.",
      );
      const server = createServer();
      this.#servers.add(server);
      server.on('connection', (socket) => this.#track(socket));
      server.listen(0, local);
      await once(server, 'listening');
      const port = (server.address() as { port: number }).port;
      let reply = await control.command(`EPRT |${isIPv6(local) ? 2 : 1}|${local}|${port}|`);
      if (NOT_OFFERED.has(reply.code) && !isIPv6(local)) {
        const first = reply;
        reply = await control.command(`PORT ${local.split('.').join(',')},${port >> 8},${port & 0xff}`);
        if (reply.code !== 200) throw new ProbeError('reply', `the server refuses active mode: EPRT: ${describeReply(first)}; PORT: ${describeReply(reply)}`);
      }
      if (reply.code !== 200) throw new ProbeError('reply', `the server refuses active mode: ${describeReply(reply)}`);
      return { summary: `listening on ${formatHostPort(local, port)}; ${describeReply(reply)}`, details: { address: local, port }, value: { server, port } };
    });
    await this.#step('active-list', async (step) => {
      step.rule = {
        kind: 'active',
        ports: ACTIVE_MODE_CLIENT_PORTS,
        bridge: `the server (${this.#controlAddress}, or the address it connects out from)`,
        client: `this machine (${local}, port ${listener.port} this time)`,
      };
      const arrived = this.#nextConnection(listener.server);
      arrived.catch(() => undefined);
      const result = await this.#transfer(control, 'LIST', arrived, { active: true });
      return { summary: `the server connected to ${formatHostPort(local, listener.port)}; ${result.bytes} bytes${result.tls}; ${describeReply(result.final)}`, value: undefined };
    });
  }

  /** The server's active-mode connection, or a timeout that names the firewall rule. */
  async #nextConnection(server: Server): Promise<Socket> {
    const { timeoutMs } = this.#options;
    return await new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => {
        server.off('connection', onConnection);
        reject(new ProbeError('timeout', `the server did not connect to this machine within ${seconds(timeoutMs)} (active mode)`));
      }, timeoutMs);
      const onConnection = (socket: Socket): void => {
        clearTimeout(timer);
        resolve(socket);
      };
      server.once('connection', onConnection);
    });
  }

  async #quitStep(control: FtpControl): Promise<void> {
    const started = performance.now();
    let summary: string;
    let outcome: StepOutcome = 'ok';
    try {
      summary = describeReply(await control.command('QUIT'));
    } catch (error) {
      summary = (error as Error).message;
      outcome = 'warning';
    }
    this.#recorder.record({ step: 'quit', outcome, ms: Math.round(performance.now() - started), summary, details: {}, notes: [] });
  }

  // ---- plumbing -------------------------------------------------------------------

  async #step<T>(name: StepName, work: (step: StepContext) => Promise<StepResult<T>>): Promise<T> {
    return await this.#recorder.run(name, work);
  }

  /** A transfer command over `connection`, TLS with PROT P, every socket tracked. */
  async #transfer(control: FtpControl, command: string, connection: Socket | Promise<Socket>, options: { upload?: Buffer; active?: boolean }) {
    const what = `TLS handshake on the ${command.split(' ')[0]} data connection`;
    return await runTransferCommand(control, command, connection, {
      ...options,
      timeoutMs: this.#options.timeoutMs,
      protect: (socket) => (this.#protectedData ? this.#handshake(socket, what) : socket),
      track: (socket) => this.#track(socket),
    });
  }

  /** Another connection to the control port, to tell what it speaks. */
  #secondConnection(): SecondConnection {
    return { address: this.#controlAddress, port: this.#options.target.port, timeoutMs: this.#options.timeoutMs, track: (socket) => this.#track(socket) };
  }

  /** Sends a command and insists on one of the `codes`. */
  async #expect(control: FtpControl, line: string, codes: readonly number[]): Promise<FtpReply> {
    const reply = await control.command(line);
    if (!codes.includes(reply.code)) throw unexpectedReply(line.split(' ')[0]!, reply);
    return reply;
  }

  #tlsOptions(what: string) {
    return {
      host: this.#options.target.host,
      timeoutMs: this.#options.timeoutMs,
      what,
      ca: this.#options.ca,
      session: this.#tlsSession,
      onSession: (session: Buffer) => (this.#tlsSession = session),
    };
  }

  async #handshake(socket: Socket, what: string): Promise<TLSSocket> {
    // Data connections resume the control connection's session; the control connection records it.
    this.#untrack(socket);
    const secure = await clientTlsHandshake(socket, this.#tlsOptions(what));
    this.#track(secure);
    return secure;
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /**
   * A socket that TLS now wraps belongs to its TLS socket: destroying the TCP socket
   * under a live TLS socket crashed Node 24 (SIGSEGV) when the server side ran in the
   * same process.
   */
  #untrack(socket: Socket): void {
    this.#sockets.delete(socket);
  }

  /** After a failure, the file --write uploaded should not stay behind. */
  async #removeProbeFile(): Promise<void> {
    const name = this.#uploaded;
    const control = this.#control;
    if (!name || !control || !this.#recorder.failure) return;
    let outcome: string;
    try {
      const reply = await control.command(`DELE ${name}`);
      outcome = reply.code === 250 ? `The probe deleted its file ${name}.` : `The probe could not delete its file ${name} (${describeReply(reply)}): remove it by hand.`;
    } catch {
      outcome = `The probe could not delete its file ${name}: remove it by hand.`;
    }
    this.#recorder.addAdvice(outcome);
  }
}

function firstDifference(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return length;
}
