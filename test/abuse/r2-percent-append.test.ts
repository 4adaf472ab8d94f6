import assert from 'node:assert/strict';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';
import { AttackWatch } from '../support/abuse-bridge.ts';
import { cpuSeconds, putLarge, s3Traffic, startCountedAbuseBridge, type CountedAbuseBridge } from '../support/counted-bridge.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Round 2, row 7: APPE of 1 byte to a 64 MiB file whose name holds '%' downloaded the
 * 64 MiB and uploaded them again through the shared upload budget, on every store. Now
 * the kept start is copied inside S3 wherever the store copies such names right
 * (fauxqs, AWS S3; found by a probe once per task).
 */
const MIB = 1024 * 1024;
const APPENDS = 3;

describe("round 2, row 7: APPE 1 byte to a 64 MiB file named with '%'", () => {
  let bridge: CountedAbuseBridge;
  before(async () => {
    bridge = await startCountedAbuseBridge({ users: [{ username: 'partner', password: 'secret', home: 'partner/' }] });
  });
  after(() => bridge.stop());

  test(`${APPENDS} appends of 1 byte each`, async () => {
    const base = randomBytes(64 * MIB);
    const key = 'partner/100% done.bin';
    await putLarge(bridge.s3, key, base);
    const ftp = await RawFtp.login(bridge.child.port, 'partner', 'secret', { localAddress: '127.0.7.1' });
    await ftp.command('TYPE I', 200);
    const watch = await AttackWatch.start(bridge.child);
    const traffic = s3Traffic(bridge.proxy);
    const cpu = await cpuSeconds(bridge.child.pid);
    const codes: number[] = [];
    for (let index = 0; index < APPENDS; index++) {
      const data = await ftp.passive();
      await ftp.command('APPE 100% done.bin', 150);
      await writeAll(data, 'x');
      codes.push((await ftp.read(120_000)).code);
    }
    const used = await cpuSeconds(bridge.child.pid) - cpu;
    const after = s3Traffic(bridge.proxy);
    const phase = await watch.end();
    await ftp.close();
    const stored = await bridge.s3.client.send(new GetObjectCommand({ Bucket: bridge.s3.bucket, Key: key }));
    const bytes = Buffer.from(await stored.Body!.transformToByteArray());
    const right = createHash('sha256').update(bytes).digest('hex') === createHash('sha256').update(Buffer.concat([base, Buffer.from('x'.repeat(APPENDS))])).digest('hex');
    const probe = bridge.child.logs().find((line) => line.event === 'copy-probe');
    const figures = {
      'MiB read from S3': round((after.downloaded - traffic.downloaded) / MIB),
      'MiB sent to S3': round((after.uploaded - traffic.uploaded) / MIB),
      'S3 requests per APPE': round((after.requests - traffic.requests) / APPENDS),
      'CPU s': round(used),
      'probe says': String(probe?.percentNames ?? 'none'),
    };
    await recordCase({
      case: 'r2-7',
      title: `${APPENDS} × APPE 1 byte to a 64 MiB '%' name (fauxqs)`,
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: figures,
    });
    assert.deepEqual(codes, codes.map(() => 226));
    assert.ok(right, 'the file is its 64 MiB and the appended bytes');
    assert.equal(figures['probe says'], 'copy');
    assert.ok(figures['MiB read from S3'] < 1, `read ${figures['MiB read from S3']} MiB`);
    assert.ok(figures['MiB sent to S3'] < 1, `sent ${figures['MiB sent to S3']} MiB`);
  });
});
