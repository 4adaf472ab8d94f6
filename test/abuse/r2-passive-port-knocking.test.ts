import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { AttackWatch, startAbuseBridge, type AbuseBridge } from '../support/abuse-bridge.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Round 2, row 9: connections to passive ports from addresses with no reservation,
 * in a loop, without logging in. Each was logged: 15,626 warning lines (2.7 MiB) in
 * 5 s (here: 38,145 lines, 1.4 MB/s). Now at most one line per second per reason, with
 * the count it stands for (here: 6 lines, 213 bytes/s).
 */
const ATTACK_MS = 5000;
const PARALLEL = 16;

describe('r2-9: knocking on passive ports', () => {
  let bridge: AbuseBridge;
  before(async () => {
    bridge = await startAbuseBridge();
  });
  after(() => bridge.stop());

  test('r2-9: 5 s of connections to the passive range from 16 addresses with no reservation', async () => {
    const listening = bridge.child.logs().find((line) => line['event'] === 'listening');
    const [first, last] = String(listening?.['passivePorts']).split('-').map(Number) as [number, number];
    const watch = await AttackWatch.start(bridge.child);
    const logBytesBefore = Buffer.byteLength(bridge.child.stdout());
    const linesBefore = bridge.child.logs().length;
    const started = performance.now();
    let attempts = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async (_, worker) => {
        for (let next = worker; performance.now() - started < ATTACK_MS; next += PARALLEL) {
          const socket = connect({ host: '127.0.0.1', port: first + (next % (last - first + 1)), localAddress: `127.0.9.${1 + worker}` });
          socket.on('error', () => undefined);
          socket.once('connect', () => (attempts += 1));
          await once(socket, 'close');
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const logBytes = Buffer.byteLength(bridge.child.stdout()) - logBytesBefore;
    // One more after a quiet second: its line counts every refusal dropped since the last one.
    await delay(1100);
    const closing = connect({ host: '127.0.0.1', port: first, localAddress: '127.0.9.99' });
    closing.on('error', () => undefined);
    closing.once('connect', () => (attempts += 1));
    await once(closing, 'close');
    await delay(100);
    const phase = await watch.end();
    const lines = bridge.child.logs().slice(linesBefore).filter((line) => line['event'] === 'data-connection-refused');
    const accounted = lines.reduce((sum, line) => sum + 1 + Number(line['suppressedSinceLast']), 0);
    await recordCase({
      case: 'r2-9',
      title: 'connections to passive ports with no reservation, 5 s loop',
      connections: { refused: attempts },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: {
        'refused connections': attempts,
        'data-connection-refused lines': lines.length,
        'log bytes per second': round(logBytes / seconds),
      },
    });
    assert.ok(attempts > 100, `the loop made ${attempts} connections`);
    assert.ok(lines.length <= Math.ceil(seconds) + 2, `${lines.length} lines for ${attempts} refused connections in ${seconds.toFixed(1)} s`);
    assert.equal(accounted, attempts, 'each line counts the refusals it stands for');
    assert.ok(logBytes / seconds < 2048, `${Math.round(logBytes / seconds)} log bytes per second`);
  });
});
