import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { RawFtp } from '../support/raw-ftp.ts';
import { AttackWatch, startAbuseBridge, type AbuseBridge, type AttackPhase } from '../support/abuse-bridge.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Case 2: replies written without backpressure. Four connections that never read,
 * each sending about 8 MB of `HELP\r\n` before login, grew the bridge from 88 to
 * 2,255 MiB, and it stayed there after they left. The same with STAT during a
 * transfer. The bridge must stop reading a session whose replies go unread.
 */
const MIB = 1024 * 1024;
const FLOODERS = 4;
const FLOOD_BYTES = 8 * MIB;
/**
 * What the bridge may grow by while flooded: its own bound is 64 KiB of unsent
 * replies and 32 queued lines per session; the rest is socket buffers and garbage
 * not yet collected. Without the bound it grew by over 2 GiB.
 */
const GROWTH_ALLOWANCE_MIB = 48;

/** Writes `total` bytes of `line` repeated, all at once: what the kernel does not take waits in the client. */
function flood(socket: Socket, line: string, total: number): void {
  const block = Buffer.from(line.repeat(Math.ceil(MIB / line.length)));
  for (let written = 0; written < total; written += block.length) socket.write(block);
}

/** Waits until no flooder's unsent bytes have moved for a second (the bridge stopped reading), at most 30 s. */
async function untilStalled(sockets: readonly Socket[]): Promise<number> {
  const started = Date.now();
  let previous = '';
  for (;;) {
    const now = sockets.map((socket) => socket.writableLength).join(',');
    if (now === previous || Date.now() - started > 30_000) return Date.now() - started;
    previous = now;
    await delay(1000);
  }
}

/** The bridge stopped reading the flood (most of it still waits in the clients), grew little, and served the bystander. */
function assertHeldOff(unsent: readonly number[], phase: AttackPhase): void {
  for (const bytes of unsent) assert.ok(bytes > FLOOD_BYTES / 4, `the bridge stopped reading (unsent: ${bytes} bytes)`);
  assert.ok(phase.rssMiB.peak - phase.rssMiB.before <= GROWTH_ALLOWANCE_MIB, `RSS grew ${phase.rssMiB.before} -> ${phase.rssMiB.peak} MiB`);
  assert.ok(phase.bystanderMs.max < 5000, `the bystander waited ${phase.bystanderMs.max} ms`);
}

describe('case 2: clients that send commands and never read the replies', () => {
  let bridge: AbuseBridge;
  before(async () => {
    bridge = await startAbuseBridge();
  });
  after(() => bridge.stop());

  test(`${FLOODERS} clients each send ${FLOOD_BYTES / MIB} MiB of HELP before login and read nothing`, async () => {
    const watch = await AttackWatch.start(bridge.child);
    const flooders = await Promise.all(
      Array.from({ length: FLOODERS }, async (_, index) => {
        const socket = netConnect({ host: '127.0.0.1', port: bridge.child.port, localAddress: `127.0.2.${index + 1}` });
        socket.on('error', () => undefined);
        await once(socket, 'connect');
        socket.pause();
        return socket;
      }),
    );
    for (const socket of flooders) flood(socket, 'HELP\r\n', FLOOD_BYTES);
    const stalledAfterMs = await untilStalled(flooders);
    const unsent = flooders.map((socket) => socket.writableLength);
    const held = flooders.filter((socket) => !socket.destroyed && !socket.readableEnded).length;
    const phase = await watch.end();
    for (const socket of flooders) socket.destroy();
    await recordCase({
      case: '2a',
      title: `${FLOODERS} × ${FLOOD_BYTES / MIB} MiB HELP, never read`,
      connections: { accepted: FLOODERS, held },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: { 'stalled after s': round(stalledAfterMs / 1000), 'least left unsent MiB': round(Math.min(...unsent) / MIB) },
    });
    assertHeldOff(unsent, phase);
  });

  test('STAT sent over and over during a transfer by clients that read nothing', async () => {
    const sessions = await Promise.all(
      Array.from({ length: 2 }, (_, index) => RawFtp.login(bridge.child.port, 'user', 'pass', { localAddress: `127.0.2.${10 + index}` })),
    );
    const watch = await AttackWatch.start(bridge.child);
    const data = [];
    for (const [index, ftp] of sessions.entries()) {
      const socket = await ftp.passive();
      socket.on('error', () => undefined);
      data.push(socket);
      await ftp.command(`STOR during-stat-${index}.bin`, 150);
      ftp.socket.pause();
      flood(ftp.socket, 'STAT\r\n', FLOOD_BYTES);
    }
    const stalledAfterMs = await untilStalled(sessions.map((ftp) => ftp.socket));
    const unsent = sessions.map((ftp) => ftp.socket.writableLength);
    const phase = await watch.end();
    for (const socket of data) socket.destroy();
    await Promise.all(sessions.map((ftp) => ftp.close()));
    await recordCase({
      case: '2b',
      title: `2 × ${FLOOD_BYTES / MIB} MiB STAT during STOR, never read`,
      connections: { accepted: sessions.length, held: sessions.length },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: { 'stalled after s': round(stalledAfterMs / 1000), 'least left unsent MiB': round(Math.min(...unsent) / MIB) },
    });
    assertHeldOff(unsent, phase);
  });
});
