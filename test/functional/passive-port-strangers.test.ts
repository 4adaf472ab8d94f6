import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';

/**
 * A client that connects to passive ports in a loop without any reservation (no
 * login needed) wrote one warning line per connection: 15,626 lines, 2.7 MiB in
 * 5 s. Like refused control connections, the refusals are logged at most once per
 * second per reason, and each line counts those it stands for.
 */
describe('connections to passive ports from addresses without a reservation', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ storage: 'memory' });
  });
  after(() => env.stop());

  async function knock(port: number): Promise<void> {
    const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.9.9' });
    socket.on('error', () => undefined);
    await once(socket, 'close');
  }

  test('a loop of them writes at most one line a second, with the suppressed count', async () => {
    const { first, last } = env.config.passivePorts;
    const refusals = (): Array<Record<string, unknown>> => env.logs.filter((line) => line.event === 'data-connection-refused');
    const started = Date.now();
    let attempts = 0;
    // 1.5 s and at least 50 connections, however slow a loaded machine makes them.
    while (Date.now() - started < 1500 || attempts < 50) {
      await Promise.all(Array.from({ length: 10 }, (_, index) => knock(first + ((attempts + index) % (last - first + 1)))));
      attempts += 10;
    }
    const elapsedS = (Date.now() - started) / 1000;
    // One more after a quiet second (and some): its line accounts for every one dropped before it.
    await delay(1500);
    await knock(first);
    attempts += 1;
    const lines = refusals();
    assert.ok(attempts >= 50, `the loop made ${attempts} connections`);
    assert.ok(lines.length <= Math.ceil(elapsedS) + 2, `${lines.length} lines for ${attempts} connections in ${elapsedS.toFixed(1)} s`);
    const accounted = lines.reduce((sum, line) => sum + 1 + Number(line.suppressedSinceLast ?? Number.NaN), 0);
    assert.equal(accounted, attempts, 'each line counts the refusals it stands for');
    assert.ok(lines.every((line) => line.reason === 'no-reservation-for-address' && line.clientAddress === '127.0.9.9'));
  });
});
