import type { Permission } from '../auth/user.ts';
import type { ControlSession } from './control-session.ts';
import { DATA_CHANNEL_COMMANDS } from './commands/data-channel-commands.ts';
import { FILE_COMMANDS } from './commands/file-commands.ts';
import { SECURITY_COMMANDS } from './commands/security-commands.ts';
import { SESSION_COMMANDS } from './commands/session-commands.ts';
import { TRANSFER_COMMANDS } from './commands/transfer-commands.ts';

/**
 * One row per verb. The dispatcher answers from these rows before a handler runs
 * (502 no handler, 530 TLS/login, 501 argument, 550 permission, 521 protection);
 * FEAT and HELP are generated from them. Handlers hold no such checks.
 */
export interface CommandSpec {
  readonly verb: string;
  /** Absent: recognised but not implemented (502). */
  readonly handler?: CommandHandler;
  /** Needs a logged-in user. */
  readonly login: boolean;
  readonly argument: 'none' | 'required' | 'optional';
  readonly permission?: Permission;
  /** Shown by HELP <verb>. */
  readonly syntax: string;
  /** The FEAT line this command adds, if any (undefined when not offered in this session). */
  readonly feature?: (session: ControlSession) => string | undefined;
  /** Refused with 530 before AUTH TLS when FTP_TLS_MODE=required (USER, PASS). */
  readonly secureControl?: boolean;
  /** Opens a data connection: refused with 521 without PROT P when FTP_TLS_MODE=required. */
  readonly dataTransfer?: boolean;
  /** Executed at once while a transfer runs (ABOR, STAT) instead of waiting its turn. */
  readonly duringTransfer?: boolean;
}

export type CommandHandler = (session: ControlSession, argument: string) => Promise<void> | void;

/** RFC 775 X-variants run the same rows under another name. */
const ALIASES: ReadonlyArray<[alias: string, verb: string]> = [
  ['XPWD', 'PWD'],
  ['XCWD', 'CWD'],
  ['XCUP', 'CDUP'],
  ['XMKD', 'MKD'],
  ['XRMD', 'RMD'],
];

function buildTable(): ReadonlyMap<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  for (const spec of [
    ...SESSION_COMMANDS,
    ...SECURITY_COMMANDS,
    ...FILE_COMMANDS,
    ...DATA_CHANNEL_COMMANDS,
    ...TRANSFER_COMMANDS,
  ]) {
    if (table.has(spec.verb)) throw new Error(`Duplicate command ${spec.verb}`);
    table.set(spec.verb, spec);
  }
  for (const [alias, verb] of ALIASES) {
    const spec = table.get(verb)!;
    table.set(alias, { ...spec, verb: alias, syntax: spec.syntax.replace(verb, alias), feature: undefined });
  }
  return table;
}

export const COMMANDS: ReadonlyMap<string, CommandSpec> = buildTable();
