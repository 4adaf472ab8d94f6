import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startChildBridge } from '../support/child-bridge.ts';
import { startDiscardS3 } from '../support/discard-s3.ts';
import { RawFtp } from '../support/raw-ftp.ts';

/**
 * A download holds its S3 connection for as long as the client takes to read it. The
 * S3 client's connection pool must be as large as the sessions can need, or the
 * sessions past it wait for a connection until the SDK gives up and the client gets
 * 451 (seen in the benchmark: of 100 simultaneous downloads, 36 failed with a pool of 64).
 */
const DOWNLOADS = 80;
const OBJECT_BYTES = 64 * 1024 * 1024;

describe('the S3 connection pool', () => {
  test(`${DOWNLOADS} downloads at once, each held open by a slow client, all complete`, { timeout: 150_000 }, async (t) => {
    const s3 = await startDiscardS3();
    const dir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-pool-'));
    t.after(async () => {
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const response = await fetch(`${s3.endpoint}/_bench/object`, {
      method: 'POST',
      body: JSON.stringify({ key: 'home/big.bin', size: OBJECT_BYTES }),
    });
    assert.ok(response.ok);
    const bridge = await startChildBridge({
      s3: { endpoint: s3.endpoint, bucket: 'bench' },
      dir,
      env: { FTP_MAX_CONNECTIONS: '400', FTP_DATA_TIMEOUT_SECONDS: '60' },
    });
    t.after(() => bridge.kill());

    const sessions = await Promise.all(
      Array.from({ length: DOWNLOADS }, (_, index) =>
        RawFtp.login(bridge.port, 'user', 'pass', { localAddress: `127.0.${1 + Math.floor(index / 200)}.${10 + (index % 200)}` }),
      ),
    );
    const data: Socket[] = [];
    for (const ftp of sessions) {
      await ftp.command('TYPE I', 200);
      const socket = await ftp.passive();
      socket.pause(); // the client reads nothing yet: the bridge's S3 response stays open
      data.push(socket);
      await ftp.command('RETR big.bin', 150);
    }
    // Long past the SDK's 5 s connection timeout for a request still waiting for a socket.
    await delay(8000);
    const received = await Promise.all(
      data.map(
        (socket) =>
          new Promise<number>((resolve) => {
            let bytes = 0;
            socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
            socket.on('close', () => resolve(bytes));
            socket.on('error', () => undefined);
            socket.resume();
          }),
      ),
    );
    const replies = await Promise.all(sessions.map((ftp) => ftp.read(60_000).then((reply) => reply.code)));
    await Promise.all(sessions.map((ftp) => ftp.close()));
    assert.deepEqual(replies.filter((code) => code !== 226), [], `replies: ${JSON.stringify(replies)}`);
    assert.ok(received.every((bytes) => bytes === OBJECT_BYTES), 'every download is whole');
  });
});
