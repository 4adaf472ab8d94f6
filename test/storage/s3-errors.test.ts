import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLogger } from '../support/capture-logger.ts';
import { classifyS3Error, toStorageError } from '../../runtime/src/storage/s3/s3-errors.ts';
import { StorageError } from '../../runtime/src/storage/storage-error.ts';

function sdkError(name: string, status: number | undefined, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`SDK says ${name} about secret-bucket/key`), {
    name,
    $metadata: { httpStatusCode: status, requestId: 'REQ1', attempts: 4 },
    ...extra,
  });
}

describe('classifyS3Error', () => {
  const cases: [string, unknown, string][] = [
    ['NoSuchKey', sdkError('NoSuchKey', 404), 'not-found'],
    ['HEAD 404', sdkError('NotFound', 404), 'not-found'],
    ['NoSuchBucket is configuration, not a missing file', sdkError('NoSuchBucket', 404), 'transient'],
    ['NoSuchUpload', sdkError('NoSuchUpload', 404), 'transient'],
    ['AccessDenied', sdkError('AccessDenied', 403), 'access-denied'],
    ['bare 403', sdkError('Forbidden', 403), 'access-denied'],
    ['KMS', sdkError('KMS.DisabledException', 400), 'access-denied'],
    ['expired token', sdkError('ExpiredToken', 400), 'access-denied'],
    ['no credentials', sdkError('CredentialsProviderError', undefined), 'access-denied'],
    ['InvalidRange', sdkError('InvalidRange', 416), 'invalid-offset'],
    ['PreconditionFailed', sdkError('PreconditionFailed', 412), 'conflict'],
    ['ConditionalRequestConflict', sdkError('ConditionalRequestConflict', 409), 'conflict'],
    ['500 after retries', sdkError('InternalError', 500), 'transient'],
    ['503 SlowDown', sdkError('SlowDown', 503), 'transient'],
    ['connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'transient'],
    ['timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'transient'],
    ['not an error at all', 'weird', 'transient'],
  ];
  for (const [label, error, kind] of cases) {
    it(`${label} → ${kind}`, () => assert.equal(classifyS3Error(error).kind, kind));
  }

  it('is aborted whenever the caller aborted, whatever the SDK threw', () => {
    const abortError = Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    assert.equal(classifyS3Error(abortError, AbortSignal.abort()).kind, 'aborted');
    assert.equal(classifyS3Error(abortError).kind, 'transient');
  });

  it('logs unexpected failures as errors and expected outcomes quietly', () => {
    assert.equal(classifyS3Error(sdkError('InvalidArgument', 400)).level, 'error');
    assert.equal(classifyS3Error(sdkError('InternalError', 500)).level, 'warn');
    assert.equal(classifyS3Error(sdkError('NoSuchKey', 404)).level, 'debug');
  });
});

describe('toStorageError', () => {
  it('gives a safe message, keeps the cause, and logs a storage-error line without SDK internals', () => {
    const { logger, lines } = captureLogger('debug');
    const cause = sdkError('InternalError', 500, { $response: { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIA…' } } });
    const error = toStorageError(cause, { operation: 'upload-part', key: 'p/a.bin', uploadId: 'U1' }, logger);
    assert.ok(error instanceof StorageError);
    assert.equal(error.kind, 'transient');
    assert.doesNotMatch(error.message, /SDK|secret-bucket|InternalError/);
    assert.equal(error.cause, cause);
    assert.equal(lines.length, 1);
    const line = lines[0] ?? {};
    assert.deepEqual(
      [line['event'], line['operation'], line['kind'], line['key'], line['uploadId'], line['level']],
      ['storage-error', 'upload-part', 'transient', 'p/a.bin', 'U1', 40],
    );
    const err = (line['err'] ?? {}) as Record<string, unknown>;
    assert.deepEqual(
      [err['name'], err['message'], err['statusCode'], err['requestId'], err['attempts']],
      ['InternalError', 'SDK says InternalError about secret-bucket/key', 500, 'REQ1', 4],
    );
    assert.doesNotMatch(JSON.stringify(line), /authorization|AKIA/i);
  });

  it('a caller\'s abort is not an S3 failure: no storage-error line, even at debug (alarms count those)', () => {
    const { logger, lines } = captureLogger('debug');
    const controller = new AbortController();
    controller.abort();
    const aborted = toStorageError(sdkError('AbortError', undefined), { operation: 'upload-part', key: 'k', signal: controller.signal }, logger);
    assert.equal(aborted.kind, 'aborted');
    const missing = toStorageError(sdkError('NoSuchKey', 404), { operation: 'get-object', key: 'k' }, logger);
    assert.equal(missing.kind, 'not-found');
    assert.deepEqual(lines.map((line) => line['event']), ['storage-outcome', 'storage-outcome']);
  });

  it('passes StorageErrors through unchanged and unlogged', () => {
    const { logger, lines } = captureLogger('debug');
    const original = new StorageError('not-empty', 'Folder is not empty');
    assert.equal(toStorageError(original, { operation: 'x', key: 'k' }, logger), original);
    assert.equal(lines.length, 0);
  });
});
