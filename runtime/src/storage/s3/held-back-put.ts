import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { PutObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { classifyS3Error } from './s3-errors.ts';

/**
 * PutObject of `body` that holds back its last byte until `wholeFile` resolves. The
 * request and all but one byte of its body go out at once, so S3's own time for the
 * request overlaps the caller's decision on whether the data connection's end was the
 * file's (upload-end.ts: up to 40 ms where only TCP decides). S3 stores nothing from a
 * request whose body falls short of its Content-Length: a refusal cuts the request, and
 * nothing is stored. Once the last byte is sent the request runs to its answer without
 * an abort signal, as every commit does (S3 may have stored the object by then).
 *
 * The body is a stream, which the SDK would sign as UNSIGNED-PAYLOAD and does not retry:
 * over plain HTTP the payload hash is given (the SHA-256 of the whole body, as the SDK
 * signs a Buffer), and a transient failure is retried here with the buffer itself (and
 * the SDK's retries), once the file is confirmed whole.
 */
export async function putHeldBack(
  client: S3Client,
  input: Omit<PutObjectCommandInput, 'Body' | 'ContentLength'>,
  body: Buffer,
  wholeFile: () => Promise<void>,
  /** The body's SHA-256, when the caller has computed it (for the object's checksum). */
  sha256?: Buffer,
): Promise<void> {
  if (body.length === 0) {
    await wholeFile();
    await client.send(new PutObjectCommand({ ...input, Body: body, ContentLength: 0 }));
    return;
  }
  const stream = new PassThrough();
  stream.write(body.subarray(0, body.length - 1));
  const cut = new AbortController();
  const confirmed = wholeFile().then(
    () => void stream.end(body.subarray(body.length - 1)),
    (error: unknown) => {
      cut.abort(error);
      stream.destroy();
      throw error;
    },
  );
  confirmed.catch(() => undefined);
  const command = new PutObjectCommand({ ...input, Body: stream, ContentLength: body.length });
  command.middlewareStack.add(
    (next) => async (args) => {
      // Over HTTPS the payload goes unsigned anyway (s3-client.ts); over HTTP it is signed.
      const request = args.request as { protocol?: string; headers?: Record<string, string> };
      if (request.protocol !== 'https:' && request.headers !== undefined) {
        request.headers['x-amz-content-sha256'] = (sha256 ?? createHash('sha256').update(body).digest()).toString('hex');
      }
      return await next(args);
    },
    { step: 'build', name: 'heldBackPayloadHash' },
  );
  try {
    await client.send(command, { abortSignal: cut.signal });
  } catch (error) {
    // A refusal is the failure that counts, not the cut request it caused.
    await confirmed;
    if (classifyS3Error(error).kind !== 'transient') throw error;
    // The SDK retries no stream: the body again as a buffer, with the SDK's retries.
    await client.send(new PutObjectCommand({ ...input, Body: body, ContentLength: body.length }));
  }
}
