import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { RawFtp } from '../support/raw-ftp.ts';
import { AttackWatch, startAbuseBridge } from '../support/abuse-bridge.ts';
import { recordCase, round, summarize } from '../support/abuse-figures.ts';

/**
 * Case 3: holes in the connection limits. With FTP_MAX_CONNECTIONS=20, 60 implicit
 * FTPS sessions got 220; 1,500 connections that never finished their handshake were
 * each held for 15 s; 1,000 connections from one address took every slot and a
 * partner from another address got 421.
 */

/** A client's first look at the bridge: the greeting's code, or 0 when it closed the connection without one. */
async function greeting(ftp: RawFtp): Promise<number> {
  return await ftp.read(15_000).then(
    (reply) => reply.code,
    () => 0,
  );
}

/** An implicit-FTPS session: its greeting over TLS, or 0 when the bridge dropped it during the handshake. */
async function implicitSession(port: number, localAddress: string): Promise<{ code: number; ftp?: RawFtp }> {
  try {
    const ftp = await RawFtp.connect(port, { implicitTls: true, localAddress });
    return { code: await greeting(ftp), ftp };
  } catch {
    return { code: 0 };
  }
}

/** A TCP connection to the implicit port that sends the first byte of a ClientHello and then nothing. */
async function stalledHandshake(port: number, localAddress: string): Promise<{ socket: Socket; closed: Promise<number> }> {
  const socket = netConnect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const connectedAt = performance.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - connectedAt)));
  socket.resume();
  socket.write(Buffer.from([0x16]));
  return { socket, closed };
}

describe('case 3: connection floods', () => {
  test('60 implicit-FTPS handshakes at once against FTP_MAX_CONNECTIONS=20', async (t) => {
    const limit = 20;
    const bridge = await startAbuseBridge({ tls: true, env: { FTP_MAX_CONNECTIONS: String(limit) } });
    t.after(() => bridge.stop());
    const watch = await AttackWatch.start(bridge.child);
    const sessions = await Promise.all(
      Array.from({ length: 60 }, (_, index) => implicitSession(bridge.child.implicitPort!, `127.0.3.${1 + (index % 30)}`)),
    );
    const accepted = sessions.filter((session) => session.code === 220).length;
    const phase = await watch.end();
    await Promise.all(sessions.map((session) => session.ftp?.close()));
    await recordCase({
      case: '3a',
      title: `60 implicit-TLS sessions, limit ${limit}`,
      connections: { accepted, refused: sessions.length - accepted, held: accepted },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
    });
    // The bystander holds one of the slots.
    assert.ok(accepted <= limit - 1, `${accepted} implicit sessions were greeted past a limit of ${limit}`);
    assert.ok(accepted > 0, 'sessions within the limit are served');
    assert.ok(sessions.every((session) => session.code === 220 || session.code === 0), 'a TLS client is refused by closing, not 421');
  });

  test('300 connections that never finish their handshake: counted, and dropped at the handshake deadline', async (t) => {
    const limit = 250;
    const deadlineSeconds = 2;
    const bridge = await startAbuseBridge({
      tls: true,
      env: { FTP_MAX_CONNECTIONS: String(limit), FTP_TLS_HANDSHAKE_TIMEOUT_SECONDS: String(deadlineSeconds) },
    });
    t.after(() => bridge.stop());
    const watch = await AttackWatch.start(bridge.child);
    // 10 from each of 30 addresses: under the per-address limit, so only the total is tested here.
    const stalled = await Promise.all(
      Array.from({ length: 300 }, (_, index) => stalledHandshake(bridge.child.implicitPort!, `127.0.3.${100 + (index % 30)}`)),
    );
    await delay(300);
    // While they are held, the slots they take are gone for everyone.
    const late = await RawFtp.connect(bridge.child.port, { localAddress: '127.0.3.200' });
    const lateReply = await late.read();
    await late.close();
    const heldMs = await Promise.all(stalled.map((socket) => socket.closed));
    const phase = await watch.end();
    const after = await RawFtp.connect(bridge.child.port, { localAddress: '127.0.3.200' });
    const afterCode = await greeting(after);
    await after.close();
    // Refused at once (the limit) or held to the deadline.
    const held = heldMs.filter((ms) => ms >= (deadlineSeconds * 1000) / 2);
    const times = summarize(held);
    await recordCase({
      case: '3b',
      title: `300 stalled TLS handshakes, limit ${limit}, deadline ${deadlineSeconds} s`,
      connections: { accepted: held.length, refused: heldMs.length - held.length, held: held.length },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: { 'held p50 ms': times.p50, 'held max ms': times.max },
    });
    assert.equal(lateReply.code, 421, 'handshakes in progress count against FTP_MAX_CONNECTIONS');
    assert.match(lateReply.text, /Too many connections/);
    assert.ok(held.length <= limit - 1, `${held.length} stalled handshakes were held past a limit of ${limit}`);
    assert.ok(times.max < (deadlineSeconds + 3) * 1000, `a stalled handshake was held ${times.max} ms`);
    assert.equal(afterCode, 220, 'the slots are free again after the deadline');
  });

  test('300 connections from one address while a partner from another address logs in', async (t) => {
    const perAddress = 20;
    const bridge = await startAbuseBridge({ env: { FTP_MAX_CONNECTIONS: '100' } });
    t.after(() => bridge.stop());
    const watch = await AttackWatch.start(bridge.child);
    const flood = await Promise.all(
      Array.from({ length: 300 }, async () => {
        const ftp = await RawFtp.connect(bridge.child.port, { localAddress: '127.0.4.1' });
        return { ftp, code: await greeting(ftp) };
      }),
    );
    const accepted = flood.filter((connection) => connection.code === 220);
    const loginStarted = performance.now();
    const partner = await RawFtp.connect(bridge.child.port, { localAddress: '127.0.4.2' });
    const partnerGreeting = await greeting(partner);
    const partnerLogin = partnerGreeting === 220 ? (await partner.command('USER user'), (await partner.command('PASS pass')).code) : 0;
    const partnerLoginMs = performance.now() - loginStarted;
    const held = flood.filter((connection) => !connection.ftp.ended).length;
    const phase = await watch.end();
    await Promise.all([partner.close(), ...flood.map((connection) => connection.ftp.close())]);
    await recordCase({
      case: '3c',
      title: '300 connections from one address (per-address default 20), limit 100',
      connections: { accepted: accepted.length, refused: flood.length - accepted.length, held },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: { 'partner login ms': round(partnerLoginMs), 'partner reply': partnerLogin },
    });
    assert.equal(accepted.length, perAddress, 'FTP_MAX_CONNECTIONS_PER_ADDRESS (default 20) from one address');
    assert.ok(
      flood.every((connection) => connection.code === 220 || connection.code === 421 || connection.code === 0),
      'the rest are refused',
    );
    assert.equal(partnerGreeting, 220, 'a partner from another address is still greeted');
    assert.equal(partnerLogin, 230, 'and logs in');
  });
});
