import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { FauxqsServer } from 'fauxqs';
import { startLoopbackFauxqs } from '../../runtime/src/local/loopback-fauxqs.ts';

/**
 * The S3 server a test talks to. By default fauxqs, an emulator, on 127.0.0.1 only, with one
 * bucket, objects kept as files in a temporary directory (fauxqs holds objects in memory
 * while serving them, so tests keep their files to tens of MiB).
 *
 * With TEST_S3_ENDPOINT set (and TEST_S3_ACCESS_KEY_ID, TEST_S3_SECRET_ACCESS_KEY), an
 * external S3 implementation instead (test/s3/rgw.sh starts Ceph's RADOS Gateway): each
 * startTestS3() creates a bucket of its own there and stop() empties and deletes it.
 */
export interface TestS3 {
  readonly endpoint: string;
  readonly bucket: string;
  /** 'fauxqs', or TEST_S3_NAME of the external server ('rgw'; 'external' if unnamed). */
  readonly implementation: string;
  /** True when the server is not this process's: tests cannot stop or restart it. */
  readonly external: boolean;
  /** Where fauxqs keeps objects (in-progress multipart uploads under `_multipart/`); '' when external. */
  readonly storageDir: string;
  /** A plain SDK client for test assertions (path style, checksums only when required). */
  readonly client: S3Client;
  stop(): Promise<void>;
}

const EXTERNAL_ENDPOINT = process.env['TEST_S3_ENDPOINT'];

export const TEST_CREDENTIALS = {
  accessKeyId: process.env['TEST_S3_ACCESS_KEY_ID'] ?? 'test',
  secretAccessKey: process.env['TEST_S3_SECRET_ACCESS_KEY'] ?? 'test',
} as const;
export const TEST_REGION = 'us-east-1';

/** Which S3 implementation this run's tests talk to ('fauxqs', 'rgw', ...). */
export const TEST_S3_IMPLEMENTATION = EXTERNAL_ENDPOINT === undefined ? 'fauxqs' : (process.env['TEST_S3_NAME'] ?? 'external');

/**
 * Whether the store keeps the checksums uploads send (x-amz-checksum-*), as AWS S3 and
 * fauxqs do. Ceph RGW 16 (Pacific) keeps none: there the bridge answers HASH by reading
 * the object, and the tests expect a read where they would expect the stored value.
 */
export const TEST_S3_KEEPS_CHECKSUMS = TEST_S3_IMPLEMENTATION !== 'rgw';

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
  if (EXTERNAL_ENDPOINT !== undefined) return await startExternal(EXTERNAL_ENDPOINT, bucket);
  const storageDir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-s3-'));
  // fauxqs alone would listen on every interface.
  const server: FauxqsServer = await startLoopbackFauxqs({
    port: 0,
    logger: false,
    s3StorageDir: storageDir,
  });
  server.createBucket(bucket);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = testS3Client(endpoint);
  return {
    endpoint,
    bucket,
    implementation: 'fauxqs',
    external: false,
    storageDir,
    client,
    async stop() {
      client.destroy();
      await server.stop();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

/** A bucket of this test's own on the external server, named after `bucket` and unique. */
async function startExternal(endpoint: string, bucket: string): Promise<TestS3> {
  const client = testS3Client(endpoint);
  const name = `${bucket}-${process.pid}-${randomBytes(4).toString('hex')}`.slice(0, 63);
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return {
    endpoint,
    bucket: name,
    implementation: TEST_S3_IMPLEMENTATION,
    external: true,
    storageDir: '',
    client,
    async stop() {
      try {
        await emptyBucket(client, name);
        await client.send(new DeleteBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
    },
  };
}

async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  for (const upload of await listUploads(client, bucket)) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId }));
  }
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    const keys = (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [{ Key: object.Key }]));
    if (keys.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}

async function listUploads(client: S3Client, bucket: string): Promise<{ key: string; uploadId: string }[]> {
  const uploads: { key: string; uploadId: string }[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
    );
    for (const upload of page.Uploads ?? []) {
      if (upload.Key !== undefined && upload.UploadId !== undefined) uploads.push({ key: upload.Key, uploadId: upload.UploadId });
    }
    if (page.IsTruncated !== true) return uploads;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}

/** The stored bytes of `key`, or undefined when there is no such object (or it cannot be read). */
export async function storedBody(s3: Pick<TestS3, 'client' | 'bucket'>, key: string): Promise<Buffer | undefined> {
  try {
    const output = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(await output.Body!.transformToByteArray());
  } catch {
    return undefined;
  }
}

/**
 * The ids of the in-progress multipart uploads in the test's bucket: asked of S3
 * (ListMultipartUploads) on an external server, read from fauxqs's folder otherwise
 * (fauxqs has no ListMultipartUploads).
 */
export async function pendingMultipartUploads(s3: TestS3): Promise<string[]> {
  if (s3.external) return (await listUploads(s3.client, s3.bucket)).map((upload) => upload.uploadId);
  try {
    return await readdir(join(s3.storageDir, '_multipart'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
