import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** AWS_REQUEST_CHECKSUM_CALCULATION: when the SDK adds and checks request checksums. */
export type ChecksumMode = 'when_supported' | 'when_required';

export interface S3Settings {
  readonly bucket: string;
  /** Root prefix inside the bucket, normalised to '' or 'a/b' (no leading/trailing slash). */
  readonly prefix: string;
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean;
  readonly region: string | undefined;
  readonly checksum: ChecksumMode;
  /** First multipart part size in bytes (>= 5 MiB). */
  readonly partSizeBytes: number;
}

/** Tunables of the HTTP layer below the S3 client; defaults suit both AWS and local stores. */
export interface S3ClientTuning {
  /** TCP connect timeout. @default 5000 */
  readonly connectionTimeoutMs?: number;
  /** A request fails after this long without any bytes moving either way. @default 60000 */
  readonly socketTimeoutMs?: number;
  /** Attempts per request, first one included (SDK standard retry mode with backoff). @default 4 */
  readonly maxAttempts?: number;
  /** Concurrent connections per client; the bridge sizes it from its connection limit. @default 64 */
  readonly maxSockets?: number;
  /** Fixed credentials (tests, local stack). @default the AWS default credential chain */
  readonly credentials?: S3ClientConfig['credentials'];
}

/**
 * The one S3 client of the process. Credentials come from the AWS default chain
 * (environment, web identity, ECS task role, ...); the SDK reads those itself.
 *
 * No total request timeout: a 1 GiB part over a slow link may take minutes, so a
 * stalled request is detected by the socket idle timeout instead.
 */
export function createS3Client(settings: S3Settings, tuning: S3ClientTuning = {}): S3Client {
  const checksum = settings.checksum === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  const agent = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: tuning.maxSockets ?? 64 };
  const config: S3ClientConfig = {
    forcePathStyle: settings.forcePathStyle,
    requestChecksumCalculation: checksum,
    responseChecksumValidation: checksum,
    retryMode: 'standard',
    maxAttempts: tuning.maxAttempts ?? 4,
    requestHandler: {
      connectionTimeout: tuning.connectionTimeoutMs ?? 5000,
      socketTimeout: tuning.socketTimeoutMs ?? 60_000,
      httpAgent: agent,
      httpsAgent: agent,
    },
  };
  if (tuning.credentials !== undefined) config.credentials = tuning.credentials;
  if (settings.endpoint !== undefined) {
    config.endpoint = settings.endpoint;
  } else {
    // Real AWS: a bucket in another region answers with a redirect the SDK can follow.
    config.followRegionRedirects = true;
  }
  // Without a region the SDK falls back to its own chain (AWS_REGION, profile);
  // S3-compatible stores usually ignore the region, so give them a harmless one.
  const region = settings.region ?? (settings.endpoint !== undefined ? 'us-east-1' : undefined);
  if (region !== undefined) config.region = region;
  const client = new S3Client(config);
  client.middlewareStack.add(
    (next) => async (args) => {
      unsignedPayloadOverTls((args as { readonly request?: OutgoingRequest }).request);
      return await next(args);
    },
    { step: 'build', priority: 'low', name: 'unsignedPayloadOverTls' },
  );
  return client;
}

const CONTENT_SHA256 = 'x-amz-content-sha256';

/** What the middleware reads of the SDK's HTTP request (@smithy/protocol-http's HttpRequest). */
interface OutgoingRequest {
  readonly protocol?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/**
 * Over HTTPS, requests with a body are signed without hashing it
 * (`x-amz-content-sha256: UNSIGNED-PAYLOAD`, what boto3 and the AWS CLI do): TLS
 * protects the body in transit and, unless S3_CHECKSUM=when_required, the body's checksum
 * (CRC32 of a part, SHA-256 of a single put) still lets S3 refuse a corrupted one. SHA-256 of every uploaded byte was a fifth of
 * the bridge's CPU. Over plain HTTP (a local store) the payload hash stays signed.
 * A request that already names its payload hash (the SDK's own streaming forms) keeps it.
 */
function unsignedPayloadOverTls(request: OutgoingRequest | undefined): void {
  const headers = request?.headers;
  if (request?.protocol !== 'https:' || request.body === undefined || headers === undefined) return;
  if (!Object.keys(headers).some((name) => name.toLowerCase() === CONTENT_SHA256)) headers[CONTENT_SHA256] = 'UNSIGNED-PAYLOAD';
}
