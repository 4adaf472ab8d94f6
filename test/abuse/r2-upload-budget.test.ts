import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pendingMultipartUploads } from '../support/s3-server.ts';
import { RawFtp, uploadOver } from '../support/raw-ftp.ts';
import { objectContent } from '../support/store-fixture.ts';
import { AttackWatch, startAbuseBridge, type AbuseBridge } from '../support/abuse-bridge.ts';
import { cpuSeconds } from '../support/cpu-seconds.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Round 2, row 3: with a 32 MiB budget and 8 MiB parts, one user's four uploads
 * sending a byte every 5 s held the whole budget; another user's 1 KiB upload got
 * no reply after 50 s and was logged with bufferWaitMs 0. The defaults otherwise
 * (a share of 50 %, a stall window of 30 s).
 */
const UPLOADS = 4;
const TRICKLE_MS = 5000;

describe('round 2, case 3: the upload budget held hostage', () => {
  let bridge: AbuseBridge;
  before(async () => {
    bridge = await startAbuseBridge({
      env: { FTP_UPLOAD_BUFFER_MIB: '32', S3_PART_SIZE_MIB: '8' },
      users: [
        { username: 'mallory', password: 'trickles', home: 'mallory/' },
        { username: 'alice', password: 'uploads', home: 'alice/' },
      ],
    });
  });
  after(() => bridge.stop());

  test(`${UPLOADS} uploads sending a byte every ${TRICKLE_MS / 1000} s; another user's 1 KiB upload`, async () => {
    const watch = await AttackWatch.start(bridge.child);
    const cpuBefore = await cpuSeconds(bridge.child.pid);
    const started = performance.now();
    const attackers: Array<{ ftp: RawFtp; data: Socket; reply: Promise<{ code: number; ms: number }> }> = [];
    for (let index = 0; index < UPLOADS; index++) {
      const ftp = await RawFtp.login(bridge.child.port, 'mallory', 'trickles', { localAddress: '127.0.3.1' });
      await ftp.command('TYPE I', 200);
      const data = await ftp.passive();
      data.on('error', () => undefined);
      await ftp.command(`STOR held-${index}.bin`, 150);
      data.write('x');
      // A connection closed without a reply counts as code 0 (and fails the assertions below).
      const reply = ftp.read(200_000).then(
        (answer) => ({ code: answer.code, ms: performance.now() - started }),
        () => ({ code: 0, ms: performance.now() - started }),
      );
      attackers.push({ ftp, data, reply });
    }
    const trickle = setInterval(() => {
      for (const { data } of attackers) if (!data.destroyed) data.write('x');
    }, TRICKLE_MS);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const alice = await RawFtp.login(bridge.child.port, 'alice', 'uploads', { localAddress: '127.0.3.2' });
      await alice.command('TYPE I', 200);
      const aliceStarted = performance.now();
      await uploadOver(alice, 'STOR small.bin', Buffer.alloc(1024, 1), false);
      const aliceMs = performance.now() - aliceStarted;
      await alice.close();
      const replies = await Promise.all(attackers.map(({ reply }) => reply));
      clearInterval(trickle);
      const phase = await watch.end();
      const cpu = (await cpuSeconds(bridge.child.pid)) - cpuBefore;
      for (const { ftp, data } of attackers) {
        data.destroy();
        await ftp.close();
      }

      const logs = bridge.child.logs();
      const transfers = logs.filter((line) => line['event'] === 'transfer' && line['command'] === 'STOR');
      const held = transfers.filter((line) => String(line['path']).startsWith('/held-'));
      const aliceLine = transfers.find((line) => line['path'] === '/small.bin');
      const stalls = logs.filter((line) => line['event'] === 'upload-stalled').length;
      const waits = held.map((line) => Number(line['bufferWaitMs'] ?? Number.NaN));
      const endsS = replies.map((reply) => round(reply.ms / 1000));
      await recordCase({
        case: 'r2-3',
        title: `${UPLOADS} uploads × 1 byte / ${TRICKLE_MS / 1000} s against a 32 MiB budget; another user's 1 KiB STOR`,
        connections: { accepted: UPLOADS + 1 },
        rssMiB: { ...phase.rssMiB, after: await watch.settle() },
        bystanderMs: phase.bystanderMs,
        notes: {
          "other user's 1 KiB STOR ms": Math.round(aliceMs),
          'its bufferWaitMs': Number(aliceLine?.['bufferWaitMs'] ?? Number.NaN),
          'trickling uploads ended after s': endsS.join('/'),
          'their replies': replies.map((reply) => reply.code).join('/'),
          'their bufferWaitMs': waits.join('/'),
          'upload-stalled lines': stalls,
          'CPU s': round(cpu),
        },
      });

      assert.ok(aliceMs < 5000, `the other user's upload took ${Math.round(aliceMs)} ms`);
      assert.deepEqual(await objectContent(bridge.s3, 'alice/small.bin'), Buffer.alloc(1024, 1));
      assert.deepEqual(replies.map((reply) => reply.code), Array.from({ length: UPLOADS }, () => 426));
      assert.ok(Math.max(...endsS) < 120, `the trickling uploads ended after ${endsS.join(', ')} s, long before the 900 s idle timeout`);
      assert.equal(stalls, UPLOADS);
      for (let index = 0; index < UPLOADS; index++) assert.equal(await objectContent(bridge.s3, `mallory/held-${index}.bin`), undefined);
      assert.deepEqual(await pendingMultipartUploads(bridge.s3), []);
      // Two of them waited for their user's share, and the wait is in their log lines.
      assert.ok(waits.filter((ms) => ms > 10_000).length >= 2, `bufferWaitMs ${waits.join(', ')}`);
    } finally {
      clearInterval(trickle);
    }
  });
});
