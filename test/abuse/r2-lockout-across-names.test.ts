import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawFtp } from '../support/raw-ftp.ts';
import { AttackWatch, startAbuseBridge, type AbuseBridge } from '../support/abuse-bridge.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Round 2, row 2: four wrong passwords for `bob`, then a correct login as the
 * attacker's own account, over and over from one address. A success used to erase
 * the address's failures, so this gave 20 guesses in 20 s and never a lockout (limit
 * 5 per 15 min). Production's limits, a failure delay of 200 ms to keep the case short.
 */
const ROUNDS = 5;

describe('r2-2: a success as another user does not erase guesses', () => {
  let bridge: AbuseBridge;
  before(async () => {
    bridge = await startAbuseBridge({
      users: [
        { username: 'bob', password: 'builder' },
        { username: 'mallory', password: 'her-own' },
      ],
      env: { FTP_LOGIN_FAILURE_DELAY_MS: '200', FTP_LOCKOUT_FAILURES: '5', FTP_LOCKOUT_SECONDS: '900' },
    });
  });
  after(() => bridge.stop());

  test(`${ROUNDS} rounds of 4 guesses at bob and a login as mallory: locked after the 5th guess`, async () => {
    const watch = await AttackWatch.start(bridge.child);
    const ftp = await RawFtp.connect(bridge.child.port, { localAddress: '127.30.0.1' });
    await ftp.expect(220);
    const started = performance.now();
    let guesses = 0;
    let lockedAfterMs: number | undefined;
    let successes = 0;
    for (let round = 0; round < ROUNDS && lockedAfterMs === undefined; round++) {
      for (let guess = 0; guess < 4; guess++) {
        await ftp.command('USER bob', 331);
        await ftp.command(`PASS guess-${round}-${guess}`, 530);
        guesses += 1;
      }
      await ftp.command('USER mallory', 331);
      const own = await ftp.command('PASS her-own');
      if (own.code === 230) successes += 1;
      else lockedAfterMs = performance.now() - started;
    }
    await ftp.close();
    const phase = await watch.end();
    const lockouts = bridge.child.logs().filter((line) => line['event'] === 'lockout').length;
    // The guesses that reached a password check: the ones answered before the lockout.
    const checked = bridge.child.logs().filter((line) => line['event'] === 'login' && line['username'] === 'bob' && line['reason'] === 'bad-credentials').length;
    await recordCase({
      case: 'r2-2',
      title: '4 guesses at bob, then a login as mallory, repeated from one address',
      connections: { accepted: 1 },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: {
        'guesses checked before lockout': checked,
        'own logins that went through': successes,
        'locked after s': lockedAfterMs === undefined ? 'never' : round(lockedAfterMs / 1000),
      },
    });
    assert.equal(lockouts, 1, 'the address is locked out');
    assert.equal(checked, 5, `${checked} guesses reached a password check`);
    assert.equal(successes, 1, 'the second login as mallory is refused: the address is locked');
  });
});
