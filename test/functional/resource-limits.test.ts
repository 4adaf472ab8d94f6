import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';

const MIB = 1024 * 1024;

async function connectRaw(port: number, localAddress?: string): Promise<Socket> {
  const socket = netConnect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** Writes `total` bytes of `line` repeated, as fast as the socket takes them, without waiting. */
function flood(socket: Socket, line: string, total: number): void {
  const block = Buffer.from(line.repeat(Math.ceil(MIB / line.length)));
  for (let written = 0; written < total; written += block.length) socket.write(block);
}

/** How long a logged-in bystander waits for NOOP. */
async function noopLatencyMs(ftp: RawFtp): Promise<number> {
  const started = performance.now();
  await ftp.command('NOOP', 200);
  return performance.now() - started;
}

describe('a client that sends commands but never reads the replies', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ storage: 'memory' });
  });
  after(() => env.stop());

  test('is no longer read from once its unread replies pile up, and others are still served', async () => {
    const bystander = await RawFtp.login(env.port, 'alice', 'wonderland');
    const flooders = await Promise.all(Array.from({ length: 4 }, () => connectRaw(env.port)));
    // HELP before login: the largest reply anyone can have without a password.
    for (const socket of flooders) flood(socket, 'HELP\r\n', 16 * MIB);
    // The bridge answers until the kernel's buffers are full (a few MiB of replies),
    // then stops: the number of commands it ran levels off.
    const commandsRun = (): number => env.logs.filter((line) => line.event === 'command').length;
    let previous = -1;
    for (let waited = 0; commandsRun() !== previous; waited += 500) {
      assert.ok(waited < 20_000, `the bridge kept executing the flood (${commandsRun()} commands so far)`);
      previous = commandsRun();
      await delay(500);
    }
    for (const socket of flooders) {
      // The kernel takes a few MiB on each side; the rest must still be waiting in the client.
      assert.ok(socket.writableLength > 8 * MIB, `the bridge stopped reading (unsent: ${socket.writableLength} bytes)`);
    }
    assert.ok((await noopLatencyMs(bystander)) < 1000, 'a bystander is answered at once');
    for (const socket of flooders) socket.destroy();
    await bystander.close();
  });

  test('STAT sent over and over during a transfer is bounded the same way', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const data = await ftp.passive();
    await ftp.command('STOR during-stat.bin', 150);
    ftp.socket.pause(); // from now on the client reads nothing
    flood(ftp.socket, 'STAT\r\n', 16 * MIB);
    const before = env.logs.length;
    await delay(2000);
    for (let waited = 0, previous = -1; env.logs.length !== previous; waited += 500) {
      assert.ok(waited < 20_000, 'the bridge kept executing STAT');
      previous = env.logs.length;
      await delay(500);
    }
    assert.ok(env.logs.length > before, 'some STATs were answered');
    assert.ok(ftp.socket.writableLength > 8 * MIB, `the bridge stopped reading (unsent: ${ftp.socket.writableLength} bytes)`);
    data.destroy();
    await ftp.close();
  });
});

describe('idle timeout', () => {
  test('a partial command line does not keep an idle session alive', async () => {
    const env = await startTestBridge({ storage: 'memory', env: { FTP_IDLE_TIMEOUT_SECONDS: '1' } });
    try {
      const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
      const started = Date.now();
      const trickle = setInterval(() => ftp.socket.write('N'), 200);
      try {
        const reply = await ftp.read(5000);
        assert.equal(reply.code, 421);
        assert.match(reply.text, /Idle timeout/);
        assert.ok(Date.now() - started < 4500, 'closed at the idle timeout, not kept alive by the trickle');
      } finally {
        clearInterval(trickle);
      }
      await ftp.close();
    } finally {
      await env.stop();
    }
  });
});

describe('connection limits count every socket', () => {
  test('implicit-TLS handshakes in progress count against FTP_MAX_CONNECTIONS, and time out', async () => {
    // Long enough that the stalled handshakes still hold their slots when the fourth connection comes on a loaded machine.
    const env = await startTestBridge({ storage: 'memory', env: { FTP_MAX_CONNECTIONS: '3', FTP_TLS_HANDSHAKE_TIMEOUT_SECONDS: '3' } });
    try {
      // A TLS record's first byte, then nothing: a handshake that never finishes.
      const stalled = await Promise.all(Array.from({ length: 3 }, () => connectRaw(env.implicitPort)));
      for (const socket of stalled) socket.write(Buffer.from([0x16]));
      await delay(100);
      const refused = await RawFtp.connect(env.port);
      const reply = await refused.read();
      assert.equal(reply.code, 421);
      assert.match(reply.text, /Too many connections/);
      await refused.close();
      // The handshake deadline frees the slots.
      const started = Date.now();
      await Promise.all(stalled.map((socket) => (socket.destroyed ? undefined : once(socket, 'close'))));
      assert.ok(Date.now() - started < 10_000, 'stalled handshakes are dropped at FTP_TLS_HANDSHAKE_TIMEOUT_SECONDS');
      const served = await RawFtp.connect(env.port);
      await served.expect(220);
      await served.close();
      assert.ok(env.logs.some((line) => line.event === 'tls-failed' && /timed out/.test(String(line.reason))));
    } finally {
      await env.stop();
    }
  });

  test('one address cannot take every slot: FTP_MAX_CONNECTIONS_PER_ADDRESS, data connections included', async () => {
    const env = await startTestBridge({ storage: 'memory', env: { FTP_MAX_CONNECTIONS_PER_ADDRESS: '2' } });
    try {
      const first = await RawFtp.login(env.port, 'alice', 'wonderland', { localAddress: '127.0.0.2' });
      const data = await first.passive();
      await first.command('STOR held-open.bin', 150);
      // One control and one data connection from 127.0.0.2: its quota is used.
      const refused = await RawFtp.connect(env.port, { localAddress: '127.0.0.2' });
      const reply = await refused.read();
      assert.equal(reply.code, 421);
      assert.match(reply.text, /from your address/);
      await refused.close();
      // Another address is still served.
      const other = await RawFtp.connect(env.port, { localAddress: '127.0.0.3' });
      await other.expect(220);
      await other.close();
      // Once the data connection is gone, the address may connect again.
      await writeAll(data, 'done');
      await first.expect(226);
      await delay(100);
      const again = await RawFtp.connect(env.port, { localAddress: '127.0.0.2' });
      await again.expect(220);
      await Promise.all([again.close(), first.close()]);
    } finally {
      await env.stop();
    }
  });
});

describe('the implicit-TLS port and plain FTP clients', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ storage: 'memory' });
  });
  after(() => env.stop());

  test('a client that waits for a greeting is told at once that this port speaks TLS', async () => {
    const started = Date.now();
    const ftp = await RawFtp.connect(env.implicitPort);
    const reply = await ftp.read(9500);
    assert.equal(reply.code, 421);
    assert.match(reply.text, /implicit FTPS/);
    // After 3 s of silence; the handshake deadline is 10 s.
    assert.ok(Date.now() - started < 9500, 'answered in seconds, not at the handshake deadline');
    await ftp.close();
  });

  test('a client that sends a plain command first is answered at once', async () => {
    const started = Date.now();
    const ftp = await RawFtp.connect(env.implicitPort);
    ftp.send('USER alice');
    const reply = await ftp.read(8000);
    assert.equal(reply.code, 421);
    // The port the control listener got (the setting is 0 in tests), not the setting.
    assert.equal(reply.text, `This port speaks implicit FTPS (TLS from the first byte); use ftps:// here, or port ${env.port} with AUTH TLS.`);
    // Before the 3 s a silent client is given.
    assert.ok(Date.now() - started < 2500);
    await ftp.close();
    const line = env.logs.findLast((entry) => entry.event === 'tls-failed');
    assert.equal(line?.clientAddress, '127.0.0.1');
    assert.equal(line?.err, undefined, 'one line, no stack trace');
  });
});
