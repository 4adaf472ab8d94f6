import type { Logger } from 'pino';
import { StorageError, type StorageErrorKind } from '../storage-error.ts';

/** What was being done when S3 failed, for the mapping and the log line. */
export interface FailureContext {
  /** e.g. 'put-object', 'upload-part', 'abort-multipart-upload'. */
  readonly operation: string;
  readonly key: string;
  /** The caller's signal: an abort error while it is aborted means 'aborted'. */
  readonly signal?: AbortSignal | undefined;
  readonly uploadId?: string | undefined;
}

interface Classification {
  readonly kind: StorageErrorKind;
  readonly message: string;
  /** Expected outcomes are not S3 failures and only logged at debug. */
  readonly level: 'debug' | 'warn' | 'error';
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound']);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'AccountProblem',
  'CredentialsProviderError',
  'ExpiredToken',
  'InvalidAccessKeyId',
  'InvalidObjectState',
  'InvalidToken',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

interface ErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly Code?: unknown;
  readonly message?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown; readonly attempts?: unknown };
}

function shape(error: unknown): ErrorShape {
  return typeof error === 'object' && error !== null ? (error as ErrorShape) : {};
}

function statusOf(error: unknown): number | undefined {
  const status = shape(error).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Maps any error from the SDK (or the network below it) to a StorageError kind and a safe message. */
export function classifyS3Error(error: unknown, signal?: AbortSignal): Classification {
  if (error instanceof StorageError) return { kind: error.kind, message: error.message, level: 'debug' };
  if (signal?.aborted === true) return { kind: 'aborted', message: 'Operation aborted', level: 'debug' };
  const { name, code, Code } = shape(error);
  const errorName = typeof Code === 'string' ? Code : typeof name === 'string' ? name : '';
  const status = statusOf(error);
  if (NOT_FOUND.has(errorName) || (status === 404 && errorName !== 'NoSuchBucket' && errorName !== 'NoSuchUpload')) {
    return { kind: 'not-found', message: 'No such file or folder', level: 'debug' };
  }
  if (ACCESS_DENIED.has(errorName) || errorName.startsWith('KMS.') || status === 403) {
    return { kind: 'access-denied', message: 'Permission denied by storage', level: 'error' };
  }
  if (errorName === 'InvalidRange' || status === 416) {
    return { kind: 'invalid-offset', message: 'Offset beyond end of file', level: 'debug' };
  }
  // 412: a precondition (If-Match, x-amz-copy-source-if-match) saw another version;
  // 409 ConditionalRequestConflict: a conflicting write raced a conditional one.
  if (errorName === 'PreconditionFailed' || status === 412 || errorName === 'ConditionalRequestConflict') {
    return { kind: 'conflict', message: 'The file changed during the operation; nothing was stored', level: 'debug' };
  }
  const networkCode = typeof code === 'string' && NETWORK_CODES.has(code);
  const expectedFailure =
    networkCode ||
    errorName === 'TimeoutError' ||
    errorName === 'AbortError' ||
    (status !== undefined && status >= 500) ||
    status === 429 ||
    errorName === 'SlowDown' ||
    errorName === 'RequestTimeout';
  // Anything else (an unexpected 4xx, a missing bucket) is a bug or a misconfiguration:
  // still 'transient' for the client, but logged as an error.
  return { kind: 'transient', message: 'Storage temporarily unavailable', level: expectedFailure ? 'warn' : 'error' };
}

/**
 * The parts of an SDK error worth logging: never request headers or credentials.
 * (pino's err serializer adds its own `type` and `stack` fields to this.)
 */
export function errorSummary(error: unknown): Record<string, unknown> {
  const { name, code, Code, message, $metadata } = shape(error);
  const summary: Record<string, unknown> = {};
  if (typeof name === 'string') summary['name'] = name;
  if (typeof message === 'string') summary['message'] = message;
  if (typeof Code === 'string') summary['code'] = Code;
  else if (typeof code === 'string') summary['code'] = code;
  if ($metadata !== undefined) {
    if (typeof $metadata.httpStatusCode === 'number') summary['statusCode'] = $metadata.httpStatusCode;
    if (typeof $metadata.requestId === 'string') summary['requestId'] = $metadata.requestId;
    if (typeof $metadata.attempts === 'number') summary['attempts'] = $metadata.attempts;
  }
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause !== undefined && cause !== error) summary['cause'] = errorSummary(cause);
  return summary;
}

/**
 * Turns a failure into the StorageError to throw, logging S3 failures as
 * {event:'storage-error', operation, kind, key, err}; the deployment alarms on that
 * event, so outcomes that are not S3 failures (a caller's abort, a missing key, an
 * offset past the end) are logged at debug as 'storage-outcome'. StorageErrors pass through.
 */
export function toStorageError(error: unknown, context: FailureContext, logger: Logger): StorageError {
  if (error instanceof StorageError) return error;
  const { kind, message, level } = classifyS3Error(error, context.signal);
  const fields: Record<string, unknown> = {
    event: level === 'debug' ? 'storage-outcome' : 'storage-error',
    operation: context.operation,
    kind,
    key: context.key,
    err: errorSummary(error),
  };
  if (context.uploadId !== undefined) fields['uploadId'] = context.uploadId;
  logger[level](fields, 'S3 request failed');
  return new StorageError(kind, message, { cause: error });
}
