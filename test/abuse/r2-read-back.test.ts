import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { after, before, describe, test } from 'node:test';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';
import { AttackWatch } from '../support/abuse-bridge.ts';
import { cpuSeconds, s3Traffic, startCountedAbuseBridge, type CountedAbuseBridge } from '../support/counted-bridge.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Round 2, extra row x2 (found by the red team, the class of rows 6 and 7): REST to
 * just under 5 MiB + STOR of 1 byte, repeated. S3 copies no part under 5 MiB, so the
 * kept start is read from S3 and uploaded again each time: before, 40 such commands
 * read 200 MiB and wrote 200 MiB (1.8 s CPU) for 40 bytes sent, with no bound per
 * user. Now those bytes count per user per hour (FTP_READ_BACK_MIB_PER_HOUR, 50 here).
 */
const MIB = 1024 * 1024;
const COMMANDS = 40;
const ALLOWANCE_MIB = 50;
const KEPT = 5 * MIB - 1025;

describe('round 2, x2: 1-byte resumes of a file just under 5 MiB', () => {
  let bridge: CountedAbuseBridge;
  before(async () => {
    bridge = await startCountedAbuseBridge({
      users: [{ username: 'partner', password: 'secret', home: 'partner/' }],
      env: { FTP_READ_BACK_MIB_PER_HOUR: String(ALLOWANCE_MIB) },
    });
  });
  after(() => bridge.stop());

  test(`${COMMANDS} × REST ${KEPT} + STOR 1 byte`, async () => {
    await bridge.s3.client.send(new PutObjectCommand({ Bucket: bridge.s3.bucket, Key: 'partner/small.bin', Body: Buffer.alloc(KEPT + 1, 3) }));
    const ftp = await RawFtp.login(bridge.child.port, 'partner', 'secret', { localAddress: '127.0.13.1' });
    await ftp.command('TYPE I', 200);
    const watch = await AttackWatch.start(bridge.child);
    const cpu = await cpuSeconds(bridge.child.pid);
    const start = s3Traffic(bridge.proxy);
    const codes: number[] = [];
    for (let index = 0; index < COMMANDS; index++) {
      const data = await ftp.passive();
      data.on('error', () => undefined);
      await ftp.command(`REST ${KEPT}`, 350);
      await ftp.command('STOR small.bin', 150);
      await writeAll(data, 'x').catch(() => undefined);
      codes.push((await ftp.read(60_000)).code);
      data.destroy();
    }
    const end = s3Traffic(bridge.proxy);
    const used = await cpuSeconds(bridge.child.pid) - cpu;
    const phase = await watch.end();
    await ftp.close();
    const figures = {
      commands: COMMANDS,
      'stored 226': codes.filter((code) => code === 226).length,
      'refused 450': codes.filter((code) => code === 450).length,
      'MiB read from S3': round((end.downloaded - start.downloaded) / MIB),
      'MiB sent to S3': round((end.uploaded - start.uploaded) / MIB),
      'CPU s': round(used),
    };
    await recordCase({
      case: 'r2-x2',
      title: `${COMMANDS} × REST to 5 MiB - 1 KiB + STOR 1 byte (${ALLOWANCE_MIB} MiB/h read back)`,
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: figures,
    });
    const fits = Math.floor((ALLOWANCE_MIB * MIB) / KEPT);
    assert.equal(figures['stored 226'], fits);
    assert.equal(figures['refused 450'], COMMANDS - fits);
    assert.ok(figures['MiB read from S3'] <= ALLOWANCE_MIB, `${figures['MiB read from S3']} MiB read back`);
  });
});
