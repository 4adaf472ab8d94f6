import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startChildBridge } from '../support/child-bridge.ts';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';
import { startTestS3 } from '../support/s3-server.ts';
import { makeCertificate } from '../support/tls-fixture.ts';

/**
 * Over HTTPS the bridge does not hash every byte it sends to S3 for the signature
 * (x-amz-content-sha256: UNSIGNED-PAYLOAD, as boto3 and the AWS CLI do): TLS already
 * protects the body, and the body's checksum (CRC32 or SHA-256) still lets S3 refuse a
 * corrupted part. SHA-256 was a fifth of the bridge's CPU per uploaded byte. Over plain HTTP
 * (a local store) the payload stays signed.
 */
describe('payload signing of uploads to S3', () => {
  test('HTTPS: parts and single puts go unsigned with a checksum; HTTP: signed', { timeout: 120_000 }, async (t) => {
    const s3 = await startTestS3();
    const dir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-signing-'));
    const { cert, key } = await makeCertificate();
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, cert);
    // An HTTPS front for the test S3 server, recording what each upload request carried.
    const seen: SeenRequest[] = [];
    const front = createHttpsServer({ cert, key }, recordingForwarder(s3.endpoint, seen));
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
    });

    const uploadThrough = async (endpoint: string, extraEnv: Record<string, string>): Promise<void> => {
      const bridge = await startChildBridge({ s3: { endpoint, bucket: s3.bucket }, dir, env: { S3_CHECKSUM: 'when_supported', ...extraEnv } });
      try {
        const ftp = await RawFtp.login(bridge.port, 'user', 'pass');
        await ftp.command('TYPE I', 200);
        for (const [name, bytes] of [['small.bin', randomBytes(100_000)], ['large.bin', randomBytes(11 * 1024 * 1024)]] as const) {
          const data = await ftp.passive();
          await ftp.command(`STOR ${name}`, 150);
          await writeAll(data, bytes);
          assert.equal((await ftp.read(60_000)).code, 226, name);
          const stored = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `home/${name}` }));
          const body = Buffer.from(await stored.Body!.transformToByteArray());
          assert.equal(createHash('sha256').update(body).digest('hex'), createHash('sha256').update(bytes).digest('hex'), `${name} stored whole`);
        }
        await ftp.close();
      } finally {
        await bridge.kill();
      }
    };

    const { port } = front.address() as AddressInfo;
    await uploadThrough(`https://127.0.0.1:${port}`, { NODE_EXTRA_CA_CERTS: caFile });
    const bodies = seen.filter((request) => request.method === 'PUT');
    assert.ok(bodies.length >= 4, `a single put and at least three parts went over HTTPS (saw ${bodies.length})`);
    for (const request of bodies) {
      assert.equal(request.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD', request.url);
      const checksums = Object.keys(request.headers).filter((name) => name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-type');
      assert.ok(checksums.length > 0 || request.headers['x-amz-trailer'] !== undefined, `${request.url} carries a checksum of its body`);
    }

    // The same uploads over plain HTTP keep the signed payload hash.
    seen.length = 0;
    const plainFront = createHttpServer(recordingForwarder(s3.endpoint, seen));
    await new Promise<void>((resolve) => plainFront.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => (plainFront.closeAllConnections(), plainFront.close(resolve))));
    await uploadThrough(`http://127.0.0.1:${(plainFront.address() as AddressInfo).port}`, {});
    const plainBodies = seen.filter((request) => request.method === 'PUT');
    assert.ok(plainBodies.length >= 4);
    for (const request of plainBodies) {
      assert.match(String(request.headers['x-amz-content-sha256']), /^[0-9a-f]{64}$/, request.url);
      assert.equal(request.headers['x-amz-content-sha256'], request.bodySha256, `${request.url}: the signed hash is the body's`);
    }
  });
});

interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** SHA-256 (hex) of the body as it arrived, once it has. */
  bodySha256?: string;
}

/** A request handler that forwards to `target` and records each request's headers. */
function recordingForwarder(target: string, seen: SeenRequest[]): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  const upstream = new URL(target);
  return (incoming, outgoing) => {
    const request: SeenRequest = { method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers };
    seen.push(request);
    const hash = createHash('sha256');
    incoming.on('data', (chunk: Buffer) => hash.update(chunk));
    incoming.once('end', () => (request.bodySha256 = hash.digest('hex')));
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  };
}
