import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { RawFtp } from '../support/raw-ftp.ts';
import { AttackWatch } from '../support/abuse-bridge.ts';
import { cpuSeconds, putLarge, s3Traffic, startCountedAbuseBridge, type CountedAbuseBridge } from '../support/counted-bridge.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Round 2, row 6: HASH / XSHA1 / XMD5 / XCRC of a 64 MiB file, repeated from 10
 * sessions, read the whole object each time (10 × 3 → 1.9 GiB read, 7.3 s CPU in 10 s).
 * Now each checksum is read once per object version and shared; ranged XCRCs (a new
 * range each time, so nothing to remember) stop at the user's allowance.
 */
const MIB = 1024 * 1024;
const FILE_BYTES = 64 * MIB;
const SESSIONS = 10;
const VERBS = ['XSHA1', 'XMD5', 'XCRC'] as const;
const ROUNDS = 2;

describe('round 2, row 6: checksums of a 64 MiB file, repeated', () => {
  const bridges: CountedAbuseBridge[] = [];
  after(() => Promise.all(bridges.map((bridge) => bridge.stop())));

  async function attack(bridge: CountedAbuseBridge, commands: (session: number) => string[]) {
    await putLarge(bridge.s3, 'partner/big.bin', randomBytes(FILE_BYTES));
    const sessions = await Promise.all(
      Array.from({ length: SESSIONS }, (_, index) => RawFtp.login(bridge.child.port, 'partner', 'secret', { localAddress: `127.0.6.${index + 1}` })),
    );
    const watch = await AttackWatch.start(bridge.child);
    const traffic = s3Traffic(bridge.proxy);
    const cpu = await cpuSeconds(bridge.child.pid);
    const startedAt = Date.now();
    const codes = (await Promise.all(sessions.map(async (ftp, index) => {
      const seen: number[] = [];
      for (const line of commands(index)) {
        ftp.send(line);
        // Ten 64 MiB reads at once on a shared machine: slow, which is what is measured.
        seen.push((await ftp.read(120_000)).code);
      }
      return seen;
    }))).flat();
    const seconds = (Date.now() - startedAt) / 1000;
    const used = await cpuSeconds(bridge.child.pid) - cpu;
    const after = s3Traffic(bridge.proxy);
    const phase = await watch.end();
    await Promise.all(sessions.map((ftp) => ftp.close()));
    return {
      phase,
      watch,
      codes,
      figures: {
        commands: codes.length,
        'answered 250': codes.filter((code) => code === 250).length,
        'refused 450': codes.filter((code) => code === 450).length,
        'MiB read from S3': round((after.downloaded - traffic.downloaded) / MIB),
        'S3 requests per command': round((after.requests - traffic.requests) / codes.length),
        'CPU s': round(used),
        's taken': round(seconds),
      },
    };
  }

  test(`${SESSIONS} sessions × ${VERBS.join('/')} × ${ROUNDS} of one version: each checksum read once`, async () => {
    const bridge = await startCountedAbuseBridge({ users: [{ username: 'partner', password: 'secret', home: 'partner/' }] });
    bridges.push(bridge);
    const result = await attack(bridge, () => Array.from({ length: ROUNDS }, () => VERBS.map((verb) => `${verb} big.bin`)).flat());
    await recordCase({
      case: 'r2-6',
      title: `${SESSIONS} sessions × ${VERBS.length} checksums × ${ROUNDS} of a 64 MiB file`,
      rssMiB: { ...result.phase.rssMiB, after: await result.watch.settle() },
      bystanderMs: result.phase.bystanderMs,
      notes: result.figures,
    });
    assert.ok(result.codes.every((code) => code === 250));
    // One read per algorithm: S3 keeps no SHA-1 or MD5, and no CRC32 for a file this client wrote.
    // (The bystander's NOOP times are recorded, not asserted: the emulator serving the reads
    // runs in the test process, beside the bystander's client.)
    assert.ok(result.figures['MiB read from S3'] <= VERBS.length * 64 + 1, `read ${result.figures['MiB read from S3']} MiB`);
  });

  test(`${SESSIONS} sessions × ranged XCRC, a new range each time: stops at the allowance`, async () => {
    const bridge = await startCountedAbuseBridge({
      users: [{ username: 'partner', password: 'secret', home: 'partner/' }],
      env: { FTP_CHECKSUM_READ_MIB_PER_HOUR: '512' },
    });
    bridges.push(bridge);
    const result = await attack(bridge, (session) => Array.from({ length: 3 }, (_, index) => `XCRC big.bin ${session * 3 + index + 1} ${FILE_BYTES}`));
    await recordCase({
      case: 'r2-6b',
      title: `${SESSIONS} sessions × 3 ranged XCRC (new ranges) of 64 MiB, 512 MiB/h allowance`,
      rssMiB: { ...result.phase.rssMiB, after: await result.watch.settle() },
      bystanderMs: result.phase.bystanderMs,
      notes: result.figures,
    });
    assert.ok(result.figures['MiB read from S3'] <= 512, `read ${result.figures['MiB read from S3']} MiB`);
    assert.ok(result.figures['refused 450'] >= SESSIONS * 3 - 8);
    assert.ok(bridge.child.logs().some((line) => line.event === 'allowance-exceeded'));
  });
});
