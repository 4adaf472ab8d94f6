import { Client } from 'basic-ftp';
import { basename } from 'node:path';

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

/** Uploads `files` one by one into `remoteDir` (created if missing), keeping their names. */
export async function uploadFiles(endpoint: FtpEndpoint, remoteDir: string, files: readonly string[]): Promise<void> {
  const client = await session(endpoint);
  try {
    await client.ensureDir(remoteDir);
    for (const file of files) await client.uploadFrom(file, basename(file));
  } finally {
    client.close();
  }
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
