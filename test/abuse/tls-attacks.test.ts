import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { connect as tlsConnect, type SecureVersion, type TLSSocket } from 'node:tls';
import { pendingMultipartUploads } from '../support/s3-server.ts';
import { openData, RawFtp, readAll, writeAll } from '../support/raw-ftp.ts';
import { AttackWatch, startAbuseBridge, type AbuseBridge } from '../support/abuse-bridge.ts';
import { recordCase } from '../support/abuse-figures.ts';

/**
 * Cases 5-7, against a bridge with FTP_TLS_MODE=required and the default
 * FTP_TLS_SESSION_REUSE=required:
 * 5. STARTTLS command injection (CVE-2011-0411): lines in the same plaintext write as
 *    `AUTH TLS` were run after the handshake as if protected, and logged bob in.
 * 6. A PROT P data connection taken by another connection from the same address with
 *    a fresh TLS handshake: it received the file, the client got 226 and nothing.
 * 7. A PROT P upload ended by a bare TCP FIN (no close_notify) was committed: 226 and
 *    a truncated object.
 */
const MIB = 1024 * 1024;
const VERSIONS: readonly SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];

async function objectExists(bridge: AbuseBridge, key: string): Promise<boolean> {
  return await bridge.s3.client.send(new GetObjectCommand({ Bucket: bridge.s3.bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

/** Plain text until `pattern` shows up in what the server sent (at most 10 s). */
async function readUntil(socket: Socket, pattern: RegExp): Promise<void> {
  let text = '';
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('latin1');
  };
  socket.on('data', onData);
  try {
    for (let waited = 0; !pattern.test(text); waited += 10) {
      if (waited > 10_000 || socket.destroyed) throw new Error(`no ${pattern} in ${JSON.stringify(text)}`);
      await delay(10);
    }
  } finally {
    socket.off('data', onData);
  }
}

/** AUTH TLS with USER and PASS in the same write, the handshake, then PWD over TLS: its reply code. */
async function injectAfterAuthTls(port: number, localAddress: string): Promise<number> {
  const tcp = netConnect({ host: '127.0.0.1', port, localAddress });
  tcp.on('error', () => undefined);
  await once(tcp, 'connect');
  await readUntil(tcp, /^220 /m);
  tcp.write('AUTH TLS\r\nUSER user\r\nPASS pass\r\n');
  await readUntil(tcp, /^234 /m);
  const tls = tlsConnect({ socket: tcp, host: '127.0.0.1', rejectUnauthorized: false });
  tls.on('error', () => undefined);
  await once(tls, 'secureConnect');
  tls.write('PWD\r\n');
  let text = '';
  tls.setEncoding('utf8');
  tls.on('data', (chunk: string) => (text += chunk));
  for (let waited = 0; !/\r\n/.test(text) && waited < 10_000; waited += 10) await delay(10);
  tls.destroy();
  return Number(text.slice(0, 3));
}

/** A TLS data connection over a TCP socket kept by the test, so TCP can end without a close_notify. */
async function tlsOverTcp(
  port: number,
  options: { readonly session: Buffer | undefined; readonly maxVersion: SecureVersion; readonly localAddress: string },
): Promise<{ tls: TLSSocket; tcp: Socket }> {
  const { session, maxVersion, localAddress } = options;
  const tcp = netConnect({ host: '127.0.0.1', port, localAddress });
  tcp.on('error', () => undefined);
  await once(tcp, 'connect');
  const tls = tlsConnect({ socket: tcp, host: '127.0.0.1', rejectUnauthorized: false, maxVersion, ...(session ? { session } : {}) });
  tls.on('error', () => undefined);
  await once(tls, 'secureConnect');
  return { tls, tcp };
}

describe('cases 5-7: TLS attacks', () => {
  let bridge: AbuseBridge;
  before(async () => {
    bridge = await startAbuseBridge({
      tls: true,
      users: [{ username: 'victim', password: 'secret' }],
      env: { FTP_TLS_MODE: 'required', FTP_DATA_TIMEOUT_SECONDS: '5' },
    });
  });
  after(() => bridge.stop());

  test('case 5: 40 clients send USER and PASS in the same write as AUTH TLS', async () => {
    const watch = await AttackWatch.start(bridge.child, { explicitTls: true });
    const logins = bridge.child.logs().filter((line) => line['event'] === 'login').length;
    const codes = await Promise.all(Array.from({ length: 40 }, (_, index) => injectAfterAuthTls(bridge.child.port, `127.0.5.${1 + (index % 20)}`)));
    await delay(200);
    const phase = await watch.end();
    const injected = bridge.child.logs().filter((line) => line['event'] === 'login').length - logins;
    await recordCase({
      case: '5',
      title: '40 × STARTTLS injection (USER/PASS after AUTH TLS, one write)',
      connections: { accepted: codes.filter((code) => code === 257).length, refused: codes.filter((code) => code === 530).length },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: { 'injected logins': injected },
    });
    assert.deepEqual([...new Set(codes)], [530], 'after the handshake the session is not logged in: PWD is 530, not shifted');
    assert.equal(injected, 0, 'no login was logged for the injected lines');
  });

  test('case 6: a connection from the same address takes the PROT P data connection, 10 times per TLS version', async () => {
    const secret = randomBytes(64 * 1024);
    await bridge.s3.client.send(new PutObjectCommand({ Bucket: bridge.s3.bucket, Key: 'victim/secret.bin', Body: secret }));
    const watch = await AttackWatch.start(bridge.child, { explicitTls: true });
    let stolenBytes = 0;
    const outcomes: number[] = [];
    for (const version of VERSIONS) {
      const victim = await RawFtp.loginExplicitTls(bridge.child.port, 'victim', 'secret', { localAddress: '127.0.6.1', tlsMaxVersion: version });
      await victim.command('TYPE I', 200);
      for (let attempt = 0; attempt < 10; attempt++) {
        const port = await victim.passivePort();
        // Same address, its own fresh handshake, no ticket of the victim's session.
        const intruder = await openData({ port, tls: true, localAddress: '127.0.6.1', tlsMaxVersion: version });
        intruder.on('error', () => undefined);
        const received = readAll(intruder).catch(() => Buffer.alloc(0));
        const reply = await victim.command('RETR secret.bin');
        const final = reply.code === 150 ? await victim.read() : reply;
        outcomes.push(final.code);
        intruder.destroy();
        stolenBytes += (await received).length;
      }
      // The victim itself, resuming its session, still gets the file.
      const data = await victim.passive({ tls: true });
      await victim.command('RETR secret.bin', 150);
      assert.deepEqual(await readAll(data), secret);
      await victim.expect(226);
      await victim.close();
    }
    const phase = await watch.end();
    const resumeFailures = bridge.child.logs().filter((line) => line['event'] === 'tls-resume-failure').length;
    await recordCase({
      case: '6',
      title: '20 × PROT P data connection theft, same address (TLS 1.2, 1.3)',
      connections: { accepted: outcomes.filter((code) => code === 226).length, refused: outcomes.filter((code) => code === 522).length },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: { 'bytes stolen': stolenBytes, 'tls-resume-failure events': resumeFailures },
    });
    assert.deepEqual([...new Set(outcomes)], [522], 'every theft is refused with 522');
    assert.equal(stolenBytes, 0, 'no intruder received a byte');
    assert.equal(resumeFailures, outcomes.length, 'each refusal is logged as tls-resume-failure');
  });

  test('case 7: PROT P uploads cut by a bare FIN, 3 times per size from 1 KB to 6 MiB, both TLS versions', async () => {
    const sizes = [1000, 100_000, 1 * MIB, 6 * MIB];
    const watch = await AttackWatch.start(bridge.child, { explicitTls: true });
    const cut: Array<{ code: number; stored: boolean }> = [];
    const whole: Array<{ code: number; stored: boolean }> = [];
    for (const version of VERSIONS) {
      const ftp = await RawFtp.loginExplicitTls(bridge.child.port, 'victim', 'secret', { localAddress: '127.0.7.1', tlsMaxVersion: version });
      await ftp.command('TYPE I', 200);
      await ftp.command('NOOP', 200); // reads the control connection's session tickets
      for (const [round, size] of sizes.flatMap((size) => [0, 1, 2].map((round) => [round, size] as const))) {
        for (const ending of ['fin', 'close_notify'] as const) {
          const name = `${ending}-${version}-${size}-${round}.bin`;
          const { tls, tcp } = await tlsOverTcp(await ftp.passivePort(), { session: ftp.tlsSession, maxVersion: version, localAddress: '127.0.7.1' });
          await ftp.command(`STOR ${name}`, 150);
          const payload = randomBytes(size);
          if (ending === 'fin') {
            if (!tls.write(payload)) await once(tls, 'drain');
            await new Promise<void>((resolve) => tls.write('', () => resolve()));
            tcp.end(); // a FIN with no TLS close_notify before it: an injected FIN
          } else {
            await writeAll(tls, payload);
          }
          const reply = await ftp.read(30_000);
          (ending === 'fin' ? cut : whole).push({ code: reply.code, stored: await objectExists(bridge, `victim/${name}`) });
          tcp.destroy();
        }
      }
      await ftp.close();
    }
    const phase = await watch.end();
    const pending = await pendingMultipartUploads(bridge.s3);
    await recordCase({
      case: '7',
      title: `${cut.length} PROT P uploads cut by a bare FIN (1 KB-6 MiB, TLS 1.2/1.3)`,
      connections: { accepted: cut.filter((upload) => upload.stored).length, refused: cut.filter((upload) => upload.code === 426).length },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: { 'stored after FIN': cut.filter((upload) => upload.stored).length, 'whole uploads 226': whole.filter((upload) => upload.code === 226).length },
    });
    assert.deepEqual(cut, cut.map(() => ({ code: 426, stored: false })), 'an upload without close_notify is 426 and nothing is stored');
    assert.deepEqual(whole, whole.map(() => ({ code: 226, stored: true })), 'the same uploads ended with close_notify are committed');
    assert.deepEqual(pending, [], 'no multipart upload is left behind');
  });
});
