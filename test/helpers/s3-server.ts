import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { FauxqsServer } from 'fauxqs';
import { startLoopbackFauxqs } from '../../runtime/src/local/loopback-fauxqs.ts';

/**
 * A real S3-compatible server (fauxqs) on 127.0.0.1 only, with one bucket, objects kept as
 * files in a temporary directory. fauxqs holds objects in memory while serving them,
 * so tests keep their files to tens of MiB.
 */
export interface TestS3 {
  readonly endpoint: string;
  readonly bucket: string;
  /** Where fauxqs keeps objects (in-progress multipart uploads under `_multipart/`). */
  readonly storageDir: string;
  /** A plain SDK client for test assertions (path style, checksums only when required). */
  readonly client: S3Client;
  stop(): Promise<void>;
}

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
export const TEST_REGION = 'us-east-1';

export async function startTestS3(bucket = 'test-bucket'): Promise<TestS3> {
  const storageDir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-s3-'));
  // fauxqs alone would listen on every interface.
  const server: FauxqsServer = await startLoopbackFauxqs({
    port: 0,
    logger: false,
    s3StorageDir: storageDir,
  });
  server.createBucket(bucket);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new S3Client({
    endpoint,
    region: TEST_REGION,
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    bucket,
    storageDir,
    client,
    async stop() {
      client.destroy();
      await server.stop();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

/** In-progress multipart uploads fauxqs holds (it has no ListMultipartUploads). */
export async function pendingMultipartUploads(s3: TestS3): Promise<string[]> {
  try {
    return await readdir(join(s3.storageDir, '_multipart'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
