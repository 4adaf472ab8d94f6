import { run } from './processes.ts';

/**
 * Python's ftplib as the PROT P client that starts TLS on the data connection after the
 * 150 (as Java's Commons Net and lftp do), where curl starts it before
 * RETR/STOR: the bridge runs a download's TLS natively only when it knows the transfer's
 * direction at the handshake (tls-data-connection.ts), so the two clients see different
 * data paths. One transfer per invocation, 1 MiB blocks, the data connection resuming
 * the control connection's TLS session (the bridge requires it by default).
 */
export interface FtplibOptions {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** PROT P with TLS at most this version; plain FTP when unset. */
  readonly tls?: 'TLSv1.2' | 'TLSv1.3';
}

const SCRIPT = `
import ftplib, ssl, sys
port, user, password, tls, command, path, local = sys.argv[1:8]
class ResumingFTP(ftplib.FTP_TLS):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size
if tls:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = getattr(ssl.TLSVersion, tls.replace('.', '_'))
    ftp = ResumingFTP(context=context)
else:
    ftp = ftplib.FTP()
ftp.connect('127.0.0.1', int(port))
ftp.login(user, password)
if tls:
    ftp.prot_p()
if command == 'STOR':
    with open(local, 'rb') as source:
        ftp.storbinary('STOR ' + path, source, blocksize=1 << 20)
else:
    with open(local, 'wb') as target:
        ftp.retrbinary('RETR ' + path, target.write, blocksize=1 << 20)
ftp.quit()
`;

function args(options: FtplibOptions, command: 'STOR' | 'RETR', path: string, local: string): string[] {
  return ['-c', SCRIPT, String(options.port), options.user, options.password, options.tls ?? '', command, path, local];
}

export async function ftplibUpload(options: FtplibOptions, path: string, file: string): Promise<void> {
  await run('python3', args(options, 'STOR', path, file), { timeoutMs: 3_600_000 });
}

export async function ftplibDownload(options: FtplibOptions, path: string): Promise<void> {
  await run('python3', args(options, 'RETR', path, '/dev/null'), { timeoutMs: 3_600_000 });
}
