import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createS3Client } from '../../runtime/src/storage/s3/s3-client.ts';
import type { DiscardStats } from '../../test/support/discard-s3.ts';
import { startJsonService, type Service } from '../processes.ts';
import { ROOT } from './bridge.ts';

/**
 * The two S3 endpoints of the bench, each in a process of its own: fauxqs (a real,
 * if slow, S3-compatible store that keeps every byte) and the discard endpoint
 * (test/support/discard-s3.ts: keeps only sizes).
 */
export const BUCKET = 'bench';

export interface S3Endpoint {
  readonly endpoint: string;
  readonly pid: number;
  /** An SDK client with the HTTP settings the bridge uses (createS3Client), checksums only when required. */
  readonly client: S3Client;
  stop(): Promise<void>;
}

export async function startFauxqs(work: string): Promise<S3Endpoint> {
  const storageDir = join(work, 'fauxqs');
  await mkdir(storageDir, { recursive: true });
  const service = await startJsonService<{ port: number }>(
    process.execPath,
    [join(ROOT, 'bench', 'servers', 'fauxqs-main.ts'), storageDir, BUCKET],
    { cwd: ROOT },
  );
  return endpointOf(service);
}

export async function startDiscardEndpoint(): Promise<S3Endpoint> {
  const service = await startJsonService<{ port: number }>(process.execPath, [join(ROOT, 'test', 'support', 'discard-s3.ts')], { cwd: ROOT });
  return endpointOf(service);
}

function endpointOf(service: Service<{ port: number }>): S3Endpoint {
  const endpoint = `http://127.0.0.1:${service.info.port}`;
  const client = benchS3Client(endpoint);
  return {
    endpoint,
    pid: service.pid,
    client,
    async stop() {
      client.destroy();
      await service.stop();
    },
  };
}

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** What fauxqs and the discard endpoint take (they check no signature). */
export const BENCH_CREDENTIALS: S3Credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

export function benchS3Client(endpoint: string, credentials: S3Credentials = BENCH_CREDENTIALS): S3Client {
  return createS3Client(
    { bucket: BUCKET, prefix: '', endpoint, forcePathStyle: true, region: 'us-east-1', checksum: 'when_required', partSizeBytes: 8 << 20 },
    { credentials },
  );
}

/**
 * An S3 implementation running outside the bench, handed over the way test/s3/rgw.sh
 * hands one to the test suites: TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY_ID,
 * TEST_S3_SECRET_ACCESS_KEY and TEST_S3_NAME (`source <(test/s3/rgw.sh start)`).
 */
export interface ExternalS3 {
  readonly name: string;
  readonly endpoint: string;
  readonly credentials: S3Credentials;
}

export function externalS3(env: NodeJS.ProcessEnv): ExternalS3 | undefined {
  const endpoint = env.TEST_S3_ENDPOINT?.trim();
  if (endpoint === undefined || endpoint === '') return undefined;
  return {
    name: env.TEST_S3_NAME?.trim() || 'external',
    endpoint,
    credentials: { accessKeyId: env.TEST_S3_ACCESS_KEY_ID ?? '', secretAccessKey: env.TEST_S3_SECRET_ACCESS_KEY ?? '' },
  };
}

/** A bucket of the bench's own on an external S3, emptied and deleted by remove(). */
export async function createExternalBucket(external: ExternalS3): Promise<{ readonly bucket: string; readonly client: S3Client; remove(): Promise<void> }> {
  const client = benchS3Client(external.endpoint, external.credentials);
  const bucket = `ftp-s3-bridge-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    bucket,
    client,
    async remove() {
      try {
        for (;;) {
          const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
          const keys = (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [{ Key: object.Key }]));
          if (keys.length === 0) break;
          await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
        }
        const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
        for (const upload of uploads.Uploads ?? []) {
          await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }));
        }
        await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      } finally {
        client.destroy();
      }
    },
  };
}

/** Makes an object of `size` synthetic bytes exist on the discard endpoint (for downloads; 0 for a folder marker). */
export async function registerObject(discard: S3Endpoint, key: string, size: number): Promise<void> {
  const response = await fetch(`${discard.endpoint}/_bench/object`, { method: 'POST', body: JSON.stringify({ key, size }) });
  if (!response.ok) throw new Error(`discard endpoint refused object ${key}: ${response.status}`);
}

/** Makes a folder of `count` synthetic objects exist on the discard endpoint (for listings). */
export async function registerFolder(discard: S3Endpoint, prefix: string, count: number): Promise<void> {
  const response = await fetch(`${discard.endpoint}/_bench/folder`, { method: 'POST', body: JSON.stringify({ prefix, count }) });
  if (!response.ok) throw new Error(`discard endpoint refused folder ${prefix}: ${response.status}`);
}

export async function discardStats(discard: S3Endpoint): Promise<DiscardStats> {
  return (await (await fetch(`${discard.endpoint}/_bench/stats`)).json()) as DiscardStats;
}
