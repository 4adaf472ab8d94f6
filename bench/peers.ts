import { access } from 'node:fs/promises';
import { hasCommand, run } from './processes.ts';

/**
 * The bench's peers come from Debian's packages: curl (the FTP client of every
 * scenario), vsftpd (the stock FTP server), rclone and fuse3 (the FUSE mount of the
 * bucket). Missing ones are installed when we are root; otherwise the scenarios that
 * need them are skipped with the reason.
 */
const PACKAGES: ReadonlyArray<{ readonly command: string; readonly debianPackage: string }> = [
  { command: 'curl', debianPackage: 'curl' },
  { command: 'vsftpd', debianPackage: 'vsftpd' },
  { command: 'rclone', debianPackage: 'rclone' },
  { command: 'fusermount3', debianPackage: 'fuse3' },
];

export interface PeerAvailability {
  readonly ftpServer: boolean;
  readonly fuseMount: boolean;
  /** Why a peer is missing, if one is. */
  readonly notes: readonly string[];
}

export async function ensurePeers(log: (line: string) => void): Promise<PeerAvailability> {
  const missing = [];
  for (const entry of PACKAGES) if (!(await hasCommand(entry.command))) missing.push(entry);
  const notes: string[] = [];
  if (missing.length > 0) {
    const names = missing.map((entry) => entry.debianPackage);
    if (process.getuid?.() === 0) {
      log(`installing ${names.join(', ')} from Debian's packages`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      try {
        await run('apt-get', ['update'], { env, timeoutMs: 600_000 });
        await run('apt-get', ['install', '-y', '--no-install-recommends', ...names], { env, timeoutMs: 900_000 });
      } catch (error) {
        notes.push(`could not install ${names.join(', ')}: ${(error as Error).message.split('\n')[0]}`);
      }
    } else {
      notes.push(`not root: cannot install ${names.join(', ')}`);
    }
  }
  if (!(await hasCommand('curl'))) throw new Error('curl is needed by every scenario and could not be installed');
  const ftpServer = await hasCommand('vsftpd');
  const fuseDevice = await access('/dev/fuse').then(
    () => true,
    () => false,
  );
  if (!fuseDevice) notes.push('/dev/fuse is missing: no rclone mount');
  const fuseMount = ftpServer && fuseDevice && (await hasCommand('rclone')) && (await hasCommand('fusermount3'));
  return { ftpServer, fuseMount, notes };
}
