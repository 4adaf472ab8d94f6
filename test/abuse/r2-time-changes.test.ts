import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { after, before, describe, test } from 'node:test';
import { RawFtp } from '../support/raw-ftp.ts';
import { AttackWatch } from '../support/abuse-bridge.ts';
import { cpuSeconds, s3Traffic, startCountedAbuseBridge, type CountedAbuseBridge } from '../support/counted-bridge.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Round 2, row 11: MFMT / MFF / SITE UTIME with the time the file already has,
 * repeated, cost 2 HEAD and a full CopyObject each (a new version and an "Object
 * Created" event each). Now the same time costs one HEAD and no copy, and changes are
 * bounded per user (FTP_TIME_CHANGES_PER_HOUR, 50 here).
 */
const SESSIONS = 5;
const SAME = 40;
const CHANGES = 20;
const ALLOWANCE = 50;

describe('round 2, row 11: MFMT / MFF / SITE UTIME, repeated', () => {
  let bridge: CountedAbuseBridge;
  before(async () => {
    bridge = await startCountedAbuseBridge({
      users: [{ username: 'partner', password: 'secret', home: 'partner/' }],
      env: { FTP_TIME_CHANGES_PER_HOUR: String(ALLOWANCE) },
    });
  });
  after(() => bridge.stop());

  test(`${SESSIONS} sessions × ${SAME} same-time commands, then × ${CHANGES} changes each`, async () => {
    await bridge.s3.client.send(new PutObjectCommand({ Bucket: bridge.s3.bucket, Key: 'partner/file.txt', Body: 'x'.repeat(1024) }));
    const sessions = await Promise.all(
      Array.from({ length: SESSIONS }, (_, index) => RawFtp.login(bridge.child.port, 'partner', 'secret', { localAddress: `127.0.11.${index + 1}` })),
    );
    await sessions[0]!.command('MFMT 20200102030405 file.txt', 213);
    const watch = await AttackWatch.start(bridge.child);
    const cpu = await cpuSeconds(bridge.child.pid);
    const start = s3Traffic(bridge.proxy);
    const forms = ['MFMT 20200102030405 file.txt', 'MFF modify=20200102030405; file.txt', 'SITE UTIME 20200102030405 file.txt'];
    await Promise.all(sessions.map(async (ftp) => {
      for (let index = 0; index < SAME; index++) await ftp.command(forms[index % forms.length]!);
    }));
    const same = s3Traffic(bridge.proxy);
    const changeCodes = (await Promise.all(sessions.map(async (ftp, session) => {
      const codes: number[] = [];
      for (let index = 0; index < CHANGES; index++) {
        const time = `2021${String(session + 1).padStart(2, '0')}${String(index + 1).padStart(2, '0')}000000`;
        codes.push((await ftp.command(`MFMT ${time} file.txt`)).code);
      }
      return codes;
    }))).flat();
    const changed = s3Traffic(bridge.proxy);
    const used = await cpuSeconds(bridge.child.pid) - cpu;
    const phase = await watch.end();
    await Promise.all(sessions.map((ftp) => ftp.close()));
    const sameCommands = SESSIONS * SAME;
    const figures = {
      'same-time commands': sameCommands,
      'copies (same time)': (same.by.CopyObject ?? 0) - (start.by.CopyObject ?? 0),
      'S3 requests per same-time command': round((same.requests - start.requests) / sameCommands),
      'changing commands': changeCodes.length,
      'copies (changes)': (changed.by.CopyObject ?? 0) - (same.by.CopyObject ?? 0),
      'refused 450': changeCodes.filter((code) => code === 450).length,
      'CPU s': round(used),
    };
    await recordCase({
      case: 'r2-11',
      title: `${SESSIONS} sessions × ${SAME} same-time MFMT/MFF/UTIME, then ${SESSIONS * CHANGES} changes (${ALLOWANCE}/h)`,
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: figures,
    });
    assert.equal(figures['copies (same time)'], 0);
    assert.equal(figures['copies (changes)'], ALLOWANCE - 1, 'one change was made before the attack');
    assert.equal(figures['refused 450'], SESSIONS * CHANGES - (ALLOWANCE - 1));
    assert.equal(figures['S3 requests per same-time command'], 1);
  });
});
