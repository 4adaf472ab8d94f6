import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startProxiedTestBridge, type ProxiedTestBridge } from '../support/bridge.ts';
import { S3ObjectStore } from '../../runtime/src/storage/s3/s3-object-store.ts';
import { openSession } from '../support/raw-ftp.ts';
import { randomBytes } from 'node:crypto';

/**
 * Issue 17, row 4: a client that stops reading a RETR is a client condition. The
 * bridge's S3 client here times a socket out after 1 s without bytes (the default is
 * 60 s), so a pause longer than that used to fail the download as a storage error.
 */
const MIB = 1024 * 1024;
const SIZE = 32 * MIB;

/**
 * Reads `socket` to its end, stopping for `pauseMs` after `pauseAt` bytes; with
 * `pauseMs` undefined it stops for good (the socket stays open, unread) and resolves.
 */
function readPausing(socket: Socket, pauseAt: number, pauseMs: number | undefined): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let paused = false;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (paused || received < pauseAt) return;
      paused = true;
      socket.pause();
      if (pauseMs === undefined) resolve(Buffer.concat(chunks));
      else setTimeout(() => socket.resume(), pauseMs);
    });
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

describe('a download whose client stops reading', () => {
  let env: ProxiedTestBridge;
  let data: Buffer;

  before(async () => {
    env = await startProxiedTestBridge({
      client: { requestHandler: { socketTimeout: 1000 } },
      bridge: { readReleaseMs: 300, env: { FTP_IDLE_TIMEOUT_SECONDS: '6' } },
    });
    data = randomBytes(SIZE);
    // Stored with the test's own client: the bridge's times out too soon for a Complete of 32 MiB.
    const store = new S3ObjectStore({ client: env.s3.client, bucket: env.s3.bucket, prefix: '' });
    await store.write('partners/alice/big.bin', Readable.from([data]));
  });
  after(async () => {
    await env.stop();
  });

  const logged = (event: string): Array<Record<string, unknown>> => env.env.logs.filter((line) => line['event'] === event);

  test('a pause longer than the S3 socket timeout: the whole file, 226, no storage error', async () => {
    const ftp = await openSession(env.env.port, 'alice', 'wonderland', false);
    const socket = await ftp.passive();
    await ftp.command('RETR big.bin', 150);
    const received = await readPausing(socket, 1 * MIB, 3000);
    await ftp.expect(226);
    assert.equal(received.length, SIZE);
    assert.ok(received.equals(data), 'byte for byte');
    await ftp.close();
    assert.deepEqual(logged('storage-error'), []);
    assert.deepEqual(logged('command-error'), []);
  });

  test('a client that never reads again: 426 after the idle timeout, a data-connection event, no storage error', async () => {
    const ftp = await openSession(env.env.port, 'alice', 'wonderland', false);
    const socket = await ftp.passive();
    socket.on('error', () => undefined);
    await ftp.command('RETR big.bin', 150);
    const started = Date.now();
    await readPausing(socket, 1 * MIB, undefined);
    const reply = await ftp.read(20_000);
    assert.equal(reply.code, 426, reply.lines.join(' | '));
    const endedAfterMs = Date.now() - started;
    assert.ok(endedAfterMs >= 5000, `after the idle timeout, not at the S3 socket timeout: ${endedAfterMs} ms`);
    assert.ok(endedAfterMs < 9000, `at the idle timeout, not twice it: ${endedAfterMs} ms`);
    socket.destroy();
    await ftp.close();
    assert.deepEqual(logged('storage-error'), []);
    assert.deepEqual(logged('command-error'), []);
    assert.ok(logged('data-connection-error').length >= 1);
    const transfer = logged('transfer').filter((line) => line['command'] === 'RETR').at(-1);
    assert.equal(transfer?.['outcome'], 'failed');
  });
});
