import assert from 'node:assert/strict';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, startTestBridge } from '../helpers/bridge.ts';
import { RawFtp, writeAll } from '../helpers/raw-ftp.ts';

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
    await delay(200);
    assert.equal(await health(), 503, 'draining: the load balancer stops sending new connections');
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
      await delay(100);
      const again = await RawFtp.connect(env.port);
      await again.expect(220);
      await again.close();
    } finally {
      await env.stop();
    }
  });
});
