import assert from 'node:assert/strict';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startProxiedTestBridge } from '../support/bridge.ts';
import { RawFtp } from '../support/raw-ftp.ts';

/**
 * The '%' copy probe (percent-copy-check.ts) writes and deletes a scratch object: one
 * "Object Created" event per task. It ran under the signal of the append that needed it,
 * so an ABOR during the probe made it inconclusive, and an inconclusive probe is tried
 * again by the next append: APPE + ABOR in a loop wrote a scratch object (and its
 * events) per round, for ever.
 */
describe("the '%' copy probe under an append that is aborted", () => {
  test('APPE + ABOR during the probe, four times: one probe, no scratch object left', async (t) => {
    const proxied = await startProxiedTestBridge({ bridge: { env: { S3_COPY_PERCENT_NAMES: 'detect' } } });
    t.after(() => proxied.stop());
    const { env, proxy } = proxied;
    // Written straight to S3: past the 5 MiB an append copies inside S3.
    await env.s3.client.send(
      new PutObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/50% done.bin', Body: Buffer.alloc(6 * 1024 * 1024, 1) }),
    );
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    t.after(() => ftp.close());
    await ftp.command('TYPE I', 200);
    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      proxy.holdResponses('PutObject');
      const seen = Promise.race([proxy.whenSeen('PutObject').then(() => true), delay(3000).then(() => false)]);
      const data = await ftp.passive();
      data.on('error', () => undefined);
      await ftp.command('APPE 50% done.bin', 150);
      await seen;
      ftp.send('ABOR');
      await delay(100);
      proxy.release();
      const replies = [await ftp.read(), await ftp.read()];
      assert.deepEqual(replies.map((reply) => reply.code).sort(), [226, 426]);
      data.destroy();
    }
    await delay(500);
    const probes = proxy.count('PutObject');
    assert.ok(probes <= 1, `${probes} scratch objects written by ${rounds} aborted appends`);
    const left = await env.s3.client.send(new ListObjectsV2Command({ Bucket: env.s3.bucket, Prefix: '' }));
    const scratch = (left.Contents ?? []).filter((object) => object.Key?.includes('.ftp-s3-bridge-probe/'));
    assert.deepEqual(scratch.map((object) => object.Key), []);
  });
});
