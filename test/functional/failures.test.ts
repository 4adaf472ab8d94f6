import assert from 'node:assert/strict';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startProxiedTestBridge, startTestBridge, type ProxiedTestBridge, type TestBridge } from '../support/bridge.ts';
import type { FaultProxy } from '../support/fault-proxy.ts';
import { RawFtp, readAll, writeAll } from '../support/raw-ftp.ts';
import { pendingMultipartUploads, type TestS3 } from '../support/s3-server.ts';
import { waitUntil } from '../support/wait-until.ts';

async function objectText(env: { s3: TestS3 }, key: string): Promise<string | undefined> {
  try {
    const result = await env.s3.client.send(new GetObjectCommand({ Bucket: env.s3.bucket, Key: key }));
    return await result.Body!.transformToString();
  } catch {
    return undefined;
  }
}

async function objectExists(env: { s3: TestS3 }, key: string): Promise<boolean> {
  return await env.s3.client.send(new HeadObjectCommand({ Bucket: env.s3.bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

/**
 * An interrupted upload never becomes an object, but the whole parts S3 already holds stay
 * pending so the partner can resume (docs/resumable-uploads.md): every multipart upload left
 * must be one the bridge logged as kept.
 */
async function onlyResumableUploadsLeft(env: TestBridge): Promise<void> {
  await waitUntil('every multipart upload left is a kept, resumable one', async () => {
    const kept = new Set(env.logs.filter((line) => line.event === 'upload-kept').map((line) => String(line.uploadId)));
    return (await pendingMultipartUploads(env.s3)).every((id) => kept.has(id));
  });
}

describe('aborted and broken transfers leave nothing behind', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ env: { FTP_DATA_TIMEOUT_SECONDS: '0.5' } });
  });
  after(() => env.stop());

  test('ABOR during a download: 426 for the transfer, then 226 for ABOR', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const upload = await ftp.passive();
    await ftp.command('STOR large.bin', 150);
    await writeAll(upload, randomBytes(20 * 1024 * 1024));
    await ftp.expect(226);
    const data = await ftp.passive();
    await ftp.command('RETR large.bin', 150);
    await once(data, 'readable');
    data.pause();
    ftp.send('ABOR');
    assert.equal((await ftp.read()).code, 426);
    assert.equal((await ftp.read()).code, 226);
    await ftp.command('NOOP', 200);
    data.destroy();
    await ftp.close();
    assert.ok(env.logs.some((line) => line.event === 'transfer' && line.command === 'RETR' && line.outcome === 'aborted'));
  });

  test('ABOR during a multipart upload: no object, and no multipart upload left that is not resumable', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const data = await ftp.passive();
    await ftp.command('STOR aborted.bin', 150);
    data.on('error', () => undefined);
    data.write(randomBytes(7 * 1024 * 1024));
    await delay(300);
    ftp.send('ABOR');
    assert.equal((await ftp.read()).code, 426);
    assert.equal((await ftp.read()).code, 226);
    data.destroy();
    await ftp.close();
    assert.equal(await objectExists(env, 'partners/alice/aborted.bin'), false);
    await onlyResumableUploadsLeft(env);
  });

  test('a client that vanishes mid-upload (both connections closed) commits nothing; the old file stays', async () => {
    await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/keep.txt', Body: 'original' }));
    const keepTransfers = () => env.logs.filter((line) => line.event === 'transfer' && line.path === '/keep.txt');
    for (const [round, size] of [1000, 7 * 1024 * 1024].entries()) {
      const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
      const data = await ftp.passive();
      await ftp.command('STOR keep.txt', 150);
      data.on('error', () => undefined);
      await new Promise<void>((resolve) => data.write(randomBytes(size), () => resolve()));
      // What a killed client's kernel does: FIN on every socket at once.
      data.end();
      ftp.socket.end();
      await new Promise((resolve) => data.once('close', resolve));
      await ftp.close();
      await waitUntil('the upload is recorded', async () => keepTransfers().length === round + 1);
      assert.ok(keepTransfers().every((line) => line.outcome === 'aborted'));
      assert.equal(await objectText(env, 'partners/alice/keep.txt'), 'original');
    }
    await onlyResumableUploadsLeft(env);
  });

  test('a data connection reset mid-upload gets 426 and commits nothing', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const data = await ftp.passive();
    await ftp.command('STOR reset.bin', 150);
    data.on('error', () => undefined);
    await new Promise<void>((resolve) => data.write(randomBytes(6 * 1024 * 1024), () => resolve()));
    data.resetAndDestroy();
    assert.equal((await ftp.read()).code, 426);
    await ftp.command('NOOP', 200);
    await ftp.close();
    assert.equal(await objectExists(env, 'partners/alice/reset.bin'), false);
    await onlyResumableUploadsLeft(env);
  });

  test('QUIT sent right after the data, then a half-close: the upload still completes', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const data = await ftp.passive();
    await ftp.command('STOR quit.txt', 150);
    await writeAll(data, 'complete');
    ftp.send('QUIT');
    ftp.socket.end();
    assert.equal((await ftp.read()).code, 226);
    assert.equal((await ftp.read()).code, 221);
    await ftp.close();
    assert.equal(await objectText(env, 'partners/alice/quit.txt'), 'complete');
  });

  test('a data connection that never arrives: 150 then 425 after the data timeout', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.passivePort();
    await ftp.command('STOR never.txt', 150);
    assert.equal((await ftp.read(3000)).code, 425);
    await ftp.command('NOOP', 200);
    await ftp.close();
    assert.equal(await objectExists(env, 'partners/alice/never.txt'), false);
  });

  test('a control connection that closes during a download is cleaned up', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const data = await ftp.passive();
    await ftp.command('RETR large.bin', 150);
    await once(data, 'readable');
    await ftp.close();
    await readAll(data).catch(() => Buffer.alloc(0));
    await waitUntil('the download is recorded as aborted', () =>
      env.logs.filter((line) => line.event === 'transfer' && line.command === 'RETR' && line.outcome === 'aborted').length >= 2,
    );
  });
});

describe('an S3 endpoint that fails', () => {
  let proxied: ProxiedTestBridge;
  let s3: TestS3;
  let proxy: FaultProxy;
  let env: TestBridge;
  before(async () => {
    proxied = await startProxiedTestBridge({ client: { maxAttempts: 2, requestHandler: { connectionTimeout: 1000, socketTimeout: 5000 } } });
    ({ s3, proxy, env } = proxied);
  });
  after(() => proxied.stop());

  test('S3 failing mid-upload: 451, no object, no multipart upload left', async () => {
    proxy.failUploadPartsAfter(1, 'status-500');
    try {
      const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
      const data = await ftp.passive();
      await ftp.command('STOR doomed.bin', 150);
      data.on('error', () => undefined);
      data.end(randomBytes(16 * 1024 * 1024));
      const final = await ftp.read(20_000);
      assert.equal(final.code, 451);
      assert.doesNotMatch(final.text, /InternalError|proxy|127\.0\.0\.1/, 'no SDK detail reaches the client');
      await ftp.command('NOOP', 200);
      await ftp.close();
    } finally {
      proxy.heal();
    }
    assert.equal(await objectExists(env, 'doomed.bin'), false);
    await waitUntil('multipart upload aborted', async () => (await pendingMultipartUploads(s3)).length === 0);
  });

  test('a dead S3 endpoint: clear 451 replies, and the session survives', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    proxy.goDead();
    try {
      const reply = await ftp.command('CWD somewhere');
      assert.equal(reply.code, 451);
      assert.match(reply.text, /Storage is unavailable/);
      await ftp.command('NOOP', 200);
      await ftp.command('SIZE x', 451);
    } finally {
      proxy.heal();
    }
    await ftp.command('MKD back', 257);
    await ftp.close();
  });
});
