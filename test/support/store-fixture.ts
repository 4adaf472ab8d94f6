import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../runtime/src/storage/s3/s3-client.ts';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../runtime/src/storage/s3/s3-object-store.ts';
import { MIB } from '../../runtime/src/storage/s3/part-size-plan.ts';
import { after, afterEach, before, beforeEach } from 'node:test';
import { captureLogger, type CapturedLogger } from './capture-logger.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { pendingMultipartUploads, startTestS3, TEST_CREDENTIALS, TEST_REGION, type TestS3 } from './s3-server.ts';
import type { ChecksumMode } from '../../runtime/src/storage/s3/s3-client.ts';
import type { S3Client } from '@aws-sdk/client-s3';

export const PREFIX = 'root/home';

export interface StoreUnderTest {
  readonly store: S3ObjectStore;
  /** The store's own client (built by createS3Client). */
  readonly client: S3Client;
  readonly logs: CapturedLogger;
}

/** A store on `endpoint` with the real client factory; 5 MiB parts keep test files small. */
export function makeStore(
  endpoint: string,
  bucket: string,
  overrides: Partial<S3ObjectStoreOptions> = {},
  checksum: ChecksumMode = 'when_supported',
  tuning: { readonly socketTimeoutMs?: number } = {},
): StoreUnderTest {
  const client = createS3Client(
    { bucket, prefix: PREFIX, endpoint, forcePathStyle: true, region: TEST_REGION, checksum, partSizeBytes: 5 * MIB },
    { credentials: TEST_CREDENTIALS, connectionTimeoutMs: 2000, socketTimeoutMs: tuning.socketTimeoutMs ?? 10_000 },
  );
  const logs = captureLogger('debug');
  const store = new S3ObjectStore({
    client,
    bucket,
    prefix: PREFIX,
    partSizeBytes: 5 * MIB,
    logger: logs.logger,
    abortRetryDelaysMs: [100, 200],
    ...overrides,
  });
  return { store, client, logs };
}

export { pendingMultipartUploads, startTestS3, type TestS3 };

/** The test S3 for a describe block and, for each of its tests, a fault proxy in front of it. */
export interface FaultProxyFixture {
  readonly s3: TestS3;
  /** This test's proxy. */
  readonly proxy: FaultProxy;
  /** A store that reaches S3 through this test's proxy (makeStore's options); its client is destroyed after the test. */
  store(overrides?: Partial<S3ObjectStoreOptions>, checksum?: ChecksumMode, tuning?: { readonly socketTimeoutMs?: number }): StoreUnderTest;
}

/**
 * Registers the hooks of a describe block whose tests inject S3 faults: the test S3
 * started once, a fresh proxy per test (no fault carries over), and every store's
 * client and the proxy closed after each test.
 */
export function faultProxyFixture(): FaultProxyFixture {
  let s3: TestS3 | undefined;
  let proxy: FaultProxy | undefined;
  const stores: StoreUnderTest[] = [];
  before(async () => {
    s3 = await startTestS3();
  });
  after(async () => {
    await s3?.stop();
  });
  beforeEach(async () => {
    proxy = await startFaultProxy(fixture.s3.endpoint);
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) store.client.destroy();
    await proxy?.close();
    proxy = undefined;
  });
  const fixture: FaultProxyFixture = {
    get s3() {
      if (!s3) throw new Error('the test S3 starts in the describe block\'s before hook');
      return s3;
    },
    get proxy() {
      if (!proxy) throw new Error('the fault proxy exists only while a test runs');
      return proxy;
    },
    store(overrides = {}, checksum = 'when_supported', tuning = {}) {
      const store = makeStore(fixture.proxy.endpoint, fixture.s3.bucket, overrides, checksum, tuning);
      stores.push(store);
      return store;
    },
  };
  return fixture;
}

export function sha256(data: Buffer | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A source that yields `data` in chunks of `chunkBytes` (like a data connection would). */
export function sourceOf(data: Buffer, chunkBytes = 64 * 1024): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= data.length) {
        this.push(null);
        return;
      }
      const end = Math.min(offset + chunkBytes, data.length);
      this.push(data.subarray(offset, end));
      offset = end;
    },
  });
}

/** A source that yields `data` in chunks, then fails with `error` after `failAfter` bytes. */
export function failingSource(data: Buffer, failAfter: number, error: Error): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= failAfter) {
        this.destroy(error);
        return;
      }
      const end = Math.min(offset + 64 * 1024, failAfter);
      this.push(data.subarray(offset, end));
      offset = end;
    },
  });
}

export function bytes(size: number): Buffer {
  return randomBytes(size);
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(chunks);
}

/** Content of `key` as S3 holds it (read with the helper's plain client), or undefined. */
export async function objectContent(s3: TestS3, key: string): Promise<Buffer | undefined> {
  try {
    const output = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from((await output.Body?.transformToByteArray()) ?? new Uint8Array());
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

export async function objectMetadata(s3: TestS3, key: string): Promise<Record<string, string> | undefined> {
  const output = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
  return output.Metadata;
}

export async function putRaw(s3: TestS3, key: string, body: Buffer | string): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
}

export function key(path: string): string {
  return `${PREFIX}/${path}`;
}
