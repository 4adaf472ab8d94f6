import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pendingMultipartUploads } from '../support/s3-server.ts';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';
import { AttackWatch, startAbuseBridge, type AbuseBridge } from '../support/abuse-bridge.ts';
import { recordCase } from '../support/abuse-figures.ts';

/**
 * Case 9: an APPE onto a 6 MiB file committed base + appended bytes after a STOR of
 * other content to the same name had completed with 226: the STOR was lost, and
 * nobody was told. The append must fail with 450 instead.
 */
const MIB = 1024 * 1024;
const ROUNDS = 3;

describe('case 9: APPE while another session replaces the file', () => {
  let bridge: AbuseBridge;
  before(async () => {
    bridge = await startAbuseBridge();
  });
  after(() => bridge.stop());

  test(`APPE onto a 6 MiB file and onto a small one, ${ROUNDS} times each, while a STOR of the same name completes`, async () => {
    const watch = await AttackWatch.start(bridge.child);
    const outcomes: Array<{ code: number; storKept: boolean }> = [];
    for (const baseBytes of [6 * MIB, 100_000]) {
      for (let round = 0; round < ROUNDS; round++) {
        const name = `race-${baseBytes}-${round}.bin`;
        const key = `home/${name}`;
        await bridge.s3.client.send(new PutObjectCommand({ Bucket: bridge.s3.bucket, Key: key, Body: randomBytes(baseBytes) }));
        const appender = await RawFtp.login(bridge.child.port, 'user', 'pass', { localAddress: '127.0.9.1' });
        const storer = await RawFtp.login(bridge.child.port, 'user', 'pass', { localAddress: '127.0.9.2' });
        await appender.command('TYPE I', 200);
        await storer.command('TYPE I', 200);
        const appendData = await appender.passive();
        await appender.command(`APPE ${name}`, 150);
        appendData.write('appended while another upload replaced the file');
        const replacement = randomBytes(2000);
        const storData = await storer.passive();
        await storer.command(`STOR ${name}`, 150);
        await writeAll(storData, replacement);
        await storer.expect(226);
        await writeAll(appendData, '');
        const reply = await appender.read(60_000);
        const stored = await bridge.s3.client.send(new GetObjectCommand({ Bucket: bridge.s3.bucket, Key: key }));
        outcomes.push({ code: reply.code, storKept: Buffer.from(await stored.Body!.transformToByteArray()).equals(replacement) });
        await Promise.all([appender.close(), storer.close()]);
      }
    }
    const phase = await watch.end();
    const pending = await pendingMultipartUploads(bridge.s3);
    await recordCase({
      case: '9',
      title: `${outcomes.length} × APPE racing a STOR (6 MiB and 100 KB bases)`,
      connections: { accepted: outcomes.filter((outcome) => outcome.code === 226).length, refused: outcomes.filter((outcome) => outcome.code === 450).length },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: { 'STORs lost': outcomes.filter((outcome) => !outcome.storKept).length, 'multipart left': pending.length },
    });
    assert.deepEqual(outcomes, outcomes.map(() => ({ code: 450, storKept: true })), 'every APPE is 450 and the STOR\'s file stays');
    assert.deepEqual(pending, []);
  });
});
