import { configHelp } from '../config.ts';
import { unsupportedNodeVersion } from '../node-version.ts';
import { runProbeCommand } from '../probe/probe-command.ts';
import { hashPasswordCommand } from './hash-password-command.ts';
import { readPassword } from './read-password.ts';
import { serve } from './serve-command.ts';
import type { CommandContext, Subcommand } from './subcommand.ts';

/** How every usage text names the program: the entry point the container runs. */
const PROGRAM = 'node runtime/dist/main.js';

/** `probe`: the partner-side check of an FTP/FTPS server (probe/). */
const probeCommand: Subcommand = {
  name: 'probe',
  synopsis: '[options] URL',
  listed: { operand: 'URL', summary: 'check an FTP/FTPS server step by step as a client would (probe --help for more)' },
  run: (argv, context) => runProbeCommand(argv, context),
};

/**
 * Every word the command line takes after the program name; without one it runs the
 * server. A new subcommand is a file of cli/ exporting a Subcommand, and a row here:
 * --help and the dispatch follow this table.
 */
/** `users`: the partner command line (users-cli/). */
const usersCommand: Subcommand = {
  name: 'users',
  synopsis: 'SUBCOMMAND',
  listed: { operand: '…', summary: 'add, change, disable and remove partners (users --help for more)' },
  // Loaded when asked for: the server's start never loads the stores' SDK clients.
  run: async (argv, context) => {
    const { runUsersCommand } = await import('../users-cli/users-command.ts');
    return await runUsersCommand(argv, { ...context, stdinIsTerminal: process.stdin.isTTY === true });
  },
};

const SUBCOMMANDS: readonly Subcommand[] = [usersCommand, hashPasswordCommand, probeCommand];

const HELP_WORDS: readonly string[] = ['--help', '-h', 'help'];

function usage(): string {
  const synopses = SUBCOMMANDS.map((command) => [command.name, command.synopsis].filter(Boolean).join(' '));
  const row = (left: string, right: string): string => `  ${left.padEnd(17)}${right}\n`;
  const rows = [
    row('(no arguments)', 'run the FTP/FTPS server, configured by the environment variables below'),
    ...SUBCOMMANDS.map((command) => row([command.name, command.listed.operand].filter(Boolean).join(' '), command.listed.summary)),
    row('--help', 'show this text'),
  ];
  return `Usage: ${PROGRAM} [--help | ${synopses.join(' | ')}]

${rows.join('')}
SIGTERM or SIGINT (Ctrl-C) stops gracefully (see FTP_SHUTDOWN_GRACE_SECONDS); a second
one ends the grace period: running transfers are aborted at once, the exit waits up to
3 s for S3 to confirm the aborts and logs how many it did not (forced-exit). Started with
an IPC channel (as npm start does), it also stops gracefully when that channel closes.

Exit status: 0 after a clean stop, 2 for a bad configuration value, 1 for other start-up
failures (a port already in use, a Node.js version other than 22 or 24), 130 after a forced exit.
`;
}

/** The command line `node runtime/dist/main.js ARGS`: resolves with the exit status. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, nodeVersion = process.version): Promise<number> {
  const [word, ...rest] = argv;
  const unsupported = unsupportedNodeVersion(nodeVersion);
  if (unsupported !== undefined) {
    // Before anything starts: a start-up failure that is not a configuration value (exit 1).
    process.stderr.write(`ftp-s3-bridge: ${unsupported}\n`);
    return 1;
  }
  if (word === undefined) return await serve(env);
  if (HELP_WORDS.includes(word)) {
    process.stdout.write(`${usage()}\n${configHelp()}\n`);
    return 0;
  }
  const subcommand = SUBCOMMANDS.find((command) => command.name === word);
  if (subcommand === undefined) {
    process.stderr.write(`ftp-s3-bridge: unknown argument ${JSON.stringify(word)}\n${usage()}`);
    return 2;
  }
  const context: CommandContext = { program: PROGRAM, env, stdout: process.stdout, stderr: process.stderr, readPassword };
  return await subcommand.run(rest, context);
}
