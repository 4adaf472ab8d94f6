import { run } from './processes.ts';

/**
 * lftp as the PROT P client that starts TLS on the data connection after the 150 (as
 * Java's Commons Net and Python's ftplib do), where curl starts it before RETR/STOR: the
 * bridge runs a download's TLS natively only when it knows the transfer's direction at
 * the handshake (tls-data-connection.ts), so the two clients see different data paths.
 * One transfer per invocation; GnuTLS, resuming the control connection's TLS session on
 * the data connection (the bridge requires it by default).
 */
export interface LftpOptions {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** PROT P with this TLS version; plain FTP when unset. */
  readonly tls?: 'TLSv1.2' | 'TLSv1.3';
}

function script(options: LftpOptions, transfer: string): string {
  const tls =
    options.tls === undefined
      ? ['set ftp:ssl-allow no']
      : [
          'set ssl:verify-certificate no',
          'set ftp:ssl-force yes',
          'set ftp:ssl-protect-data yes',
          `set ssl:priority NORMAL:-VERS-ALL:+VERS-${options.tls === 'TLSv1.2' ? 'TLS1.2' : 'TLS1.3'}`,
        ];
  return [...tls, 'set net:max-retries 1', 'set xfer:clobber on', `open -u ${options.user},${options.password} 127.0.0.1:${options.port}`, transfer].join('; ');
}

export async function lftpUpload(options: LftpOptions, path: string, file: string): Promise<void> {
  await run('lftp', ['-c', script(options, `put ${file} -o ${path}`)], { timeoutMs: 3_600_000 });
}

export async function lftpDownload(options: LftpOptions, path: string): Promise<void> {
  await run('lftp', ['-c', script(options, `get ${path} -o /dev/null`)], { timeoutMs: 3_600_000 });
}
