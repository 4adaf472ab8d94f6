import assert from 'node:assert/strict';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, startProxiedTestBridge, startTestBridge } from '../support/bridge.ts';
import { pendingMultipartUploads } from '../support/s3-server.ts';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';
import { waitUntil } from '../support/wait-until.ts';

/** Polls often: the test acts while the parts are still in flight. */
const FAST = { timeoutMs: 10_000, intervalMs: 20 };

describe('shutdown and limits', () => {
  test('on stop: the health check turns 503, idle sessions get 421, a running upload finishes first', async (t) => {
    const healthPort = await freePort();
    const env = await startTestBridge({ env: { HEALTH_PORT: String(healthPort), FTP_SHUTDOWN_GRACE_SECONDS: '10' } });
    t.after(() => env.stop());
    const health = () => fetch(`http://127.0.0.1:${healthPort}/health`).then((response) => response.status, () => 0);
    assert.equal(await health(), 200);
    assert.equal(await fetch(`http://127.0.0.1:${healthPort}/other`).then((response) => response.status), 404);

    const idle = await RawFtp.login(env.port, 'alice', 'wonderland');
    const busy = await RawFtp.login(env.port, 'alice', 'wonderland');
    await busy.command('TYPE I', 200);
    const data = await busy.passive();
    await busy.command('STOR during-shutdown.bin', 150);
    const payload = randomBytes(3 * 1024 * 1024);
    data.write(payload.subarray(0, 1024 * 1024));

    const stopping = env.bridge.stop();
    await waitUntil('draining: the load balancer stops sending new connections', async () => (await health()) === 503);
    assert.equal((await idle.read()).code, 421);
    const late = await RawFtp.connect(env.port).catch(() => undefined);
    if (late) {
      assert.equal((await late.read()).code, 421, 'a connection that still gets through is refused');
      await late.close();
    }
    await writeAll(data, payload.subarray(1024 * 1024));
    assert.equal((await busy.read()).code, 226, 'the running upload completes');
    assert.equal((await busy.read()).code, 421, 'then the session is closed');
    await stopping;
    const stored = await env.s3.client.send(new GetObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/during-shutdown.bin' }));
    assert.equal(Buffer.from(await stored.Body!.transformToByteArray()).length, payload.length);
    await idle.close();
    await busy.close();
  });

  test('an upload still running when the grace period ends is aborted, not committed', async (t) => {
    const env = await startTestBridge({ env: { FTP_SHUTDOWN_GRACE_SECONDS: '0.3' } });
    t.after(() => env.stop());
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const data = await ftp.passive();
    data.on('error', () => undefined);
    await ftp.command('STOR unfinished.bin', 150);
    data.write(randomBytes(100_000));
    await delay(100);
    await env.bridge.stop();
    const replies = [(await ftp.read()).code];
    if (!ftp.ended) replies.push(...(await ftp.read().then((reply) => [reply.code], () => [])));
    assert.ok(replies.includes(421), `replies: ${replies}`);
    await assert.rejects(env.s3.client.send(new GetObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/unfinished.bin' })));
    data.destroy();
    await ftp.close();
  });

  test('uploads cut off at the end of the grace period are aborted in S3 and logged before the stop completes', async () => {
    // Pending uploads off: every cut-off upload is aborted (the next test keeps them).
    const proxied = await startProxiedTestBridge({ bridge: { env: { FTP_SHUTDOWN_GRACE_SECONDS: '0.3', FTP_PENDING_UPLOAD_HOURS: '0' } } });
    const { s3, proxy, env } = proxied;
    try {
      const sessions = await Promise.all(Array.from({ length: 3 }, () => RawFtp.login(env.port, 'alice', 'wonderland')));
      const uploads = await Promise.all(
        sessions.map(async (ftp, index) => {
          const data = await ftp.passive();
          data.on('error', () => undefined);
          await ftp.command(`STOR cut-${index}.bin`, 150);
          data.write(randomBytes(6 * 1024 * 1024)); // past the first 5 MiB part: a multipart upload exists
          return data;
        }),
      );
      await waitUntil('three parts uploading', () => proxy.count('UploadPart') >= 3, FAST);
      // S3 aborts the uploads at once but answers slowly: the stop must wait for the answers.
      proxy.holdResponses('AbortMultipartUpload');
      const stopped = env.bridge.stop().then(() => Date.now());
      await waitUntil('three aborts sent', () => proxy.count('AbortMultipartUpload') >= 3, FAST);
      await delay(500);
      const released = Date.now();
      proxy.release();
      assert.ok((await stopped) >= released, 'the stop waited for the aborts to be confirmed');
      assert.deepEqual(await pendingMultipartUploads(s3), []);
      const complete = env.logs.findIndex((line) => line.event === 'shutdown-complete');
      const aborted = env.logs.filter(
        (line, index) => line.event === 'transfer' && line.command === 'STOR' && line.outcome !== 'ok' && index < complete,
      );
      assert.equal(aborted.length, 3, 'each cut-off upload is logged before shutdown-complete');
      for (const data of uploads) data.destroy();
      await Promise.all(sessions.map((ftp) => ftp.close()));
    } finally {
      await proxied.stop();
    }
  });

  test('uploads cut off by the stop leave no multipart upload that is not resumable', async () => {
    const env = await startTestBridge({ env: { FTP_SHUTDOWN_GRACE_SECONDS: '0.3' } });
    const sessions = await Promise.all(Array.from({ length: 3 }, () => RawFtp.login(env.port, 'alice', 'wonderland')));
    const uploads = await Promise.all(
      sessions.map(async (ftp, index) => {
        const data = await ftp.passive();
        data.on('error', () => undefined);
        await ftp.command(`STOR kept-${index}.bin`, 150);
        // Two parts for one of them, less than one whole part for another.
        data.write(randomBytes(index === 0 ? 3 * 1024 * 1024 : 11 * 1024 * 1024));
        return data;
      }),
    );
    // A whole part stored, as another session of the owner sees it (the durable length), however long a loaded machine takes.
    const watcher = await RawFtp.login(env.port, 'alice', 'wonderland');
    const durable = async (name: string): Promise<number> => {
      const reply = await watcher.command(`SIZE ${name}`);
      return reply.code === 213 ? Number(reply.text) : 0;
    };
    await waitUntil('a whole part stored', async () => (await durable('kept-1.bin')) >= 5 * 1024 * 1024 || (await durable('kept-2.bin')) >= 5 * 1024 * 1024);
    await watcher.close();
    await env.bridge.stop();
    const kept = new Map(env.logs.filter((line) => line.event === 'upload-kept').map((line) => [line.uploadId as string, line]));
    assert.ok(kept.size >= 1, 'an upload with whole parts was kept');
    const left = await pendingMultipartUploads(env.s3);
    assert.deepEqual(left.filter((id) => !kept.has(id)), [], 'every multipart upload left is a kept, resumable one');
    for (const line of kept.values()) assert.ok((line.durableBytes as number) >= 5 * 1024 * 1024, 'and holds whole parts');
    for (const data of uploads) data.destroy();
    await Promise.all(sessions.map((ftp) => ftp.close()));
    await env.stop();
  });

  test('a data connection the client keeps half-open after a download does not outlive the stop', async () => {
    const env = await startTestBridge();
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const upload = await ftp.passive();
    await ftp.command('STOR small.txt', 150);
    await writeAll(upload, 'small');
    await ftp.expect(226);
    const port = await ftp.passivePort();
    // A client that reads to the end but never closes its side.
    const data = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    await once(data, 'connect');
    await ftp.command('RETR small.txt', 150);
    data.resume();
    await once(data, 'end');
    await ftp.expect(226);
    const stopping = Date.now();
    await env.bridge.stop();
    // Stopping does not wait for the client: the 5 s grace a finished data connection
    // gets to close from the client's side ends with its session.
    assert.ok(Date.now() - stopping < 4000, `stop took ${Date.now() - stopping} ms`);
    // And the server's side is gone: writing to it now fails (reset) instead of being read.
    const outcome = await new Promise<string>((resolve) => {
      data.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      const timer = setTimeout(() => resolve('still open'), 1500);
      const poke = (): void => {
        if (data.destroyed) return;
        data.write('x');
        setTimeout(poke, 50).unref();
      };
      poke();
      data.once('close', () => clearTimeout(timer));
    });
    assert.notEqual(outcome, 'still open');
    data.destroy();
    await ftp.close();
    await env.stop();
  });

  test('connections beyond FTP_MAX_CONNECTIONS get 421', async () => {
    const env = await startTestBridge({ env: { FTP_MAX_CONNECTIONS: '2' } });
    try {
      const first = await RawFtp.connect(env.port);
      const second = await RawFtp.connect(env.port);
      await first.expect(220);
      await second.expect(220);
      const third = await RawFtp.connect(env.port);
      const refused = await third.read();
      assert.equal(refused.code, 421);
      assert.match(refused.text, /Too many connections/);
      await Promise.all([first.close(), second.close(), third.close()]);
      // The bridge sees the closes a moment later: until then a new connection may still be refused.
      await waitUntil('a freed slot', async () => {
        const again = await RawFtp.connect(env.port);
        const reply = await again.read();
        await again.close();
        return reply.code === 220;
      });
    } finally {
      await env.stop();
    }
  });
});
