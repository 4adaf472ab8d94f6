import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './bridge.ts';
import { findTool, TOOLS_REQUIRED } from './required-tool.ts';

/**
 * vsftpd from Debian's packages, started by the test on 127.0.0.1 with a temporary
 * configuration: anonymous login into a temporary folder with an `upload/` folder
 * that takes uploads, a small passive range, no privileges needed
 * (run_as_launching_user), in the foreground. `stop()` ends it and every session
 * process it forked (they share its process group).
 */
export interface Vsftpd {
  readonly port: number;
  readonly passivePorts: { readonly first: number; readonly last: number };
  /** The anonymous root: the login folder. */
  readonly root: string;
  stop(): Promise<void>;
}

export interface VsftpdOptions {
  /** pasv_address: what PASV announces. */
  readonly pasvAddress?: string;
  /** Explicit FTPS (AUTH TLS), optional for clients. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/** Where vsftpd is installed, if it is (Debian puts it in /usr/sbin, often not on PATH). */
export function findVsftpd(): string | undefined {
  return findTool('vsftpd', ['/usr/sbin', '/usr/local/sbin', '/sbin']);
}

/** In CI a missing vsftpd fails the tests (.ci/run installs it); elsewhere they are skipped. */
export const VSFTPD_REQUIRED = TOOLS_REQUIRED;

export async function startVsftpd(options: VsftpdOptions = {}): Promise<Vsftpd> {
  const binary = findVsftpd();
  if (!binary) throw new Error('vsftpd is not installed: apt-get install vsftpd');
  const dir = await mkdtemp(join(tmpdir(), 'probe-vsftpd-'));
  const root = join(dir, 'root');
  await mkdir(join(root, 'upload'), { recursive: true });
  await mkdir(join(dir, 'empty'));
  await chmod(join(root, 'upload'), 0o777);
  await writeFile(join(root, 'readme.txt'), 'vsftpd test root\n');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const first = 41000 + Math.floor(Math.random() * 1500) * 10;
    const passivePorts = { first, last: first + 9 };
    const configFile = join(dir, 'vsftpd.conf');
    await writeFile(configFile, configuration({ dir, root, port, passivePorts, ...options }));
    const child = spawn(binary, [configFile], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ready = await listening(child, port);
    if (ready) {
      return {
        port,
        passivePorts,
        root,
        async stop() {
          await stopGroup(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    await stopGroup(child);
    if (attempt >= 4 || !/bind|address already in use/i.test(output)) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`vsftpd did not start: ${output.trim() || `exit ${child.exitCode}`}`);
    }
  }
}

function configuration(options: VsftpdOptions & { dir: string; root: string; port: number; passivePorts: { first: number; last: number } }): string {
  const lines = [
    'listen=YES',
    'listen_ipv6=NO',
    'listen_address=127.0.0.1',
    `listen_port=${options.port}`,
    'background=NO',
    // No root needed, and none used when the tests run as root: no chroot, no privilege separation.
    'run_as_launching_user=YES',
    `secure_chroot_dir=${join(options.dir, 'empty')}`,
    'seccomp_sandbox=NO',
    'anonymous_enable=YES',
    'no_anon_password=YES',
    'local_enable=NO',
    `anon_root=${options.root}`,
    'write_enable=YES',
    'anon_upload_enable=YES',
    'anon_other_write_enable=YES',
    'anon_umask=022',
    'pasv_enable=YES',
    `pasv_min_port=${options.passivePorts.first}`,
    `pasv_max_port=${options.passivePorts.last}`,
    'port_enable=YES',
    'connect_from_port_20=NO',
    'xferlog_enable=NO',
    'syslog_enable=NO',
  ];
  if (options.pasvAddress) lines.push(`pasv_address=${options.pasvAddress}`);
  if (options.tls) {
    lines.push(
      'ssl_enable=YES',
      `rsa_cert_file=${options.tls.certFile}`,
      `rsa_private_key_file=${options.tls.keyFile}`,
      'allow_anon_ssl=YES',
      'force_anon_logins_ssl=NO',
      'force_anon_data_ssl=NO',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Whether vsftpd accepts connections within 5 s (false when it exits first). */
async function listening(child: ChildProcess, port: number): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && child.exitCode === null) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return true;
    await delay(50);
  }
  return false;
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  try {
    // The group vsftpd leads: it and the session processes it forked, nothing else.
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  await exited;
}
