import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Permission, SessionReview, User } from '../auth/user.ts';
import type { EntryInfo, StoreCapabilities } from '../storage/object-store.ts';
import { normalizeAddress } from './client-address.ts';
import { isOffered, type CommandSpec, type FtpSession, type ResolvedPath, type SessionState, type TransferDetails, type TransferWork } from './command-handler.ts';
import { CommandLineReader, parseCommand, type CommandLine } from './command-line-reader.ts';
import { defaultHash } from './hash-algorithms.ts';
import { COMMANDS } from './command-table.ts';
import { DataChannel } from './data-channel.ts';
import { MLST_FACTS } from './listing-format.ts';
import { formatReply, reply, ReplyError, type Reply } from './reply.ts';
import type { SessionServices } from './session-settings.ts';
import { replyForError } from './storage-replies.ts';
import { StorageError } from '../storage/storage-error.ts';
import { upgradeToTls } from './tls-upgrade.ts';
import { parentPath, resolvePath, toStorePath } from './virtual-path.ts';
import { REPLIES, sessionEndReply } from './replies.ts';
import { transferAudit, type AuditActivity } from './audit-activity.ts';

/**
 * A queue of read commands and the pump that runs them one at a time. The session has
 * two: the ordered lane, and the urgent lane (ABOR, STAT during a transfer).
 */
interface CommandLane {
  readonly queue: CommandLine[];
  pumping: boolean;
  /** The ordered lane's command is the one ABOR and shutdown wait for, and a pending close follows it. */
  readonly ordered: boolean;
}

interface ActiveTransfer {
  readonly controller: AbortController;
  readonly command: string;
  readonly path: string;
  readonly startedAt: number;
  bytes: number;
  /** Extra figures for the transfer's log line (an upload's buffer budget use). */
  readonly notes: Record<string, number>;
}

/** Commands read ahead of execution; past this the session stops reading its socket. */
const MAX_QUEUED_COMMANDS = 32;
/** Unsent reply bytes past which no further command runs until the client reads. */
const MAX_UNSENT_REPLY_BYTES = 64 * 1024;
const KEEPALIVE_DELAY_MS = 60_000;

/**
 * One control connection. Lines are queued and executed one at a time through the
 * command table; while a transfer runs, only the commands the table marks
 * `duringTransfer` (ABOR, STAT) are executed at once, the rest wait their turn.
 */
export class ControlSession implements FtpSession {
  readonly id = randomBytes(6).toString('hex');
  readonly clientAddress: string;
  readonly localAddress: string;
  readonly services: SessionServices;
  readonly implicitTls: boolean;
  /** Read and changed by the command handlers. */
  readonly state: SessionState;
  readonly data: DataChannel;
  #log: Logger;

  #socket: Socket;
  /** This session's own TLS context (own ticket keys): its data connections can resume only its sessions. */
  #tlsContext: SecureContext | undefined;
  readonly #reader = new CommandLineReader();
  /** Commands in the order they came; each waits for the one before it. */
  readonly #ordered: CommandLane = { queue: [], pumping: false, ordered: true };
  /** Commands the table marks `duringTransfer`, read while a transfer runs: they do not wait for it. */
  readonly #urgent: CommandLane = { queue: [], pumping: false, ordered: false };
  /** The line being executed by each lane (a QUIT among them still answers after a half-close). */
  readonly #current = new Set<CommandLine>();
  /** The client half-closed its side of the control connection. */
  #inputEnded = false;
  /** The queued command being executed, if any (ABOR waits for it). */
  #executing: Promise<void> | undefined;
  #transfer: ActiveTransfer | undefined;
  #loginTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #closedController = new AbortController();
  /** Close with this reply once the command in progress is over (shutdown, a moved home). */
  #closingWith: Reply | undefined;
  #upgrading = false;
  readonly #openedAt = Date.now();
  /** The log without a user; `log` adds the logged-in user to it. */
  readonly #sessionLog: Logger;
  readonly #onClosed: (session: ControlSession) => void;

  constructor(options: {
    socket: Socket;
    services: SessionServices;
    /** Implicit FTPS: the socket is already TLS, and data connections default to PROT P. */
    implicitTls: boolean;
    /** The context the implicit-TLS handshake used. */
    tlsContext?: SecureContext | undefined;
    onClosed: (session: ControlSession) => void;
  }) {
    this.#socket = options.socket;
    this.#tlsContext = options.tlsContext;
    this.services = options.services;
    this.implicitTls = options.implicitTls;
    this.state = {
      ...loggedOutState(options.services.store.capabilities),
      secure: options.implicitTls,
      pbszDone: options.implicitTls,
      protection: options.implicitTls ? 'P' : 'C',
    };
    this.clientAddress = normalizeAddress(options.socket.remoteAddress);
    this.localAddress = normalizeAddress(options.socket.localAddress);
    this.#onClosed = options.onClosed;
    this.#sessionLog = options.services.logger.child({ session: this.id, clientAddress: this.clientAddress });
    this.#log = this.#sessionLog;
    this.data = new DataChannel({
      services: options.services,
      clientAddress: this.clientAddress,
      current: () => ({
        protection: this.state.protection,
        tlsContext: this.#tlsContext,
        tlsSessionReuse: this.state.user?.tlsSessionReuse ?? this.services.settings.tlsSessionReuse,
        log: this.#log,
      }),
    });
  }

  get log(): Logger {
    return this.#log;
  }

  start(): void {
    this.log.info({ event: 'session-open', implicitTls: this.implicitTls, localPort: this.#socket.localPort });
    this.#socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    this.#socket.setNoDelay(true);
    this.#attach(this.#socket);
    this.#startLoginTimer();
    this.#resetIdleTimer();
    this.#send(reply(220, 'ftp-s3-bridge ready.'));
  }

  /** The command table (FEAT and HELP are generated from it). */
  get commands(): ReadonlyMap<string, CommandSpec> {
    return COMMANDS;
  }

  /** Aborts when the session closes (a password check still waiting is then dropped). */
  get closedSignal(): AbortSignal {
    return this.#closedController.signal;
  }

  /** Resolves once the session's last command (an aborted transfer, say) has finished; for shutdown. */
  get settled(): Promise<void> {
    return this.#executing ?? Promise.resolve();
  }

  get transferStatus(): { command: string; path: string; bytes: number } | undefined {
    const transfer = this.#transfer;
    return transfer && { command: transfer.command, path: transfer.path, bytes: transfer.bytes };
  }

  // ---- replies ----------------------------------------------------------------

  #send(value: Reply): void {
    if (this.#closed || this.#socket.destroyed) return;
    this.log.debug({ event: 'reply', code: value.code, text: value.lines[value.lines.length - 1] });
    this.#socket.write(formatReply(value));
  }

  reply(code: number, ...lines: string[]): void {
    this.#send(reply(code, ...lines));
  }

  // ---- paths ------------------------------------------------------------------

  /** Resolves a client path (relative to the current folder) into the user's home. */
  resolve(argument: string): ResolvedPath {
    const path = resolvePath(this.state.cwd, argument);
    return { path, storePath: toStorePath(this.requireUser().home, path) };
  }

  /** stat through the user's view: the home folder always exists, even when S3 has nothing below it. */
  async stat(target: ResolvedPath, signal?: AbortSignal): Promise<EntryInfo | undefined> {
    if (target.path === '/') return { name: '/', kind: 'directory', size: 0, modified: undefined };
    return await this.services.store.stat(target.storePath, signal ? { signal } : undefined);
  }

  /** S3 cannot hold a file in a folder that does not exist for the client: 550 unless its parent is a folder. */
  async requireParentFolder(target: ResolvedPath): Promise<void> {
    const parent = this.resolve(parentPath(target.path));
    if (parent.path === '/') return;
    if (!(await this.services.store.isFolder(parent.storePath))) throw new ReplyError(550, 'Parent folder does not exist.');
  }

  requireUser(): User {
    if (!this.state.user) throw new ReplyError(REPLIES.loginFirst);
    return this.state.user;
  }

  can(permission: Permission): boolean {
    return this.state.user?.permissions.has(permission) ?? false;
  }

  // ---- login ------------------------------------------------------------------

  loggedIn(user: User): void {
    this.state.user = user;
    this.state.pendingUsername = undefined;
    this.state.cwd = '/';
    clearTimeout(this.#loginTimer);
    this.#loginTimer = undefined;
    this.#log = this.#sessionLog.child({ user: user.username });
  }

  /** REIN: back to the state right after the greeting; a TLS control connection stays TLS. */
  reinitialize(): void {
    Object.assign(this.state, loggedOutState(this.services.store.capabilities));
    this.#log = this.#sessionLog;
    this.data.clear();
    this.#startLoginTimer();
  }

  // ---- TLS --------------------------------------------------------------------

  /** AUTH TLS: the 234 reply goes out in clear, then the same TCP connection becomes TLS. */
  async upgradeControlToTls(): Promise<void> {
    const context = this.services.newTlsContext();
    if (!context) throw new ReplyError(431, 'TLS is not available right now.');
    const raw = this.#socket;
    this.#upgrading = true;
    this.#detach(raw);
    // Whatever followed AUTH in clear text (read or not) was not protected: it is
    // dropped, never executed after the handshake as if it had been (CVE-2011-0411).
    this.#ordered.queue.length = 0;
    this.#urgent.queue.length = 0;
    this.#reader.clear();
    this.#send(reply(234, 'Proceed with TLS negotiation.'));
    try {
      const secure = await upgradeToTls(raw, context, this.services.settings.tlsHandshakeTimeoutMs);
      this.#socket = secure;
      this.#tlsContext = context;
      this.state.secure = true;
      this.#attach(secure);
      this.log.info({ event: 'tls-established', protocol: secure.getProtocol(), cipher: secure.getCipher().name });
    } catch (error) {
      this.log.info({ event: 'tls-failed', reason: (error as Error).message });
      this.close();
    } finally {
      this.#upgrading = false;
    }
  }

  // ---- transfers --------------------------------------------------------------

  async transfer(details: TransferDetails, work: TransferWork): Promise<void> {
    const controller = new AbortController();
    const { signal } = controller;
    const transfer: ActiveTransfer = {
      controller,
      command: details.command,
      path: details.path,
      startedAt: Date.now(),
      bytes: 0,
      notes: {},
    };
    this.#transfer = transfer;
    clearTimeout(this.#idleTimer);
    let outcome: 'ok' | 'failed' | 'aborted' = 'failed';
    // operations: the audit trail's OPEN (file transfers only; a listing opens no file)
    const audit = transferAudit(details.command, 0);
    if (audit !== undefined) this.log.info({ event: 'transfer-open', activity: 'OPEN' satisfies AuditActivity, command: details.command, path: details.path, mode: audit.mode });
    try {
      this.reply(150, details.opening);
      const data = await this.data.open(signal, details.direction);
      try {
        await work(data, signal, (bytes) => (transfer.bytes += bytes), (fields) => Object.assign(transfer.notes, fields));
      } catch (error) {
        data.destroy();
        if (signal.aborted) throw signal.reason;
        if (error instanceof StorageError || error instanceof ReplyError) throw error;
        // Errors of the connection itself (reset by the peer, idle) become 426.
        this.log.info({ event: 'data-connection-error', err: error });
        throw new ReplyError(REPLIES.transferAborted);
      }
      this.data.finish(data);
      outcome = 'ok';
    } catch (error) {
      outcome = signal.aborted ? 'aborted' : 'failed';
      throw error;
    } finally {
      this.#transfer = undefined;
      this.log.info({
        event: 'transfer',
        activity: (audit === undefined ? 'LIST' : 'CLOSE') satisfies AuditActivity,
        command: details.command,
        path: details.path,
        bytes: transfer.bytes,
        ...transferAudit(details.command, transfer.bytes),
        ms: Date.now() - transfer.startedAt,
        outcome,
        ...transfer.notes,
      });
      this.#resetIdleTimer();
    }
    this.reply(226, 'Transfer complete.');
  }

  /** ABOR: aborts the running transfer and waits until its own reply (426) is out. */
  async abortTransfer(): Promise<boolean> {
    const transfer = this.#transfer;
    this.data.clear();
    if (!transfer) return false;
    transfer.controller.abort(new ReplyError(REPLIES.transferAborted));
    // The transfer's own command writes its 426; ABOR's reply must come after it.
    await this.#executing;
    return true;
  }

  // ---- lifecycle --------------------------------------------------------------

  /** Server shutdown: idle sessions close now; a running transfer may finish first. */
  drain(): void {
    this.#closeAfterCommand(REPLIES.shuttingDown);
  }

  #closeAfterCommand(final: Reply): void {
    this.#closingWith ??= final;
    if (!this.#transfer && !this.#ordered.pumping) this.close(this.#closingWith);
  }

  /**
   * The users document changed: goes on with the user's new permissions, or ends the
   * session (421), at once when what it logged in with was revoked (an upload in
   * progress is aborted, not committed), or once the command in progress is over.
   */
  applyReview(review: SessionReview): void {
    if (this.#closed || review.action === 'keep') return;
    if (review.action === 'update') {
      this.state.user = review.user;
      this.log.info({ event: 'session-user-updated', permissions: [...review.user.permissions] });
      return;
    }
    this.log.info({ event: 'session-revoked', reason: review.reason, when: review.when, transfer: this.#transfer?.command });
    const final = sessionEndReply(review.reason);
    if (review.when === 'now') this.close(final);
    else this.#closeAfterCommand(final);
  }

  close(final?: Reply): void {
    if (this.#closed) return;
    if (final) this.#send(final);
    this.#closed = true;
    this.#closedController.abort();
    clearTimeout(this.#loginTimer);
    clearTimeout(this.#idleTimer);
    this.#transfer?.controller.abort(new ReplyError(426, 'Control connection closed; transfer aborted.'));
    this.data.close();
    this.#ordered.queue.length = 0;
    this.#urgent.queue.length = 0;
    this.#socket.end();
    this.#socket.destroySoon();
    setTimeout(() => this.#socket.destroy(), 2000).unref();
    this.log.info({ event: 'session-close', activity: 'DISCONNECTED' satisfies AuditActivity, ms: Date.now() - this.#openedAt, reason: final?.lines[0] });
    this.#onClosed(this);
  }

  // ---- command loop -----------------------------------------------------------

  readonly #listeners = {
    data: (chunk: Buffer) => this.#onData(chunk),
    // A client that sent QUIT may half-close at once; its queued commands still run
    // (a pipelined STOR completes, then QUIT answers 221). Without QUIT, a vanished
    // client's transfer is aborted rather than committed.
    end: () => {
      this.#inputEnded = true;
      this.#readLines();
    },
    close: () => this.close(),
    error: (error: Error) => {
      this.log.debug({ event: 'control-error', err: error });
      this.close();
    },
  };

  #attach(socket: Socket): void {
    socket.on('data', this.#listeners.data);
    socket.on('end', this.#listeners.end);
    socket.on('close', this.#listeners.close);
    socket.on('error', this.#listeners.error);
  }

  /** Removes only this session's listeners (Node's own must stay for EOF handling). */
  #detach(socket: Socket): void {
    socket.off('data', this.#listeners.data);
    socket.off('end', this.#listeners.end);
    socket.off('close', this.#listeners.close);
    socket.off('error', this.#listeners.error);
  }

  #onData(chunk: Buffer): void {
    if (this.#upgrading || this.#closed) return;
    this.#reader.push(chunk);
    this.#readLines();
  }

  /**
   * Moves complete lines from the reader into the queues while they have room. When
   * they are full the socket is paused, so a client that pipelines (or floods)
   * commands holds at most one unread chunk and MAX_QUEUED_COMMANDS lines.
   */
  #readLines(): void {
    if (this.#closed || this.#upgrading) return;
    while (this.#ordered.queue.length + this.#urgent.queue.length < MAX_QUEUED_COMMANDS) {
      const line = this.#reader.next();
      if (line === undefined) break;
      const urgent =
        line.kind === 'line' && this.#transfer !== undefined && COMMANDS.get(parseCommand(line.text).verb)?.duringTransfer;
      (urgent ? this.#urgent : this.#ordered).queue.push(line);
    }
    if (this.#reader.pending) {
      this.#socket.pause();
    } else {
      this.#socket.resume();
      if (this.#inputEnded && !this.#quitPending()) {
        this.close();
        return;
      }
    }
    void this.#pump(this.#ordered);
    void this.#pump(this.#urgent);
  }

  #quitPending(): boolean {
    const isQuit = (line: CommandLine): boolean => line.kind === 'line' && parseCommand(line.text).verb === 'QUIT';
    return this.#ordered.queue.some(isQuit) || [...this.#current].some(isQuit);
  }

  /**
   * Runs a lane's commands one at a time, each only once the client has read the
   * replies so far (ABOR and STAT during a transfer are under the same reply bound).
   */
  async #pump(lane: CommandLane): Promise<void> {
    if (lane.pumping) return;
    lane.pumping = true;
    try {
      while (lane.queue.length > 0) {
        await this.#repliesRead();
        const line = lane.queue.shift();
        if (line === undefined || this.#closed) return;
        const running = this.#run(line);
        if (lane.ordered) this.#executing = running;
        this.#readLines(); // room for one more; the line taken is #current by now
        await running;
        if (!lane.ordered) continue;
        this.#executing = undefined;
        if (this.#closingWith && !this.#transfer) this.close(this.#closingWith);
      }
    } finally {
      lane.pumping = false;
    }
  }

  async #run(line: CommandLine): Promise<void> {
    this.#current.add(line);
    try {
      await this.#execute(line);
    } finally {
      this.#current.delete(line);
    }
  }

  /** Resolves once unsent replies are below the bound (or the connection is gone). */
  async #repliesRead(): Promise<void> {
    while (!this.#closed && this.#socket.writableLength > MAX_UNSENT_REPLY_BYTES) {
      const socket = this.#socket;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
      if (socket.destroyed) return;
    }
  }

  async #execute(line: CommandLine): Promise<void> {
    // Only whole commands count as activity: a client trickling a partial line
    // does not keep an idle session alive.
    this.#resetIdleTimer();
    if (line.kind === 'too-long') {
      this.#send(reply(500, 'Command line too long.'));
      return;
    }
    const { verb, argument } = parseCommand(line.text);
    this.log.debug({ event: 'command', verb, argument: verb === 'PASS' ? '****' : argument });
    const spec = COMMANDS.get(verb);
    const refusal = spec ? this.#refusal(spec, argument) : reply(500, `Unknown command ${JSON.stringify(verb.slice(0, 16))}.`);
    if (verb !== 'RNTO' && verb !== 'RNFR' && !spec?.duringTransfer) this.state.renameFrom = undefined;
    if (refusal) {
      this.#send(refusal);
      return;
    }
    try {
      await spec!.handler!(this, argument);
    } catch (error) {
      const mapped = replyForError(error);
      if (!mapped.expected) this.log.error({ event: 'command-error', verb, err: error });
      this.#send(mapped.reply);
    }
  }

  /** The command table's checks, in RFC order: 502, 530 (TLS, login), 501, 550, 521. */
  #refusal(spec: CommandSpec, argument: string): Reply | undefined {
    if (!isOffered(spec, this.services.store.capabilities)) return reply(502, `${spec.verb} not implemented.`);
    const { tlsMode } = this.services.settings;
    if (spec.secureControl && tlsMode === 'required' && !this.state.secure) {
      return reply(530, 'TLS is required: send AUTH TLS first.');
    }
    const given = argument.trim() !== '';
    const login = spec.login || (given && spec.withArgument?.login === true);
    const permission = spec.permission ?? (given ? spec.withArgument?.permission : undefined);
    if (login && !this.state.user) return REPLIES.loginFirst;
    if (spec.argument === 'required' && !given) return reply(501, `${spec.verb} needs an argument.`);
    if (spec.argument === 'none' && given) return reply(501, `${spec.verb} takes no argument.`);
    if (permission && !this.can(permission)) return REPLIES.permissionDenied;
    if (spec.dataTransfer && tlsMode === 'required' && this.state.protection !== 'P') {
      return reply(521, 'Data connections must be protected: send PBSZ 0 and PROT P.');
    }
    return undefined;
  }

  #startLoginTimer(): void {
    clearTimeout(this.#loginTimer);
    this.#loginTimer = setTimeout(() => {
      this.log.info({ event: 'login-timeout' });
      this.close(reply(421, 'Login timeout; closing control connection.'));
    }, this.services.settings.loginTimeoutMs);
    this.#loginTimer.unref();
  }

  #resetIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    if (this.#closed || this.#transfer) return;
    this.#idleTimer = setTimeout(() => {
      this.log.info({ event: 'idle-timeout' });
      this.close(reply(421, 'Idle timeout; closing control connection.'));
    }, this.services.settings.idleTimeoutMs);
    this.#idleTimer.unref();
  }
}

/** What a session holds right after the greeting, and again after REIN (the TLS state aside). */
function loggedOutState(capabilities: StoreCapabilities): Omit<SessionState, 'secure' | 'pbszDone' | 'protection'> {
  return {
    user: undefined,
    pendingUsername: undefined,
    cwd: '/',
    transferType: 'A',
    restOffset: 0,
    renameFrom: undefined,
    epsvAll: false,
    mlstFacts: new Set(MLST_FACTS),
    hashAlgorithm: defaultHash(capabilities),
  };
}
