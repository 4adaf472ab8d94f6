import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { startFauxqs, type FauxqsServer } from 'fauxqs';

/**
 * A real S3-compatible server (fauxqs) on 127.0.0.1 with one bucket, objects kept as
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

/** A plain SDK client for `endpoint` (the test server or a proxy in front of it): path style, checksums only when required. */
export function testS3Client(endpoint: string, overrides: Omit<S3ClientConfig, 'endpoint'> = {}): S3Client {
  return new S3Client({
    endpoint,
    region: TEST_REGION,
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  });
}

export async function startTestS3(bucket = 'test-bucket'): Promise<TestS3> {
  const storageDir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-s3-'));
  const server: FauxqsServer = await startFauxqs({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    s3StorageDir: storageDir,
  });
  server.createBucket(bucket);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = testS3Client(endpoint);
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
