import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_USER, startTestBridge, type TestBridge } from '../support/bridge.ts';
import { RawFtp, uploadOver } from '../support/raw-ftp.ts';
import { objectContent } from '../support/store-fixture.ts';

/**
 * Issue 17, row 3: one user's stalled uploads held the whole upload budget, and
 * another user's 1 KiB upload got no reply. A budget of four 5 MiB parts here; each
 * user (and address) may hold half of it.
 */
/** Long enough that alice's login and upload finish well within it on a loaded machine. */
const STALL_SECONDS = 5;

describe('one user stalling uploads against the shared budget', () => {
  let env: TestBridge;

  before(async () => {
    env = await startTestBridge({
      env: { FTP_UPLOAD_BUFFER_MIB: '20', FTP_UPLOAD_STALL_SECONDS: String(STALL_SECONDS) },
      users: [DEFAULT_USER, { username: 'mallory', password: 'stalls' }],
    });
  });
  after(async () => {
    await env.stop();
  });

  const logged = (event: string): Array<Record<string, unknown>> => env.logs.filter((line) => line['event'] === event);

  test("another user's upload is served at once; the stalled ones fail with 426 and store nothing", async () => {
    const stalled: Array<{ ftp: RawFtp; data: Socket }> = [];
    for (let index = 0; index < 4; index++) {
      const ftp = await RawFtp.login(env.port, 'mallory', 'stalls', { localAddress: '127.0.3.1' });
      await ftp.command('TYPE I', 200);
      const data = await ftp.passive();
      data.on('error', () => undefined);
      await ftp.command(`STOR stalled-${index}.bin`, 150);
      data.write(Buffer.alloc(1024, index)); // a byte arrived: the upload takes a buffer, then nothing more
      stalled.push({ ftp, data });
    }
    const alice = await RawFtp.login(env.port, 'alice', 'wonderland', { localAddress: '127.0.3.2' });
    await alice.command('TYPE I', 200);
    await uploadOver(alice, 'STOR small.bin', Buffer.alloc(1024, 7), false);
    assert.deepEqual(logged('upload-stalled'), [], "alice's upload did not wait for mallory's to stall");

    assert.deepEqual(await objectContent(env.s3, 'partners/alice/small.bin'), Buffer.alloc(1024, 7));

    const replies = await Promise.all(stalled.map(({ ftp }) => ftp.read(6 * STALL_SECONDS * 1000)));
    assert.deepEqual(replies.map((reply) => reply.code), [426, 426, 426, 426]);
    assert.equal(logged('upload-stalled').length, 4);
    for (let index = 0; index < 4; index++) {
      assert.equal(await objectContent(env.s3, `partners/mallory/stalled-${index}.bin`), undefined);
    }
    const stalledTransfers = logged('transfer').filter((line) => String(line['path']).startsWith('/stalled-'));
    assert.equal(stalledTransfers.length, 4);
    assert.ok(stalledTransfers.every((line) => line['outcome'] === 'failed' && typeof line['bufferWaitMs'] === 'number'));
    assert.ok(
      stalledTransfers.filter((line) => Number(line['bufferWaitMs']) >= (STALL_SECONDS - 0.5) * 1000).length >= 2,
      `the two over the share waited, and that is logged: ${stalledTransfers.map((line) => line['bufferWaitMs']).join(', ')}`,
    );
    for (const { ftp, data } of stalled) {
      data.destroy();
      await ftp.close();
    }
    await alice.close();
  });
});
