import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { RawFtp, uploadOver } from '../support/raw-ftp.ts';
import { AttackWatch, startAbuseBridge, type AbuseBridge } from '../support/abuse-bridge.ts';
import { cpuSeconds } from '../support/cpu-seconds.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Round 2, row 4: a RETR whose client read 1 MiB and stopped for 65 s got 451
 * "Storage is unavailable", a storage-error (the StorageErrors alarm) and a
 * command-error: the paused S3 body hit the S3 client's 60 s socket timeout. Two
 * clients here: one stops for 65 s and reads on, one never reads again (it meets
 * FTP_IDLE_TIMEOUT_SECONDS, 70 s here, so that the first one's pause stays below it).
 */
const MIB = 1024 * 1024;
const SIZE = 64 * MIB;
const PAUSE_MS = 65_000;
const IDLE_SECONDS = 70;

/** Reads to the end, pausing for `pauseMs` (for good: undefined) after the first MiB; resolves with the bytes read. */
function readPausing(socket: Socket, pauseMs: number | undefined): Promise<number> {
  return new Promise<number>((resolve) => {
    let received = 0;
    let paused = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (paused || received < MIB) return;
      paused = true;
      socket.pause();
      if (pauseMs !== undefined) setTimeout(() => socket.resume(), pauseMs);
    });
    socket.once('close', () => resolve(received));
  });
}

describe('round 2, case 4: a download whose client stops reading', () => {
  let bridge: AbuseBridge;
  before(async () => {
    bridge = await startAbuseBridge({ env: { FTP_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS) } });
    const ftp = await RawFtp.login(bridge.child.port, 'user', 'pass', { localAddress: '127.0.4.1' });
    await ftp.command('TYPE I', 200);
    await uploadOver(ftp, 'STOR big.bin', randomBytes(SIZE), false);
    await ftp.close();
  });
  after(() => bridge.stop());

  test(`RETR of ${SIZE / MIB} MiB: one client pauses ${PAUSE_MS / 1000} s after 1 MiB, another never reads again`, async () => {
    const watch = await AttackWatch.start(bridge.child);
    const cpuBefore = await cpuSeconds(bridge.child.pid);
    const started = performance.now();
    const retr = async (localAddress: string, pauseMs: number | undefined): Promise<{ code: number; bytes: number; s: number }> => {
      const ftp = await RawFtp.login(bridge.child.port, 'user', 'pass', { localAddress });
      await ftp.command('TYPE I', 200);
      const socket = await ftp.passive();
      socket.on('error', () => undefined);
      await ftp.command('RETR big.bin', 150);
      const reading = readPausing(socket, pauseMs);
      const reply = await ftp.read(3 * IDLE_SECONDS * 1000);
      const s = round((performance.now() - started) / 1000);
      // The 226 comes once the last bytes are in the kernel's send buffer, not in
      // this client: a reader that reads on drains the data connection to its end
      // (bounded), as FTP clients do; one that never reads again is cut at once.
      const cut = setTimeout(() => socket.destroy(), pauseMs === undefined ? 0 : 15_000);
      const bytes = await reading;
      clearTimeout(cut);
      await ftp.close();
      return { code: reply.code, bytes, s };
    };
    const [pausing, gone] = await Promise.all([retr('127.0.4.2', PAUSE_MS), retr('127.0.4.3', undefined)]);
    const phase = await watch.end();
    const cpu = (await cpuSeconds(bridge.child.pid)) - cpuBefore;

    const logs = bridge.child.logs();
    const count = (event: string): number => logs.filter((line) => line['event'] === event).length;
    await recordCase({
      case: 'r2-4',
      title: `RETR ${SIZE / MIB} MiB: a reader pausing ${PAUSE_MS / 1000} s, a reader gone for good`,
      connections: { accepted: 2 },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: {
        'pausing reader: reply, MiB, after s': `${pausing.code}, ${round(pausing.bytes / MIB)}, ${pausing.s}`,
        'gone reader: reply, after s': `${gone.code}, ${gone.s}`,
        'storage-error lines': count('storage-error'),
        'command-error lines': count('command-error'),
        'data-connection-error lines': count('data-connection-error'),
        'CPU s': round(cpu),
      },
    });

    assert.equal(pausing.code, 226);
    assert.equal(pausing.bytes, SIZE);
    assert.equal(gone.code, 426);
    assert.ok(gone.s >= IDLE_SECONDS - 1 && gone.s < IDLE_SECONDS + 15, `the gone reader was ended after ${gone.s} s, at the idle timeout`);
    assert.equal(count('storage-error'), 0);
    assert.equal(count('command-error'), 0);
    assert.ok(count('data-connection-error') >= 1);
  });
});
