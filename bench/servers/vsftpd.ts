import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePortRange } from '../../test/support/ports.ts';
import { stopProcessTree, waitForFtp } from '../processes.ts';

/**
 * A stock vsftpd on 127.0.0.1 with a temporary configuration: anonymous login,
 * uploads allowed, chrooted to `root`. vsftpd refuses an anonymous root that is
 * writable, so `root` is a plain read-only folder and the writable places (a FUSE
 * mount, or a 0777 folder) are below it.
 *
 * seccomp_sandbox and the network/PID isolation are off because they need kernel
 * features a container may not give; they are security features, not speed ones.
 */
export interface VsftpdProcess {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export async function startVsftpd(options: { readonly root: string; readonly work: string; readonly name: string }): Promise<VsftpdProcess> {
  const port = await freePortRange(21);
  const config = [
    'listen=YES',
    'listen_ipv6=NO',
    'listen_address=127.0.0.1',
    `listen_port=${port}`,
    'background=NO',
    'anonymous_enable=YES',
    'local_enable=NO',
    'no_anon_password=YES',
    'write_enable=YES',
    'anon_upload_enable=YES',
    'anon_mkdir_write_enable=YES',
    'anon_other_write_enable=YES',
    'anon_umask=022',
    `anon_root=${options.root}`,
    'pasv_enable=YES',
    'pasv_address=127.0.0.1',
    `pasv_min_port=${port + 1}`,
    `pasv_max_port=${port + 20}`,
    'seccomp_sandbox=NO',
    'isolate=NO',
    'isolate_network=NO',
    'xferlog_enable=NO',
    'dirmessage_enable=NO',
    'secure_chroot_dir=/var/run/vsftpd/empty',
    'pam_service_name=vsftpd',
    'max_clients=200',
    'ftpd_banner=vsftpd (bench)',
  ];
  const configFile = join(options.work, `vsftpd-${options.name}.conf`);
  await writeFile(configFile, `${config.join('\n')}\n`);
  const logFile = join(options.work, `vsftpd-${options.name}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn('vsftpd', [configFile], { stdio: ['ignore', log, log] });
  closeSync(log);
  try {
    await Promise.race([
      waitForFtp(port),
      new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`vsftpd exited (${code}) at start`)))),
    ]);
  } catch (error) {
    await stopProcessTree(child);
    throw new Error(`${(error as Error).message}\n${await readFile(logFile, 'utf8').catch(() => '')}`);
  }
  // vsftpd forks a process per session: they go with it.
  return { port, url: `ftp://anonymous:bench@127.0.0.1:${port}`, stop: () => stopProcessTree(child) };
}
