import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Permission, User } from '../auth/user.ts';
import type { ChecksumAlgorithm, EntryInfo, StoreCapabilities } from '../storage/object-store.ts';
import type { MlstFact } from './listing-format.ts';
import type { PassiveReservation } from './passive-ports.ts';
import type { Reply } from './reply.ts';
import type { SessionServices } from './session-settings.ts';

/**
 * The contract between the dispatcher and the command handlers: the row each
 * command declares (CommandSpec) and the narrow face of its session (FtpSession)
 * that a handler may use. A leaf module, so that the table, the handlers and the
 * session import it and not each other.
 */

/**
 * One row per verb. The dispatcher answers from these rows before a handler runs
 * (502 no handler or a power the store lacks, 530 TLS/login, 501 argument, 550
 * permission, 521 protection);
 * FEAT and HELP are generated from them. Handlers hold no such checks.
 */
export interface CommandSpec {
  readonly verb: string;
  /** Absent: recognised but not implemented (502). */
  readonly handler?: CommandHandler;
  /**
   * The store powers the command needs (its capabilities): without them it is answered
   * 502 and left out of FEAT and HELP, as ftpserverlib leaves out what a driver lacks.
   */
  readonly needs?: (capabilities: StoreCapabilities) => boolean;
  /** Needs a logged-in user. */
  readonly login: boolean;
  readonly argument: 'none' | 'required' | 'optional';
  readonly permission?: Permission;
  /** Shown by HELP <verb>. */
  readonly syntax: string;
  /** The FEAT line this command adds, if any (undefined when not offered in this session). */
  readonly feature?: (session: FtpSession) => string | undefined;
  /** Refused with 530 before AUTH TLS when FTP_TLS_MODE=required (USER, PASS). */
  readonly secureControl?: boolean;
  /** Opens a data connection: refused with 521 without PROT P when FTP_TLS_MODE=required. */
  readonly dataTransfer?: boolean;
  /** Executed at once while a transfer runs (ABOR, STAT) instead of waiting its turn. */
  readonly duringTransfer?: boolean;
  /** Checks that apply only when an argument is given (STAT alone describes the session; STAT <path> lists). */
  readonly withArgument?: { readonly login?: boolean; readonly permission?: Permission };
}

/** Whether this session's server runs the command: it has a handler and the store the powers it needs. */
export function isOffered(spec: CommandSpec, capabilities: StoreCapabilities): boolean {
  return spec.handler !== undefined && (spec.needs?.(capabilities) ?? true);
}

export type CommandHandler = (session: FtpSession, argument: string) => Promise<void> | void;

/** A resolved path: what the client sees, and where it lives in the store. */
export interface ResolvedPath {
  readonly path: string;
  readonly storePath: string;
}

/** The protocol state commands read and change: RFC 959 parameters, login, rename, TLS. */
export interface SessionState {
  user: User | undefined;
  /** USER seen, PASS not yet. */
  pendingUsername: string | undefined;
  /** The current folder, a resolved path. */
  cwd: string;
  transferType: 'A' | 'I';
  /** REST offset for the next RETR/STOR. */
  restOffset: number;
  renameFrom: ResolvedPath | undefined;
  /** The control connection is TLS. */
  secure: boolean;
  pbszDone: boolean;
  protection: 'C' | 'P';
  epsvAll: boolean;
  mlstFacts: Set<MlstFact>;
  /** What HASH computes (OPTS HASH). */
  hashAlgorithm: ChecksumAlgorithm;
}

/** Where the next data connection comes from (PASV/EPSV or PORT/EPRT). */
export interface DataEndpoints {
  /**
   * `announced`: what the reply told the client, for failures that explain
   * themselves (PASV names an address; EPSV means the control connection's).
   */
  usePassive(reservation: PassiveReservation, announced: PassiveAnnouncement): void;
  useActive(host: string, port: number): void;
  /** Forgets the pending endpoint (a new PASV, ABOR, REIN). */
  clear(): void;
}

export interface PassiveAnnouncement {
  readonly command: 'PASV' | 'EPSV';
  /** The address PASV announced; undefined for EPSV. */
  readonly address: string | undefined;
}

/** What a transfer does once its data connection is open; `note` adds figures to its log line. */
/** Which way a transfer's bytes go: a download (RETR, listings) or an upload (STOR, APPE, STOU). */
export type TransferDirection = 'download' | 'upload';

/** What a transfer is, for its 150, its log line and its data connection. */
export interface TransferDetails {
  readonly command: string;
  readonly path: string;
  readonly opening: string;
  /** Lets a download's TLS run natively (tls-data-connection.ts). */
  readonly direction: TransferDirection;
}

export type TransferWork = (
  data: Socket,
  signal: AbortSignal,
  progress: (bytes: number) => void,
  note: (fields: Record<string, number>) => void,
) => Promise<void>;

export interface FtpSession {
  readonly state: SessionState;
  readonly clientAddress: string;
  readonly localAddress: string;
  readonly services: SessionServices;
  /** The session's log (with the user once logged in). */
  readonly log: Logger;
  /** The command table (FEAT and HELP are generated from it). */
  readonly commands: ReadonlyMap<string, CommandSpec>;
  /** Aborts when the session closes. */
  readonly closedSignal: AbortSignal;
  readonly data: DataEndpoints;
  /** What the running transfer has moved so far (STAT), if one runs. */
  readonly transferStatus: { readonly command: string; readonly path: string; readonly bytes: number } | undefined;

  reply(code: number, ...lines: string[]): void;
  /** Resolves a client path (relative to the current folder) into the user's home. */
  resolve(argument: string): ResolvedPath;
  /** stat through the user's view: the home folder always exists. */
  stat(target: ResolvedPath, signal?: AbortSignal): Promise<EntryInfo | undefined>;
  /** 550 unless the target's parent is a folder. */
  requireParentFolder(target: ResolvedPath): Promise<void>;
  /** The logged-in user, or 530. */
  requireUser(): User;
  can(permission: Permission): boolean;
  loggedIn(user: User): void;
  /** REIN: back to the state right after the greeting; a TLS control connection stays TLS. */
  reinitialize(): void;
  /** AUTH TLS: 234 in clear, then the handshake on the same connection. */
  upgradeControlToTls(): Promise<void>;
  close(final?: Reply): void;
  /**
   * A transfer from 150 to 226: opens the data connection set up by PASV/EPSV or
   * PORT/EPRT, runs `work` on it, closes it, and answers 226 only once `work` is
   * done. ABOR and a closing control connection abort `work`'s signal; STAT reports
   * its progress; one `transfer` line is logged.
   */
  transfer(details: TransferDetails, work: TransferWork): Promise<void>;
  /** ABOR: aborts the running transfer; true if there was one (its 426 is out when this resolves). */
  abortTransfer(): Promise<boolean>;
}
