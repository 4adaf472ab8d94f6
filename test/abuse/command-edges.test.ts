import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';
import { AttackWatch, startAbuseBridge } from '../support/abuse-bridge.ts';
import { recordCase, round, summarize } from '../support/abuse-figures.ts';

/**
 * Case 10, the smaller ones: a partial line kept resetting the idle timer (the
 * timeout is meant to count commands); `STOU /` created a hidden file
 * `.1796158919352.d73031c1`; `EPSV foo` answered 522 where 501 fits.
 */
const TRICKLERS = 50;

describe('case 10: partial lines, STOU /, EPSV foo', () => {
  test(`${TRICKLERS} sessions trickle a partial line against a 1 s idle timeout; STOU / and EPSV foo`, async (t) => {
    const bridge = await startAbuseBridge({ env: { FTP_IDLE_TIMEOUT_SECONDS: '1' } });
    t.after(() => bridge.stop());
    const watch = await AttackWatch.start(bridge.child);
    const tricklers = await Promise.all(
      Array.from({ length: TRICKLERS }, (_, index) => RawFtp.login(bridge.child.port, 'user', 'pass', { localAddress: `127.0.10.${1 + (index % 10)}` })),
    );
    const started = performance.now();
    const trickle = setInterval(() => {
      for (const ftp of tricklers) if (!ftp.ended) ftp.socket.write('N');
    }, 200);
    const closed = await Promise.all(
      tricklers.map(async (ftp) => {
        const reply = await ftp.read(10_000).catch(() => undefined);
        return { code: reply?.code ?? 0, ms: performance.now() - started };
      }),
    );
    clearInterval(trickle);
    await delay(200);
    const held = tricklers.filter((ftp) => !ftp.ended).length;
    await Promise.all(tricklers.map((ftp) => ftp.close()));

    const ftp = await RawFtp.login(bridge.child.port, 'user', 'pass', { localAddress: '127.0.10.100' });
    const data = await ftp.passive();
    const stou = await ftp.command('STOU /', 150);
    await writeAll(data, 'unnamed');
    await ftp.expect(226);
    const epsv = await ftp.command('EPSV foo');
    await ftp.close();
    const phase = await watch.end();
    const times = summarize(closed.map((entry) => entry.ms));
    const stouName = /FILE: (\S+)/.exec(stou.text)?.[1] ?? '';
    await recordCase({
      case: '10',
      title: `${TRICKLERS} partial-line tricklers, 1 s idle timeout; STOU /; EPSV foo`,
      connections: { accepted: TRICKLERS, refused: closed.filter((entry) => entry.code === 421).length, held },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: { 'closed p50 ms': times.p50, 'closed max ms': round(times.max), 'STOU / name': stouName, 'EPSV foo': epsv.code },
    });
    assert.deepEqual([...new Set(closed.map((entry) => entry.code))], [421], 'every trickler gets 421 at the idle timeout');
    // A kept-alive trickler would stay open until the test closes it; 5 s is room for a loaded machine.
    assert.ok(times.max < 5000, `a trickling session was kept alive for ${times.max} ms`);
    assert.equal(held, 0);
    assert.match(stouName, /^[^.]/, 'STOU / makes a visible name, not a dot file');
    assert.equal(epsv.code, 501);
  });
});
