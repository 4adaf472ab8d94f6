import { ConfigError, type Config } from './config.ts';

/** Why the bridge did not start, said once for people (stderr) and once for machines (the log). */
export interface StartFailure {
  /** One line: `VARIABLE: problem` when a variable is to blame. */
  readonly message: string;
  /** The variable to change, if one is. */
  readonly variable: string | undefined;
  /** 2 for a bad configuration value, 1 for anything else (see --help). */
  readonly exitCode: 1 | 2;
  /** Neither a configuration problem nor a port: the log keeps the stack. */
  readonly unexpected: boolean;
}

/** The setting that chose a port, and what the port is for. */
export interface PortOwner {
  readonly variable: string;
  readonly purpose: string;
}

/** What a listen() failure means, by errno code, and what to do about it. */
const LISTEN_PROBLEMS: Readonly<Record<string, (where: string, owner: PortOwner) => string>> = {
  EADDRINUSE: (where, { variable }) =>
    `${where} is already in use by another program (an ftp-s3-bridge or npm start still running?): stop it (ss -ltnp shows which), or set ${variable} to a free port`,
  EACCES: (where, { variable }) => `not allowed to listen on ${where} (ports below 1024 need privileges): set ${variable} to a port above 1023`,
  EADDRNOTAVAIL: (where) => `cannot listen on ${where}: the address is not one of this machine's`,
};

export function describeStartFailure(error: unknown, config: Config): StartFailure {
  if (error instanceof ConfigError) {
    return { message: error.message, variable: error.variable, exitCode: 2, unexpected: false };
  }
  const listenProblem = describeListenFailure(error, (port) => portOwner(port, config), config.listenAddress);
  if (listenProblem !== undefined) {
    return { message: listenProblem.message, variable: listenProblem.variable, exitCode: 1, unexpected: false };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message: message.replace(/\s*\n\s*/g, ' '), variable: undefined, exitCode: 1, unexpected: true };
}

/**
 * One line for a listen() that failed (a port in use, a privileged port, an address
 * not on this machine), naming the setting to change; undefined for other errors.
 */
export function describeListenFailure(
  error: unknown,
  ownerOf: (port: number) => PortOwner,
  listenAddress: string,
): { readonly message: string; readonly variable: string } | undefined {
  const listenError = findListenError(error);
  const problem = listenError?.code === undefined ? undefined : LISTEN_PROBLEMS[listenError.code];
  if (listenError === undefined || problem === undefined) return undefined;
  const owner = ownerOf(listenError.port);
  const where = `port ${listenError.port} on ${listenError.address ?? listenAddress} (${owner.purpose})`;
  const variable = listenError.code === 'EADDRNOTAVAIL' ? 'FTP_LISTEN_ADDRESS' : owner.variable;
  return { message: `${variable}: ${problem(where, owner)}`, variable };
}

interface ListenError {
  readonly code: string | undefined;
  readonly port: number;
  readonly address: string | undefined;
}

/** The errno error of a failed listen(), wherever it sits in the cause chain. */
function findListenError(error: unknown): ListenError | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const { code, port, address, syscall } = current as NodeJS.ErrnoException & { port?: unknown; address?: unknown };
    if (syscall === 'listen' && typeof port === 'number') {
      return { code, port, address: typeof address === 'string' ? address : undefined };
    }
  }
  return undefined;
}

function portOwner(port: number, config: Config): PortOwner {
  if (port === config.controlPort) return { variable: 'FTP_PORT', purpose: 'FTP control connections' };
  if (port === config.implicitTlsPort) return { variable: 'FTPS_IMPLICIT_PORT', purpose: 'implicit FTPS' };
  if (port === config.healthPort) return { variable: 'HEALTH_PORT', purpose: 'the health check' };
  return { variable: 'FTP_PASSIVE_PORTS', purpose: 'a passive data port' };
}
