import type { CommandSpec } from './command-handler.ts';
import { CHECKSUM_COMMANDS } from './commands/checksum-commands.ts';
import { DATA_CHANNEL_COMMANDS } from './commands/data-channel-commands.ts';
import { FILE_COMMANDS } from './commands/file-commands.ts';
import { SECURITY_COMMANDS } from './commands/security-commands.ts';
import { SESSION_COMMANDS } from './commands/session-commands.ts';
import { TIME_COMMANDS } from './commands/time-commands.ts';
import { TRANSFER_COMMANDS } from './commands/transfer-commands.ts';

export type { CommandSpec };

/** Every verb's row (command-handler.ts says what a row declares); FEAT and HELP are generated from it. */
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
    ...TIME_COMMANDS,
    ...CHECKSUM_COMMANDS,
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
