import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { RawFtp } from '../support/raw-ftp.ts';
import { renegotiate } from '../support/tls-renegotiation.ts';
import { AttackWatch, startAbuseBridge, type AbuseBridge } from '../support/abuse-bridge.ts';
import { recordCase } from '../support/abuse-figures.ts';

/**
 * Round 2, row 8: client-initiated TLS renegotiation on the control connection,
 * each a full handshake for the server: 300 of 300 completed in 8 s on one
 * connection. Now the first is refused and ends the connection that asked, so
 * the attacker has to pay for a new connection (and handshake) per attempt, which
 * the connection limits count. 20 connections (explicit and implicit, TLS 1.2),
 * each trying up to 15 times.
 */
const CONNECTIONS = 20;
const ATTEMPTS_PER_CONNECTION = 15;

describe('r2-8: TLS renegotiation', () => {
  let bridge: AbuseBridge;
  before(async () => {
    bridge = await startAbuseBridge({ tls: true });
  });
  after(() => bridge.stop());

  test('r2-8: 20 connections each try 15 client-initiated renegotiations', async () => {
    const watch = await AttackWatch.start(bridge.child);
    let attempts = 0;
    let completed = 0;
    let refused = 0;
    const started = performance.now();
    for (let index = 0; index < CONNECTIONS; index++) {
      const implicit = index % 2 === 1;
      const options = { tlsMaxVersion: 'TLSv1.2' as const, localAddress: `127.0.8.${1 + index}` };
      const ftp = implicit
        ? await RawFtp.connect(bridge.child.implicitPort!, { ...options, implicitTls: true })
        : await RawFtp.connect(bridge.child.port, options);
      await ftp.expect(220);
      if (!implicit) await ftp.upgrade();
      for (let attempt = 0; attempt < ATTEMPTS_PER_CONNECTION; attempt++) {
        attempts += 1;
        if ((await renegotiate(ftp.socket as TLSSocket)) === 'completed') {
          completed += 1;
        } else {
          refused += 1;
          break;
        }
      }
      await ftp.close();
    }
    const seconds = (performance.now() - started) / 1000;
    const phase = await watch.end();
    await recordCase({
      case: 'r2-8',
      title: 'client-initiated TLS renegotiation, 20 connections × up to 15',
      connections: { accepted: CONNECTIONS },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: { 'renegotiations tried': attempts, completed, refused, seconds: Math.round(seconds * 10) / 10 },
    });
    assert.equal(completed, 0, 'no renegotiation completed');
    assert.equal(refused, CONNECTIONS, 'the first attempt on each connection was refused');
  });
});
