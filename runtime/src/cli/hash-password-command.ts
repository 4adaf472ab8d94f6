import { hashPassword } from '../auth/password-hash.ts';
import type { Subcommand } from './subcommand.ts';

/** `hash-password`: a password on standard input becomes a passwordHash for the users document. */
export const hashPasswordCommand: Subcommand = {
  name: 'hash-password',
  synopsis: '',
  listed: { operand: '', summary: 'read a password on standard input, print its passwordHash for the users file' },
  async run(argv, { program, stdout, stderr, readPassword }) {
    const usage = `Usage: ${program} hash-password

Reads a password on standard input (typed without echo at a terminal; one trailing
newline is dropped) and prints its passwordHash (scrypt) for the users file.

Exit status: 0 with the hash printed, 2 for an empty password or a usage error.
`;
    if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
      stdout.write(usage);
      return 0;
    }
    if (argv.length > 0) {
      stderr.write(`ftp-s3-bridge: hash-password takes no arguments but --help\n${usage}`);
      return 2;
    }
    const password = await readPassword();
    if (password === '') {
      stderr.write('ftp-s3-bridge: hash-password: the password is empty\n');
      return 2;
    }
    stdout.write(`${await hashPassword(password)}\n`);
    return 0;
  },
};
