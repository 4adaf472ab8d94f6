import { run } from './processes.ts';

/**
 * curl as the FTP client of every single-transfer scenario: a real, widely used
 * client, the same one against the bridge and against vsftpd. Binary mode, passive
 * (EPSV), one transfer and one control connection per invocation (see ftp-session.ts for
 * why curl does not drive many-file work).
 */
export interface CurlOptions {
  /** Explicit FTPS: AUTH TLS, then PROT P for the data connection. */
  readonly tls?: boolean;
}

function baseArgs(options: CurlOptions): string[] {
  const args = ['-sS', '--fail', '--max-time', '3600'];
  if (options.tls === true) args.push('--ssl-reqd', '-k');
  return args;
}

export async function curlUpload(url: string, file: string, options: CurlOptions = {}): Promise<void> {
  await run('curl', [...baseArgs(options), '--ftp-create-dirs', '-T', file, url]);
}

export async function curlDownload(url: string, options: CurlOptions = {}): Promise<void> {
  await run('curl', [...baseArgs(options), '-o', '/dev/null', url]);
}

/** PUT of a file over plain HTTP (the minimal relay). */
export async function httpUpload(url: string, file: string): Promise<void> {
  await run('curl', ['-sS', '--fail', '--max-time', '3600', '-T', file, url]);
}

/** GET over plain HTTP into /dev/null (the minimal relay). */
export async function httpDownload(url: string): Promise<void> {
  await run('curl', ['-sS', '--fail', '--max-time', '3600', '-o', '/dev/null', url]);
}
