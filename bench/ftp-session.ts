import { Client } from 'basic-ftp';
import { basename } from 'node:path';
import { median } from './measure.ts';

/**
 * One FTP session (basic-ftp) for work made of many transfers: many files uploaded
 * one after the other over one control connection, as `mput` does, and a LIST.
 *
 * Not curl: curl 7.88 (Debian 12), reusing its control connection for the next file
 * of a glob, sometimes waits a full second before it connects the data connection
 * (its multi loop misses that the EPSV reply already arrived). Measured on this
 * machine: 18 of 200 small-file uploads to the bridge and 26 of 200 to vsftpd stalled
 * so, which would make the small-file figure a count of curl's stalls. A single
 * transfer per curl invocation never stalled (0 of 200), so curl drives those.
 */
export interface FtpEndpoint {
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

async function session(endpoint: FtpEndpoint): Promise<Client> {
  const client = new Client(0);
  await client.access({ host: '127.0.0.1', port: endpoint.port, user: endpoint.user, password: endpoint.password });
  // Plain LIST on both sides (the bridge would otherwise be asked for MLSD, which vsftpd lacks).
  client.availableListCommands = ['LIST'];
  return client;
}

/**
 * Uploads `files` one by one into `remoteDir` (created if missing), keeping their
 * names; resolves with the seconds each upload took (STOR to 226).
 */
export async function uploadFiles(endpoint: FtpEndpoint, remoteDir: string, files: readonly string[]): Promise<number[]> {
  const client = await session(endpoint);
  const seconds: number[] = [];
  try {
    await client.ensureDir(remoteDir);
    for (const file of files) {
      const started = process.hrtime.bigint();
      await client.uploadFrom(file, basename(file));
      seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    }
    return seconds;
  } finally {
    client.close();
  }
}

/** "median 41 ms (first tenth 35 ms, last tenth 48 ms)": whether per-file time grows with the folder. */
export function perFileSummary(seconds: readonly number[]): string {
  const tenth = Math.max(1, Math.floor(seconds.length / 10));
  const ms = (values: readonly number[]): string => `${(median(values) * 1000).toFixed(1)} ms`;
  return `median ${ms(seconds)} (first tenth ${ms(seconds.slice(0, tenth))}, last tenth ${ms(seconds.slice(-tenth))})`;
}

/** LIST of a folder; resolves with the number of entries. */
export async function listCount(endpoint: FtpEndpoint, remoteDir: string): Promise<number> {
  const client = await session(endpoint);
  try {
    return (await client.list(remoteDir)).length;
  } finally {
    client.close();
  }
}
