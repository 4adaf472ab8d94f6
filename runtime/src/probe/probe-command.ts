import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { PartnerPorts } from './partner-rules.ts';
import { renderReport } from './probe-report.ts';
import { runProbe } from './probe-run.ts';
import { parseProbeTarget, TargetError } from './probe-target.ts';

/** The environment variable the password may come from, so it stays off the command line. */
export const PASSWORD_VARIABLE = 'FTP_PROBE_PASSWORD';
const DEFAULT_TIMEOUT_SECONDS = 5;
/** RFC 1635's convention for anonymous logins. */
const ANONYMOUS_PASSWORD = 'probe@ftp-s3-bridge';

/** The probe's --help; `program` is how the main usage names the program. */
function probeUsage(program: string): string {
  return `Usage: ${program} probe [options] URL

Walks the steps an FTP client takes against URL and prints each with its duration:
TCP connect, greeting, TLS (certificate, verification), FEAT, login, PWD, EPSV and
PASV each with a data connection and a LIST, and optionally an upload round trip and
active mode. On the first failure it names the firewall rule that must be open.

  URL  ftp://[user@]host[:port][/folder]     plain FTP (port 21 by default)
       ftpes://[user@]host[:port][/folder]   explicit FTPS: AUTH TLS on the control port
       ftps://[user@]host[:port][/folder]    implicit FTPS: TLS from the first byte (port 990)
       Without a user: anonymous.

  --tls                  explicit FTPS (AUTH TLS) on an ftp:// URL, same as ftpes://
  --insecure             go on when the certificate does not verify (reported as a warning)
  --ca FILE              also trust the CA certificates in FILE (PEM); may be repeated
  --write                upload a small file to the folder, SIZE it, download and compare it, delete it
  --active               also try active mode: EPRT/PORT to a port this machine opens, then LIST
  --passive-range A-B    the server's passive port range, so the advice can name all of it
  --timeout SECONDS      how long each step may wait for an answer (default ${DEFAULT_TIMEOUT_SECONDS})
  --json                 print one JSON document instead of text
  --password-stdin       read the password from standard input (typed without echo at a terminal)
  -h, --help             show this text

The password: standard input with --password-stdin, or the environment variable
${PASSWORD_VARIABLE}; a password in the URL (ftp://user:password@host/) works too, but
other users of this machine can see command lines. Anonymous needs none.

Exit status: 0 when every step passed (warnings included), 1 when a step failed,
2 for a usage error.
`;
}

export interface ProbeCommandIo {
  /** How the usage texts name the program (the main usage's name for it). */
  readonly program: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Reads a password from standard input (the composition root's reader). */
  readonly readPassword: () => Promise<string>;
}

class UsageError extends Error {}

/** `ftp-s3-bridge probe …`: returns the exit status. */
export async function runProbeCommand(argv: readonly string[], io: ProbeCommandIo): Promise<number> {
  let parsed: Awaited<ReturnType<typeof parseProbeArguments>>;
  try {
    parsed = await parseProbeArguments(argv, io);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof TargetError)) throw error;
    io.stderr.write(`ftp-s3-bridge probe: ${error.message}\n(${io.program} probe --help lists the options)\n`);
    return 2;
  }
  if (parsed === 'help') {
    io.stdout.write(probeUsage(io.program));
    return 0;
  }
  const report = await runProbe(parsed.options);
  io.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
  return report.ok ? 0 : 1;
}

async function parseProbeArguments(argv: readonly string[], io: ProbeCommandIo) {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        tls: { type: 'boolean', default: false },
        insecure: { type: 'boolean', default: false },
        ca: { type: 'string', multiple: true, default: [] },
        write: { type: 'boolean', default: false },
        active: { type: 'boolean', default: false },
        'passive-range': { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean', default: false },
        'password-stdin': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help' as const;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'give the URL to probe' : `one URL only, got ${positionals.length}`);
  const target = parseProbeTarget(positionals[0]!, { explicitTls: values.tls });
  const timeoutSeconds = values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(values.timeout);
  if (!(timeoutSeconds > 0 && timeoutSeconds <= 600)) throw new UsageError(`--timeout must be a number of seconds above 0 and at most 600, got ${JSON.stringify(values.timeout)}`);
  const ca: string[] = [];
  for (const file of values.ca) {
    try {
      ca.push(await readFile(file, 'utf8'));
    } catch (error) {
      throw new UsageError(`--ca ${file}: ${(error as Error).message}`);
    }
  }
  return {
    json: values.json,
    options: {
      target,
      password: await probePassword(target, values['password-stdin'], io),
      timeoutMs: Math.round(timeoutSeconds * 1000),
      insecure: values.insecure,
      ca,
      write: values.write,
      active: values.active,
      passiveRange: values['passive-range'] === undefined ? undefined : parsePortRange(values['passive-range']),
    },
  };
}

async function probePassword(target: { username: string; password: string | undefined }, fromStdin: boolean, io: ProbeCommandIo): Promise<string> {
  if (target.password !== undefined && fromStdin) throw new UsageError('the URL holds a password: leave out --password-stdin, or the password');
  if (target.password !== undefined) return target.password;
  if (fromStdin) return await io.readPassword();
  const fromEnv = io.env[PASSWORD_VARIABLE];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (target.username === 'anonymous' || target.username === 'ftp') return ANONYMOUS_PASSWORD;
  throw new UsageError(`no password for ${target.username}: pass --password-stdin, or set ${PASSWORD_VARIABLE}`);
}

function parsePortRange(text: string): PartnerPorts {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim());
  const from = Number(match?.[1]);
  const to = Number(match?.[2] ?? match?.[1]);
  if (!match || from < 1 || to > 65535 || from > to) throw new UsageError(`--passive-range must be FIRST-LAST such as 30000-30005, got ${JSON.stringify(text)}`);
  return { from, to };
}
