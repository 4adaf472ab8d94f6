import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBlackhole } from '../support/blackhole.ts';
import { freePort, startTestBridge, type TestBridge } from '../support/bridge.ts';
import { openData, RawFtp } from '../support/raw-ftp.ts';
import { waitUntil } from '../support/wait-until.ts';

/**
 * "Logs in but cannot list": each way a data connection fails explains itself, in
 * the reply the client shows and in one log line an operator (and a metric, by its
 * `reason`) can find, without a stack trace.
 */
function lastEvent(env: TestBridge, event: string): Record<string, unknown> | undefined {
  return env.logs.findLast((line) => line.event === event);
}

function passiveRange(env: TestBridge): string {
  const { first, last } = env.config.passivePorts;
  return `${first}-${last}`;
}

describe('a data connection that fails says why', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ storage: 'memory', env: { FTP_DATA_TIMEOUT_SECONDS: '1', FTP_ACTIVE_MODE: 'on' } });
  });
  after(() => env.stop());

  test('PASV, and nothing connects: the announced address and port, the range, and the firewall', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const port = await ftp.passivePort('PASV');
    await ftp.command('LIST', 150);
    const reply = await ftp.read(5000);
    assert.equal(reply.code, 425);
    assert.equal(
      reply.text,
      `No data connection to 127.0.0.1:${port} (PASV) within 1 s: a firewall between client and server must allow TCP to the passive ports ${passiveRange(env)}.`,
    );
    const line = lastEvent(env, 'data-connection-timeout');
    assert.deepEqual(
      { reason: line?.reason, mode: line?.mode, command: line?.command, address: line?.address, port: line?.port, range: line?.passiveRange },
      { reason: 'passive-timeout', mode: 'passive', command: 'PASV', address: '127.0.0.1', port, range: passiveRange(env) },
    );
    assert.equal(line?.err, undefined, 'no stack trace');
    await ftp.close();
  });

  test('EPSV, and nothing connects: the port (at the control connection\'s address)', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const port = await ftp.passivePort('EPSV');
    await ftp.command('NLST', 150);
    const reply = await ftp.read(5000);
    assert.equal(reply.code, 425);
    assert.match(reply.text, new RegExp(`^No data connection to port ${port} \\(EPSV\\) within 1 s`));
    assert.equal(lastEvent(env, 'data-connection-timeout')?.command, 'EPSV');
    await ftp.close();
  });

  test('a data connection from another address than the control connection\'s (a NAT): the client\'s address in the reply, the other only in the log', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland', { localAddress: '127.0.0.2' });
    const port = await ftp.passivePort('EPSV');
    const stray = await openData({ port, localAddress: '127.0.0.3' });
    stray.on('error', () => undefined);
    await ftp.command('LIST', 150);
    const reply = await ftp.read(5000);
    assert.equal(reply.code, 425);
    assert.match(reply.text, /came from another address than the control connection's \(127\.0\.0\.2\): data connections must leave from the same address/);
    // The other address may be another client's: it is for the operator, not for this client.
    assert.doesNotMatch(reply.text, /127\.0\.0\.3/);
    assert.equal(lastEvent(env, 'data-connection-timeout')?.reason, 'passive-wrong-address');
    assert.equal(lastEvent(env, 'data-connection-timeout')?.connectionFrom, '127.0.0.3');
    assert.equal(lastEvent(env, 'data-connection-refused')?.reason, 'no-reservation-for-address');
    stray.destroy();
    await ftp.close();
  });

  test('active mode, the client\'s port refuses: the address, and that passive mode avoids it', async () => {
    // Below the ephemeral range: no listener on port 0 can be given it meanwhile.
    const port = await freePort();
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command(`EPRT |1|127.0.0.1|${port}|`, 200);
    await ftp.command('LIST', 150);
    const reply = await ftp.read(5000);
    assert.equal(reply.code, 425);
    assert.match(reply.text, new RegExp(`^Could not connect to 127\\.0\\.0\\.1:${port} \\(active mode, refused\\): the client's firewall or NAT`));
    assert.equal(lastEvent(env, 'data-connection-failed')?.reason, 'active-refused');
    await ftp.close();
  });

  test('active mode, the client\'s port never answers (a dropping firewall): a timeout', async () => {
    const blackhole = await startBlackhole({ host: '127.0.0.1' });
    try {
      const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
      await ftp.command(`EPRT |1|127.0.0.1|${blackhole.ports[0]}|`, 200);
      await ftp.command('LIST', 150);
      const reply = await ftp.read(5000);
      assert.equal(reply.code, 425);
      assert.match(reply.text, /\(active mode, no answer within 1 s\)/);
      assert.equal(lastEvent(env, 'data-connection-timeout')?.reason, 'active-timeout');
      await ftp.close();
    } finally {
      await blackhole.stop();
    }
  });

  test('PROT P, and the data connection does not speak TLS: the handshake failed', async () => {
    const ftp = await RawFtp.loginExplicitTls(env.port, 'alice', 'wonderland');
    const data = await ftp.passive({ tls: false });
    data.on('error', () => undefined);
    await ftp.command('LIST', 150);
    data.write('not a TLS hello\r\n');
    const reply = await ftp.read(5000);
    assert.equal(reply.code, 425);
    assert.match(reply.text, /TLS negotiation on the data connection failed/);
    const line = lastEvent(env, 'data-connection-failed');
    assert.equal(line?.reason, 'tls-handshake-failed');
    assert.equal(typeof line?.detail, 'string');
    data.destroy();
    await ftp.close();
  });

  test('a passive port the client never reached is reported when it is given up (clients connect before LIST)', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const port = await ftp.passivePort('PASV');
    // FileZilla and most clients connect first and send LIST only once connected: a
    // firewall that drops the connection leaves the bridge only this PASV.
    await new Promise((resolve) => setTimeout(resolve, 5500));
    await ftp.command('QUIT', 221);
    await ftp.close();
    const timeoutLine = () => env.logs.findLast((entry) => entry.event === 'data-connection-timeout' && entry.port === port);
    await waitUntil('the line written at the end of the session', () => timeoutLine() !== undefined);
    const line = timeoutLine();
    assert.equal(line?.reason, 'passive-never-connected');
    assert.equal(line?.passiveRange, passiveRange(env));
  });
});
