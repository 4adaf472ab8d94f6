import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { addressScope } from './address-scope.ts';
import { readData, writeData } from './data-transfer.ts';
import { withDeadline } from './deadline.ts';
import { FtpControl, type FtpReply } from './ftp-control.ts';
import { ACTIVE_MODE_CLIENT_PORTS, type PartnerPorts } from './partner-rules.ts';
import { parseEpsvReply, parsePasvReply } from './passive-reply.ts';
import { adviceFor, type RuleContext } from './probe-advice.ts';
import { ProbeError, seconds } from './probe-error.ts';
import type { DetailValue, ProbeFailure, ProbeReport, ProbeStep, StepName, StepOutcome } from './probe-report.ts';
import type { ProbeTarget } from './probe-target.ts';
import { connectTcp } from './tcp-connect.ts';
import { clientTlsHandshake, tlsReason } from './tls-handshake.ts';
import { certificateSummary, EXPIRY_WARNING_DAYS, inspectTls, verificationProblem } from './tls-inspection.ts';

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

/** Ends the walk after a failed step (the step is already recorded). */
class StopProbe extends Error {}

/** What a step hands back: its one-line summary, details for --json, and its value. */
interface StepResult<T> {
  readonly summary: string;
  readonly details?: Record<string, DetailValue>;
  readonly value: T;
  readonly outcome?: 'skipped';
}

/** Collects what a running step learns besides its result. */
class StepContext {
  readonly notes: string[] = [];
  warned = false;
  rule: RuleContext | undefined;
  /** What the step found out about the cause, put before the rule in the advice (a wrong PASV address, say). */
  readonly findings: string[] = [];
  /** Further advice, after the rule. */
  readonly advice: string[] = [];

  note(text: string): void {
    this.notes.push(text);
  }

  warn(text: string): void {
    this.warned = true;
    this.notes.push(`warning: ${text}`);
  }
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
/** A promise that never settles: the losing side of a race that only one outcome may win. */
const NEVER = new Promise<never>(() => undefined);

class ProbeRun {
  readonly #options: ProbeOptions;
  readonly #steps: ProbeStep[] = [];
  #failure: ProbeFailure | undefined;
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
      ok: this.#failure === undefined,
      ms: Math.round(performance.now() - started),
      steps: this.#steps,
      tls: this.#tls,
      failure: this.#failure ?? null,
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
      return { summary: oneLine(reply), value: undefined };
    });
    if (target.path !== '') {
      await this.#step('cwd', async () => {
        const reply = await this.#expect(control, `CWD ${target.path}`, [250]);
        return { summary: oneLine(reply), value: undefined };
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
      const tcp = await connectTcp({ host: target.host, port: target.port, timeoutMs, what: `TCP connect to ${hostPort(target.host, target.port)}` });
      this.#track(tcp.socket);
      this.#controlAddress = tcp.address;
      const resolved = tcp.address === target.host ? '' : ` (${target.host} resolved in ${Math.round(tcp.resolveMs)} ms)`;
      return {
        summary: `${hostPort(tcp.address, tcp.port)}${resolved}, from ${tcp.socket.localAddress}`,
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
        throw await this.#explainFailedImplicitTls(error);
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
          throw await this.#explainSilentPort(error);
        }
        throw error;
      }
      if (reply.code !== 220) throw replyError('greeting', reply);
      return { summary: oneLine(reply), value: undefined };
    });
  }

  async #authTlsStep(control: FtpControl): Promise<TLSSocket> {
    return await this.#step('auth-tls', async () => {
      const reply = await control.command('AUTH TLS');
      if (reply.code !== 234 && reply.code !== 334) {
        throw new ProbeError('tls-not-offered', `AUTH TLS refused: ${oneLine(reply)}`);
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
      if (NOT_OFFERED.has(reply.code)) return { summary: `no FEAT: ${oneLine(reply)}`, value: undefined, outcome: 'skipped' };
      if (reply.code !== 211) throw replyError('FEAT', reply);
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
      if (final.code === 230 || final.code === 202) return { summary: `${target.username}: ${oneLine(final)}`, value: undefined };
      if (final.code === 530 && !secure && (final === user || /TLS|SSL|encrypt/i.test(final.text))) {
        throw new ProbeError('tls-required', `the server refuses to log in over plain FTP: ${oneLine(final)}`);
      }
      if (final.code === 530) {
        throw new ProbeError('login', `${final === user ? 'USER' : 'PASS'} refused for ${target.username}: ${oneLine(final)}`);
      }
      throw replyError(final === user ? 'USER' : 'PASS', final);
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
      if (NOT_OFFERED.has(reply.code)) return { summary: `not offered: ${oneLine(reply)}`, value: undefined, outcome: 'skipped' };
      if (reply.code !== 229) throw replyError('EPSV', reply);
      const port = parseEpsvReply(reply.text);
      this.#epsv = true;
      return { summary: `port ${port} (at the control connection's address)`, details: { port }, value: { mode: 'EPSV', host: this.#controlAddress, port } as const };
    });
    if (epsv) await this.#listSteps(control, epsv, 'epsv-connect', 'epsv-list');
    const pasv = await this.#step('pasv', async (step) => {
      const reply = await control.command('PASV');
      if (NOT_OFFERED.has(reply.code) && !epsv) {
        throw new ProbeError('reply', `the server offers neither EPSV nor PASV (${oneLine(reply)}): no passive data connections`);
      }
      if (NOT_OFFERED.has(reply.code)) return { summary: `not offered: ${oneLine(reply)}`, value: undefined, outcome: 'skipped' };
      if (reply.code !== 227) throw replyError('PASV', reply);
      const endpoint = this.#pasvEndpoint(reply, step);
      return { summary: hostPort(endpoint.host, endpoint.port), details: { address: endpoint.host, port: endpoint.port }, value: endpoint };
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
      return { summary: `${hostPort(endpoint.host, endpoint.port)} from ${socket.localAddress}:${socket.localPort}`, value: socket };
    });
    await this.#step(listName, async () => {
      const result = await this.#transfer(control, 'LIST', data, {});
      const entries = result.data.toString('utf8').split(/\r?\n/).filter((line) => line.trim() !== '').length;
      return {
        summary: `${entries} entr${entries === 1 ? 'y' : 'ies'}, ${result.bytes} bytes${result.tls}; ${oneLine(result.final)}`,
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
      const tcp = await connectTcp({ host: endpoint.host, port: endpoint.port, timeoutMs, what: `data connection to ${hostPort(endpoint.host, endpoint.port)} (${endpoint.mode})` });
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
      step.note(`${hostPort(control, endpoint.port)} (the control connection's address, same port) accepts`);
      step.findings.push(
        `The address in the PASV reply is wrong: the same port accepts at ${control}, where the control connection went. Set the server's passive address (ftp-s3-bridge: FTP_PASSIVE_ADDRESS; vsftpd: pasv_address) to the address clients reach it at, or unset it; clients that use EPSV are not affected.`,
      );
    } catch (error) {
      step.note(`${hostPort(control, endpoint.port)} (the control connection's address) does not accept either: ${(error as Error).message}`);
    }
  }

  async #writeSteps(control: FtpControl): Promise<void> {
    const name = `ftp-s3-bridge-probe-${randomBytes(6).toString('hex')}.bin`;
    const payload = randomBytes(PROBE_FILE_BYTES);
    await this.#step('type', async () => {
      const reply = await this.#expect(control, 'TYPE I', [200]);
      return { summary: oneLine(reply), value: undefined };
    });
    await this.#step('stor', async (step) => {
      const data = await this.#openPassive(control, step);
      this.#uploaded = name;
      const result = await this.#transfer(control, `STOR ${name}`, data, { upload: payload });
      return { summary: `${payload.length} bytes to ${name}${result.tls}; ${oneLine(result.final)}`, details: { file: name, bytes: payload.length }, value: undefined };
    });
    await this.#step('size', async () => {
      const reply = await control.command(`SIZE ${name}`);
      if (NOT_OFFERED.has(reply.code)) return { summary: `not offered: ${oneLine(reply)}`, value: undefined, outcome: 'skipped' };
      if (reply.code !== 213) throw replyError('SIZE', reply);
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
      return { summary: `${result.bytes} bytes${result.tls}, identical to the upload; ${oneLine(result.final)}`, value: undefined };
    });
    await this.#step('dele', async () => {
      const reply = await this.#expect(control, `DELE ${name}`, [250]);
      this.#uploaded = undefined;
      return { summary: oneLine(reply), value: undefined };
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
        if (reply.code !== 200) throw new ProbeError('reply', `the server refuses active mode: EPRT: ${oneLine(first)}; PORT: ${oneLine(reply)}`);
      }
      if (reply.code !== 200) throw new ProbeError('reply', `the server refuses active mode: ${oneLine(reply)}`);
      return { summary: `listening on ${hostPort(local, port)}; ${oneLine(reply)}`, details: { address: local, port }, value: { server, port } };
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
      return { summary: `the server connected to ${hostPort(local, listener.port)}; ${result.bytes} bytes${result.tls}; ${oneLine(result.final)}`, value: undefined };
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
      summary = oneLine(await control.command('QUIT'));
    } catch (error) {
      summary = (error as Error).message;
      outcome = 'warning';
    }
    this.#steps.push({ step: 'quit', outcome, ms: Math.round(performance.now() - started), summary, details: {}, notes: [] });
  }

  // ---- transfers --------------------------------------------------------------

  /**
   * One transfer command over an opened (or, in active mode, arriving) data
   * connection. With PROT P the TLS handshake runs while the command is sent:
   * some servers only start it after the 150.
   */
  async #transfer(
    control: FtpControl,
    command: string,
    connection: Socket | Promise<Socket>,
    options: { readonly upload?: Buffer; readonly active?: boolean },
  ): Promise<{ data: Buffer; bytes: number; final: FtpReply; tls: string }> {
    const { timeoutMs } = this.#options;
    const what = `${command.split(' ')[0]} data`;
    control.send(command);
    const stream = Promise.resolve(connection).then((socket): Promise<Socket> | Socket =>
      this.#protectedData ? this.#handshake(socket, `TLS handshake on the ${what} connection`) : socket,
    );
    stream.catch(() => undefined);
    const preliminary = await control.read(`reply to ${command}`);
    if (preliminary.code !== 150 && preliminary.code !== 125) {
      void stream.then((socket) => socket.destroy(), () => undefined);
      throw dataReplyError(command, preliminary, options.active ?? false);
    }
    // Read as soon as it comes: an error reply (425 from a server that never saw the
    // connection) must not wait for a data connection that will stay silent.
    const final = control.read(`final reply to ${command}`, Infinity);
    final.catch(() => undefined);
    const refused = final.then((reply) => (reply.code >= 400 ? Promise.reject(dataReplyError(command, reply, options.active ?? false)) : NEVER));
    refused.catch(() => undefined);
    let received: { data: Buffer; bytes: number } = { data: Buffer.alloc(0), bytes: 0 };
    let tls = '';
    let socket: Socket | undefined;
    const moveData = (async () => {
      socket = await stream;
      this.#track(socket);
      if (socket instanceof TLSSocket) tls = ` over ${socket.getProtocol()}${socket.isSessionReused() ? ' (TLS session reused)' : ''}`;
      if (options.upload) await writeData(socket, options.upload, { timeoutMs, what });
      else received = await readData(socket, { timeoutMs, what });
    })();
    moveData.catch(() => undefined);
    try {
      await Promise.race([moveData, refused]);
    } catch (error) {
      if (!(error instanceof ProbeError) || error.kind === 'reply' || error.kind === 'unreachable') throw error;
      // The server may be about to say why (426, or 522 for a TLS session it wanted resumed).
      const said = await withDeadline(final.then(oneLine, () => undefined), Math.min(timeoutMs, 1000), () => undefined);
      throw said ? new ProbeError(error.kind, `${error.message}; the server says: ${said}`) : error;
    }
    const reply = await withDeadline(final, timeoutMs, () => {
      const silent = `final reply to ${command}: no answer within ${seconds(timeoutMs)}`;
      // A server that shuts a data connection at once and then waits is still waiting for "its" connection.
      const shut = !options.upload && received.bytes === 0 && !options.active;
      if (!shut) return Promise.reject(new ProbeError('timeout', silent));
      return Promise.reject(
        new ProbeError('timeout', `${silent}, after the server closed the data connection without a byte`, {
          advice: [
            "The server did not take the data connection as this session's and still waits for one. ftp-s3-bridge takes a data connection only from the control connection's address (and logs data-connection-refused otherwise): a NAT or proxy that sends the two from different addresses breaks every transfer.",
          ],
        }),
      );
    });
    // Only now: an upload's data connection stays until the server has answered for it.
    socket?.destroy();
    if (reply.code !== 226 && reply.code !== 250) throw dataReplyError(command, reply, options.active ?? false);
    return { ...received, final: reply, tls };
  }

  // ---- explanations -------------------------------------------------------------

  /** Implicit TLS failed: a plain-text greeting on a fresh connection names the real problem. */
  async #explainFailedImplicitTls(error: unknown): Promise<unknown> {
    if (!(error instanceof ProbeError) || error.kind !== 'tls-handshake') return error;
    const { target, timeoutMs } = this.#options;
    try {
      const tcp = await connectTcp({ host: this.#controlAddress, port: target.port, timeoutMs, what: 'plain connection' });
      this.#track(tcp.socket);
      const line = await firstLine(tcp.socket, timeoutMs);
      tcp.socket.destroy();
      if (/^\d{3}[ -]/.test(line)) {
        return new ProbeError(
          'tls-not-spoken',
          `no TLS on this port: the handshake failed (${error.cause instanceof Error ? tlsReason(error.cause) : error.message}), and a plain connection gets the FTP greeting ${JSON.stringify(line)}: this port speaks plain FTP, not implicit TLS`,
        );
      }
    } catch {
      // No greeting either: the handshake error is the best there is.
    }
    return error;
  }

  /** No greeting: a port that expects TLS from the first byte says nothing to a plain client. */
  async #explainSilentPort(error: ProbeError): Promise<ProbeError> {
    const { target, timeoutMs } = this.#options;
    try {
      const tcp = await connectTcp({ host: this.#controlAddress, port: target.port, timeoutMs, what: 'TLS connection' });
      this.#track(tcp.socket);
      const secure = await this.#handshake(tcp.socket, 'TLS probe');
      const protocol = secure.getProtocol();
      secure.destroy();
      return new ProbeError(
        'tls-expected',
        `no greeting within ${seconds(timeoutMs)}, but a TLS handshake on this port succeeds (${protocol}): it expects implicit TLS, TLS from the first byte`,
      );
    } catch {
      return new ProbeError('timeout', `${error.message}: something accepts TCP connections on this port but does not speak FTP (nor TLS)`);
    }
  }

  // ---- plumbing -------------------------------------------------------------------

  async #step<T>(name: StepName, work: (step: StepContext) => Promise<StepResult<T>>): Promise<T> {
    const started = performance.now();
    const context = new StepContext();
    try {
      const result = await work(context);
      this.#steps.push({
        step: name,
        outcome: result.outcome ?? (context.warned ? 'warning' : 'ok'),
        ms: Math.round(performance.now() - started),
        summary: result.summary,
        details: result.details ?? {},
        notes: context.notes,
      });
      return result.value;
    } catch (error) {
      if (!(error instanceof ProbeError)) throw error;
      this.#steps.push({ step: name, outcome: 'failed', ms: Math.round(performance.now() - started), summary: error.message, details: {}, notes: context.notes });
      this.#failure = {
        step: name,
        kind: error.kind,
        message: error.message,
        advice: [...context.findings, ...error.advice, ...adviceFor(error, { rule: context.rule, target: this.#options.target }), ...context.advice],
      };
      throw new StopProbe();
    }
  }

  /** Sends a command and insists on one of the `codes`. */
  async #expect(control: FtpControl, line: string, codes: readonly number[]): Promise<FtpReply> {
    const reply = await control.command(line);
    if (!codes.includes(reply.code)) throw replyError(line.split(' ')[0]!, reply);
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
    if (!name || !control || !this.#failure) return;
    let outcome: string;
    try {
      const reply = await control.command(`DELE ${name}`);
      outcome = reply.code === 250 ? `The probe deleted its file ${name}.` : `The probe could not delete its file ${name} (${oneLine(reply)}): remove it by hand.`;
    } catch {
      outcome = `The probe could not delete its file ${name}: remove it by hand.`;
    }
    this.#failure = { ...this.#failure, advice: [...this.#failure.advice, outcome] };
  }
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function oneLine(reply: FtpReply): string {
  return `${reply.code} ${reply.text}`;
}

function replyError(what: string, reply: FtpReply): ProbeError {
  return new ProbeError('reply', `${what}: unexpected reply ${oneLine(reply)}`);
}

/**
 * 425 in passive mode: the server never got the data connection the probe opened;
 * in active mode: the server could not connect to the probe.
 */
function dataReplyError(command: string, reply: FtpReply, active: boolean): ProbeError {
  const verb = command.split(' ')[0]!;
  if (reply.code === 425 && active) {
    return new ProbeError('unreachable', `${verb}: ${oneLine(reply)}: the server could not connect to this machine (active mode)`);
  }
  if (reply.code === 425) {
    return new ProbeError(
      'reply',
      `${verb}: ${oneLine(reply)}: the server did not get the data connection the probe opened, so something between accepted it instead (a proxy or firewall with an FTP helper, or a load balancer that sends the passive port to another server)`,
    );
  }
  return replyError(verb, reply);
}

function firstDifference(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return length;
}

/** The first line a server sends on a plain connection, or '' after `timeoutMs`. */
async function firstLine(socket: Socket, timeoutMs: number): Promise<string> {
  return await new Promise<string>((resolve) => {
    let text = '';
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', finish);
      resolve(text.split(/\r?\n/)[0] ?? '');
    };
    const timer = setTimeout(finish, timeoutMs);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (text.includes('\n') || text.length > 512) finish();
    };
    socket.on('data', onData);
    socket.once('close', finish);
  });
}
