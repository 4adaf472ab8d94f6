/**
 * The command reference (docs/commands.md): one row per verb of the command table
 * (runtime/src/protocol/command-table.ts), which checks every command before its handler
 * runs and from which FEAT and HELP are made.
 */
import { COMMANDS, type CommandSpec } from '../../runtime/src/protocol/command-table.ts';
import { tableCell } from './markdown.ts';

function needs(spec: CommandSpec): string {
  const parts: string[] = [];
  if (spec.login) parts.push('login');
  else if (spec.withArgument?.login) parts.push('login (with an argument)');
  const permission = spec.permission ?? spec.withArgument?.permission;
  if (permission) parts.push(`\`${permission}\` permission${spec.permission ? '' : ' (with an argument)'}`);
  if (spec.secureControl) parts.push('`AUTH TLS` first when `FTP_TLS_MODE=required`');
  if (spec.dataTransfer) parts.push('`PROT P` when `FTP_TLS_MODE=required`');
  return parts.length > 0 ? parts.join('; ') : '—';
}

function notes(spec: CommandSpec): string {
  const parts: string[] = [];
  if (!spec.handler) parts.push('502: recognised, not implemented');
  if (spec.dataTransfer) parts.push('opens a data connection');
  if (spec.duringTransfer) parts.push('answered while a transfer runs');
  if (spec.feature) parts.push("listed in `FEAT` (where offered)");
  return parts.join('; ');
}

export function renderCommandTable(): string {
  return [
    'Rendered from `runtime/src/protocol/command-table.ts` (the table that checks each command and makes `FEAT` and `HELP`); ' +
      'regenerate with `npm run docs`. *syntax* is what `HELP <verb>` answers; a command whose *needs* are not met is refused ' +
      'before it runs (`530` without login or TLS, `550` without the permission, `521` without `PROT P`), and a missing or ' +
      'extra argument gets `501`.',
    '',
    '| command | syntax | argument | needs | notes |',
    '|---|---|---|---|---|',
    ...[...COMMANDS.values()].map(
      (spec) => `| \`${spec.verb}\` | \`${tableCell(spec.syntax)}\` | ${spec.argument} | ${needs(spec)} | ${notes(spec)} |`,
    ),
  ].join('\n');
}
