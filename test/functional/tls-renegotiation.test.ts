import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { RawFtp } from '../support/raw-ftp.ts';
import { renegotiate } from '../support/tls-renegotiation.ts';

/**
 * Client-initiated TLS renegotiation costs the server a full handshake each time, on
 * a connection no limit counts again: the bridge refuses it on the explicit control
 * connection, on the implicit port and on PROT P data connections (TLS 1.2; TLS 1.3
 * has no renegotiation). A refused attempt ends only the connection that tried.
 */
describe('client-initiated TLS renegotiation', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge();
  });
  after(() => env.stop());

  /** The bridge still serves: a new session logs in and answers NOOP. */
  async function stillServes(): Promise<void> {
    const ftp = await RawFtp.loginExplicitTls(env.port, 'alice', 'wonderland');
    await ftp.command('NOOP', 200);
    await ftp.close();
  }

  test('on the control connection after AUTH TLS: refused', async () => {
    const ftp = await RawFtp.connect(env.port, { tlsMaxVersion: 'TLSv1.2' });
    await ftp.expect(220);
    await ftp.upgrade();
    await ftp.command('USER alice', 331);
    await ftp.command('PASS wonderland', 230);
    assert.equal(await renegotiate(ftp.socket as TLSSocket), 'refused');
    await ftp.close();
    await stillServes();
  });

  test('on the implicit-TLS port: refused', async () => {
    const ftp = await RawFtp.connect(env.implicitPort, { implicitTls: true, tlsMaxVersion: 'TLSv1.2' });
    await ftp.expect(220);
    assert.equal(await renegotiate(ftp.socket as TLSSocket), 'refused');
    await ftp.close();
    await stillServes();
  });

  test('on a PROT P data connection: refused, and the control connection goes on', async () => {
    const ftp = await RawFtp.loginExplicitTls(env.port, 'alice', 'wonderland', { tlsMaxVersion: 'TLSv1.2' });
    const data = (await ftp.passive({ tls: true })) as TLSSocket;
    assert.equal(await renegotiate(data), 'refused');
    data.destroy();
    await ftp.command('NOOP', 200);
    await ftp.close();
  });
});
