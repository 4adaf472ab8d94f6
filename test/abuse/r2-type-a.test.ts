import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawFtp, readAll, uploadOver, writeAll } from '../support/raw-ftp.ts';
import { AttackWatch, startAbuseBridge, type AbuseBridge } from '../support/abuse-bridge.ts';
import { cpuSeconds } from '../support/cpu-seconds.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Round 2, row 5: TYPE A conversion built an array entry per line end. A RETR of
 * 32 MiB of LF took 8.5 s of CPU (0.1 s binary), a bystander's NOOP 1.1-3.8 s, eight
 * at once grew RSS by 290 MiB, and a TYPE A STOR of CRLF by 140 MiB outside the budget.
 */
const MIB = 1024 * 1024;
const SIZE = 32 * MIB;
const READERS = 8;

async function retr(port: number, type: 'A' | 'I', localAddress: string): Promise<number> {
  const ftp = await RawFtp.login(port, 'user', 'pass', { localAddress });
  await ftp.command(`TYPE ${type}`, 200);
  const socket = await ftp.passive();
  await ftp.command('RETR lines.txt', 150);
  const received = await readAll(socket);
  await ftp.expect(226);
  await ftp.close();
  return received.length;
}

describe('round 2, case 5: TYPE A on files of line ends', () => {
  let bridge: AbuseBridge;
  before(async () => {
    bridge = await startAbuseBridge();
    const ftp = await RawFtp.login(bridge.child.port, 'user', 'pass', { localAddress: '127.0.5.1' });
    await ftp.command('TYPE I', 200);
    await uploadOver(ftp, 'STOR lines.txt', Buffer.alloc(SIZE, '\n'), false);
    await ftp.close();
  });
  after(() => bridge.stop());

  test(`RETR of ${SIZE / MIB} MiB of LF in TYPE A, alone and ${READERS} at once; STOR of CRLF`, async () => {
    const pid = bridge.child.pid;
    const readers = (type: 'A' | 'I'): Promise<number[]> =>
      Promise.all(Array.from({ length: READERS }, (_, index) => retr(bridge.child.port, type, `127.0.5.${10 + index}`)));
    // The same in binary first: on a shared machine the bystander's figures mean something only next to these.
    const binaryWatch = await AttackWatch.start(bridge.child);
    let cpu = await cpuSeconds(pid);
    assert.equal(await retr(bridge.child.port, 'I', '127.0.5.2'), SIZE);
    const binaryCpu = (await cpuSeconds(pid)) - cpu;
    assert.deepEqual(await readers('I'), Array.from({ length: READERS }, () => SIZE));
    const binary = await binaryWatch.end();

    const watch = await AttackWatch.start(bridge.child);
    cpu = await cpuSeconds(pid);
    assert.equal(await retr(bridge.child.port, 'A', '127.0.5.3'), 2 * SIZE);
    const asciiCpu = (await cpuSeconds(pid)) - cpu;
    assert.deepEqual(await readers('A'), Array.from({ length: READERS }, () => 2 * SIZE));

    const stor = await RawFtp.login(bridge.child.port, 'user', 'pass', { localAddress: '127.0.5.30' });
    await stor.command('TYPE A', 200);
    const storData = await stor.passive();
    await stor.command('STOR crlf.txt', 150);
    await writeAll(storData, Buffer.from('\r\n'.repeat(SIZE / 2), 'latin1'));
    await stor.expect(226);
    await stor.close();
    const phase = await watch.end();
    const after = await watch.settle();
    const stored = bridge.child.logs().find((line) => line['event'] === 'transfer' && line['path'] === '/crlf.txt');

    await recordCase({
      case: 'r2-5',
      title: `TYPE A RETR ${SIZE / MIB} MiB of LF, then ${READERS} at once; STOR ${SIZE / MIB} MiB of CRLF`,
      connections: { accepted: READERS + 2 },
      rssMiB: { ...phase.rssMiB, after },
      bystanderMs: phase.bystanderMs,
      notes: {
        'CPU s, one TYPE A RETR': round(asciiCpu),
        'CPU s, one binary RETR': round(binaryCpu),
        'binary alike: RSS peak MiB': binary.rssMiB.peak,
        'binary alike: NOOP ms p50/p95/max': `${binary.bystanderMs.p50}/${binary.bystanderMs.p95}/${binary.bystanderMs.max}`,
        'STOR stored bytes': Number(stored?.['bytes'] ?? 0),
      },
    });
    assert.ok(asciiCpu < 2, `one TYPE A RETR took ${asciiCpu} s of CPU`);
    assert.ok(phase.rssMiB.peak - phase.rssMiB.before < 100, `RSS ${phase.rssMiB.before} -> ${phase.rssMiB.peak} MiB`);
    // Loose: this machine's load shows in both phases (see the binary figures); 8.5 s of
    // CPU per RETR used to freeze the bystander for seconds on a quiet one.
    const allowed = Math.max(2000, 3 * binary.bystanderMs.p95);
    assert.ok(phase.bystanderMs.p95 < allowed, `the bystander waited ${phase.bystanderMs.p95} ms (p95; binary: ${binary.bystanderMs.p95})`);
  });
});

