import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { pendingMultipartUploads } from '../support/s3-server.ts';
import { RawFtp } from '../support/raw-ftp.ts';
import { AttackWatch, startAbuseBridge } from '../support/abuse-bridge.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Case 8: SIGTERM with uploads running and a short grace period left an orphaned
 * multipart upload every time: `shutdown-complete` came 8 ms after `session-close`,
 * before the aborts finished, and no `transfer` event was logged for them.
 */
const UPLOADS = 6;
const MIB = 1024 * 1024;

describe('case 8: SIGTERM while uploads run', () => {
  test(`${UPLOADS} uploads past their first part when SIGTERM comes, with a 0.5 s grace period`, async (t) => {
    const bridge = await startAbuseBridge({ env: { FTP_SHUTDOWN_GRACE_SECONDS: '0.5' } });
    t.after(() => bridge.stop());
    const watch = await AttackWatch.start(bridge.child);
    const sessions: RawFtp[] = [];
    const data: Socket[] = [];
    for (let index = 0; index < UPLOADS; index++) {
      const ftp = await RawFtp.login(bridge.child.port, 'user', 'pass', { localAddress: `127.0.8.${index + 1}` });
      await ftp.command('TYPE I', 200);
      const socket = await ftp.passive();
      socket.on('error', () => undefined);
      await ftp.command(`STOR cut-${index}.bin`, 150);
      // Past the first 5 MiB part, and the upload stays open: a multipart upload exists in S3.
      socket.write(randomBytes(6 * MIB));
      sessions.push(ftp);
      data.push(socket);
    }
    for (let waited = 0; (await pendingMultipartUploads(bridge.s3)).length < UPLOADS; waited += 100) {
      assert.ok(waited < 30_000, `multipart uploads started: ${(await pendingMultipartUploads(bridge.s3)).length}`);
      await delay(100);
    }
    const phase = await watch.end();
    const signalled = performance.now();
    const exited = once(bridge.child.process, 'exit');
    bridge.child.process.kill('SIGTERM');
    const [exitCode] = (await Promise.race([exited, delay(30_000).then(() => [undefined])])) as [number | null | undefined];
    const exitMs = performance.now() - signalled;
    const replies = await Promise.all(sessions.map((ftp) => ftp.read(1000).then((reply) => reply.code, () => 0)));
    for (const socket of data) socket.destroy();
    await Promise.all(sessions.map((ftp) => ftp.close()));

    // Ordered by their timestamps, not by their place in stdout: pino writes stdout
    // asynchronously and flushes synchronously at process.exit, so a line whose write
    // was still in flight then lands after lines logged later.
    const logs = bridge.child.logs();
    const complete = logs.find((line) => line['event'] === 'shutdown-complete');
    const completeAt = Date.parse(String(complete?.['time']));
    const aborted = logs.filter((line) => line['event'] === 'transfer' && line['command'] === 'STOR' && line['outcome'] !== 'ok');
    const loggedAfterComplete = aborted.filter((line) => Date.parse(String(line['time'])) > completeAt);
    const orphans = await pendingMultipartUploads(bridge.s3);
    await recordCase({
      case: '8',
      title: `SIGTERM with ${UPLOADS} uploads running, 0.5 s grace`,
      connections: { accepted: UPLOADS, held: 0 },
      rssMiB: phase.rssMiB,
      bystanderMs: phase.bystanderMs,
      notes: { 'exit ms': round(exitMs), 'aborts logged': aborted.length, 'orphaned multipart uploads': orphans.length },
    });
    assert.equal(exitCode, 0, 'the bridge exits cleanly, within 30 s');
    assert.ok(complete, 'shutdown-complete is logged');
    assert.deepEqual(orphans, [], 'every multipart upload was aborted in S3 before the exit');
    assert.equal(aborted.length, UPLOADS, 'each cut-off upload has a transfer event');
    assert.deepEqual(loggedAfterComplete, [], 'and each was logged before shutdown-complete');
    assert.ok(replies.every((code) => code === 421 || code === 426 || code === 0), `replies: ${replies}`);
  });
});
