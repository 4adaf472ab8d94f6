import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startProxiedTestBridge } from '../support/bridge.ts';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';
import { storedBody } from '../support/s3-server.ts';
import type { S3Operation } from '../support/fault-proxy.ts';

/**
 * An ABOR (or a closed control connection) that lands while the store's commit request
 * is already with S3: S3 may have done it, so the reply and the log must say what S3
 * holds. A 426 (or outcome "aborted") with the new file stored would tell the client to
 * send again a file that is already there, and tell the operator it is not.
 */
describe('an abort that lands during the commit', () => {
  for (const { commit, size } of [
    { commit: 'PutObject', size: 64 * 1024 },
    { commit: 'CompleteMultipartUpload', size: 6 * 1024 * 1024 },
  ] as const satisfies ReadonlyArray<{ commit: S3Operation; size: number }>) {
    test(`ABOR while ${commit} is answered: the reply says what S3 holds`, async (t) => {
      const proxied = await startProxiedTestBridge();
      t.after(() => proxied.stop());
      const { env, proxy } = proxied;
      const key = 'partners/alice/commit-race.bin';
      const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
      t.after(() => ftp.close());
      await ftp.command('TYPE I', 200);
      const previous = Buffer.from('previous version');
      let data = await ftp.passive();
      await ftp.command('STOR commit-race.bin', 150);
      await writeAll(data, previous);
      await ftp.expect(226);

      const payload = randomBytes(size);
      proxy.holdResponses(commit);
      const seen = proxy.whenSeen(commit);
      data = await ftp.passive();
      await ftp.command('STOR commit-race.bin', 150);
      await writeAll(data, payload);
      await seen;
      await delay(300); // S3 has the whole request and acts on it; its answer is held
      ftp.send('ABOR');
      await delay(300);
      proxy.release();
      const storReply = await ftp.read();
      const aborReply = await ftp.read();
      const stored = await storedBody(env.s3, key);
      const storedNew = stored?.equals(payload) === true;
      assert.ok(storedNew || stored?.equals(previous) === true, 'S3 holds one of the two versions');
      assert.equal(storReply.code, storedNew ? 226 : 426, `STOR answered ${storReply.code} while S3 holds the ${storedNew ? 'new' : 'previous'} file`);
      assert.ok([225, 226].includes(aborReply.code));
      const transfer = env.logs.findLast((line) => line.event === 'transfer' && line.command === 'STOR');
      assert.equal(transfer?.['outcome'], storedNew ? 'ok' : 'aborted');
    });
  }

  test('control connection closed while PutObject is answered: the log says what S3 holds', async (t) => {
    const proxied = await startProxiedTestBridge();
    t.after(() => proxied.stop());
    const { env, proxy } = proxied;
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('TYPE I', 200);
    const payload = randomBytes(64 * 1024);
    proxy.holdResponses('PutObject');
    const seen = proxy.whenSeen('PutObject');
    const data = await ftp.passive();
    await ftp.command('STOR gone-at-commit.bin', 150);
    await writeAll(data, payload);
    await seen;
    await delay(300);
    ftp.socket.destroy();
    await delay(300);
    proxy.release();
    const deadline = Date.now() + 10_000;
    let transfer: Record<string, unknown> | undefined;
    while (transfer === undefined && Date.now() < deadline) {
      transfer = env.logs.findLast((line) => line.event === 'transfer' && line.command === 'STOR');
      await delay(50);
    }
    const stored = await storedBody(env.s3, 'partners/alice/gone-at-commit.bin');
    assert.equal(transfer?.['outcome'], stored?.equals(payload) === true ? 'ok' : 'aborted', `logged ${String(transfer?.['outcome'])}, stored: ${stored !== undefined}`);
  });
});
