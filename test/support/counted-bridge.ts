import { Upload } from '@aws-sdk/lib-storage';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHILD_USER, startChildBridge, type ChildBridgeUser } from './child-bridge.ts';
import { startFaultProxy, type FaultProxy, type S3Operation } from './fault-proxy.ts';
import { startTestS3, type TestS3 } from './s3-server.ts';
import type { AbuseBridge } from './abuse-bridge.ts';

/**
 * An abuse bridge whose S3 requests go through the counting proxy: for attacks that
 * make the bridge spend S3 requests and bytes, measured per FTP command.
 */
export interface CountedAbuseBridge extends AbuseBridge {
  readonly proxy: FaultProxy;
}

export async function startCountedAbuseBridge(
  options: { readonly env?: Record<string, string>; readonly users?: readonly ChildBridgeUser[] } = {},
): Promise<CountedAbuseBridge> {
  const s3 = await startTestS3();
  const proxy = await startFaultProxy(s3.endpoint);
  const dir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-abuse-'));
  const cleanUp = async (): Promise<void> => {
    await proxy.close();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const child = await startChildBridge({
      s3: { endpoint: proxy.endpoint, bucket: s3.bucket },
      dir,
      users: [CHILD_USER, ...(options.users ?? [])],
      ...(options.env ? { env: options.env } : {}),
    });
    return {
      s3,
      proxy,
      child,
      async stop() {
        child.kill();
        await cleanUp();
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

const OPERATIONS: readonly S3Operation[] = [
  'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload', 'AbortMultipartUpload', 'PutObject',
  'CopyObject', 'GetObject', 'ListObjects', 'HeadObject', 'DeleteObject', 'DeleteObjects', 'Other',
];

/** Every request and body byte the proxy has seen so far. */
export function s3Traffic(proxy: FaultProxy): { requests: number; downloaded: number; uploaded: number; by: Record<string, number> } {
  let requests = 0;
  let downloaded = 0;
  let uploaded = 0;
  const by: Record<string, number> = {};
  for (const operation of OPERATIONS) {
    const count = proxy.count(operation);
    if (count > 0) by[operation] = count;
    requests += count;
    downloaded += proxy.bytes(operation).received;
    uploaded += proxy.bytes(operation).sent;
  }
  return { requests, downloaded, uploaded, by };
}

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 10 ms). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces, closed by the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Puts a large object as the emulator takes it: a multipart upload of 8 MiB parts (it refuses bodies past about 11 MiB). */
export async function putLarge(s3: TestS3, key: string, body: Buffer): Promise<void> {
  await new Upload({ client: s3.client, params: { Bucket: s3.bucket, Key: key, Body: body }, partSize: 8 * 1024 * 1024, queueSize: 2 }).done();
}
