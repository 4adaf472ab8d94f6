import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { after, before, describe, test } from 'node:test';
import { RawFtp } from '../support/raw-ftp.ts';
import { AttackWatch } from '../support/abuse-bridge.ts';
import { cpuSeconds, s3Traffic, startCountedAbuseBridge, type CountedAbuseBridge } from '../support/counted-bridge.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Round 2, extra row x1 (found by the red team, the class of row 11): RNFR/RNTO of a
 * folder back and forth copies every object below it inside S3 on each rename (a new
 * object and an "Object Created" event each), with no bound per user: 301 copies per
 * command, as often as the client likes. Now objects copied by renames count per user
 * per hour (FTP_RENAME_OBJECTS_PER_HOUR, 1000 here).
 */
const OBJECTS = 300;
const RENAMES = 10;
const ALLOWANCE = 1000;

describe('round 2, x1: folder renames back and forth', () => {
  let bridge: CountedAbuseBridge;
  before(async () => {
    bridge = await startCountedAbuseBridge({
      users: [{ username: 'partner', password: 'secret', home: 'partner/' }],
      env: { FTP_RENAME_OBJECTS_PER_HOUR: String(ALLOWANCE) },
    });
  });
  after(() => bridge.stop());

  test(`${RENAMES} renames of a folder of ${OBJECTS} files, from 2 sessions`, async () => {
    const { client, bucket } = bridge.s3;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'partner/a/', Body: '' }));
    for (let index = 0; index < OBJECTS; index += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, offset) =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: `partner/a/f${index + offset}.txt`, Body: 'x' }))));
    }
    const sessions = await Promise.all([1, 2].map((index) => RawFtp.login(bridge.child.port, 'partner', 'secret', { localAddress: `127.0.12.${index}` })));
    const watch = await AttackWatch.start(bridge.child);
    const cpu = await cpuSeconds(bridge.child.pid);
    const start = s3Traffic(bridge.proxy);
    const codes: number[] = [];
    let where = 'a';
    for (let index = 0; index < RENAMES; index++) {
      const ftp = sessions[index % 2]!;
      const to = where === 'a' ? 'b' : 'a';
      await ftp.command(`RNFR ${where}`, 350);
      const reply = await ftp.command(`RNTO ${to}`);
      codes.push(reply.code);
      if (reply.code === 250) where = to;
    }
    const end = s3Traffic(bridge.proxy);
    const used = await cpuSeconds(bridge.child.pid) - cpu;
    const phase = await watch.end();
    await Promise.all(sessions.map((ftp) => ftp.close()));
    const figures = {
      'objects per rename': OBJECTS + 1,
      renames: RENAMES,
      'renamed 250': codes.filter((code) => code === 250).length,
      'refused 450': codes.filter((code) => code === 450).length,
      copies: (end.by.CopyObject ?? 0) - (start.by.CopyObject ?? 0),
      'S3 requests': end.requests - start.requests,
      'CPU s': round(used),
    };
    await recordCase({
      case: 'r2-x1',
      title: `${RENAMES} × RNFR/RNTO of a ${OBJECTS + 1}-object folder back and forth, 2 sessions (${ALLOWANCE} objects/h)`,
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: figures,
    });
    const fits = Math.floor(ALLOWANCE / (OBJECTS + 1));
    assert.equal(figures['renamed 250'], fits);
    assert.equal(figures['refused 450'], RENAMES - fits);
    assert.equal(figures.copies, fits * (OBJECTS + 1));
  });
});
