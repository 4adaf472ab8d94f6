import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { LoginGuard, type Clock, type LoginGuardOptions } from '../../runtime/src/auth/login-guard.ts';
import type { LoginResult } from '../../runtime/src/auth/user.ts';
import { captureLogger } from '../support/capture-logger.ts';

/** A clock that only moves when told to; sleeping moves it forward. */
class FakeClock implements Clock {
  time = 1_000_000;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

const OK: LoginResult = { ok: true, user: { username: 'u', home: '', permissions: new Set() } };
const BAD: LoginResult = { ok: false, reason: 'bad-credentials' };

function makeGuard(overrides: Partial<LoginGuardOptions> = {}) {
  const clock = new FakeClock();
  const guard = new LoginGuard({
    failureDelayMs: 1000,
    maxFailures: 3,
    lockoutMs: 60_000,
    logger: pino({ level: 'silent' }),
    clock,
    ...overrides,
  });
  let checks = 0;
  const attempt = (clientAddress: string, result: LoginResult, checkTakesMs = 0, username = 'u') =>
    guard.attempt({
      clientAddress,
      username,
      check: async () => {
        checks++;
        clock.advance(checkTakesMs);
        return result;
      },
    });
  return { guard, clock, attempt, checks: () => checks };
}

describe('LoginGuard', () => {
  test('a failure resolves after the delay, counted from the start; success at once', async () => {
    const { clock, attempt } = makeGuard();
    assert.deepEqual(await attempt('192.0.2.1', BAD, 300), BAD);
    assert.deepEqual(clock.sleeps, [700]);
    assert.deepEqual(await attempt('192.0.2.1', OK, 300), OK);
    assert.deepEqual(clock.sleeps, [700]);
    // A check slower than the delay adds no further wait.
    await attempt('192.0.2.1', BAD, 1500);
    assert.deepEqual(clock.sleeps, [700]);
  });

  test('lockout timeline', async () => {
    const captured = captureLogger();
    const { guard, clock, attempt, checks } = makeGuard({ logger: captured.logger });
    const address = '192.0.2.1';

    // Two failures: not locked yet.
    await attempt(address, BAD);
    await attempt(address, BAD);
    assert.equal(guard.isLockedOut(address), false);
    // The third failure within the window locks the address (the check takes no time here).
    const lockedAt = clock.now();
    await attempt(address, BAD);
    assert.equal(guard.isLockedOut(address), true);
    assert.equal(captured.lines.filter((entry) => entry['msg'] === 'login lockout: too many failed logins from this address').length, 1);

    // While locked: refused without running the check, even with the right password, after the delay.
    const checksBefore = checks();
    const sleepsBefore = clock.sleeps.length;
    assert.deepEqual(await attempt(address, OK), { ok: false, reason: 'locked-out' });
    assert.equal(checks(), checksBefore);
    assert.deepEqual(clock.sleeps.slice(sleepsBefore), [1000]);
    // Another address is not affected.
    assert.deepEqual(await attempt('192.0.2.2', OK), OK);

    // Just before the end of the lockout: still locked; after it: open again, counter reset.
    clock.time = lockedAt + 60_000 - 1;
    assert.equal(guard.isLockedOut(address), true);
    clock.time = lockedAt + 60_000;
    assert.equal(guard.isLockedOut(address), false);
    await attempt(address, BAD);
    await attempt(address, BAD);
    assert.equal(guard.isLockedOut(address), false);
  });

  test('failures older than the window do not count', async () => {
    const { guard, clock, attempt } = makeGuard({ failureDelayMs: 0 });
    await attempt('192.0.2.1', BAD);
    clock.advance(40_000);
    await attempt('192.0.2.1', BAD);
    clock.advance(25_000); // the first failure is now 65 s old
    await attempt('192.0.2.1', BAD);
    assert.equal(guard.isLockedOut('192.0.2.1'), false);
    await attempt('192.0.2.1', BAD); // three within 60 s
    assert.equal(guard.isLockedOut('192.0.2.1'), true);
  });

  test('a success forgives the failures for its own name only', async () => {
    const { guard, attempt } = makeGuard();
    // A partner who mistyped its own password twice, then got it right, starts afresh.
    await attempt('192.0.2.1', BAD, 0, 'acme');
    await attempt('192.0.2.1', BAD, 0, 'acme');
    await attempt('192.0.2.1', OK, 0, 'acme');
    await attempt('192.0.2.1', BAD, 0, 'acme');
    await attempt('192.0.2.1', BAD, 0, 'acme');
    assert.equal(guard.isLockedOut('192.0.2.1'), false);
    // Guesses at bob are not erased by logging in as the guesser's own account.
    await attempt('192.0.2.2', BAD, 0, 'bob');
    await attempt('192.0.2.2', BAD, 0, 'bob');
    await attempt('192.0.2.2', OK, 0, 'mallory');
    await attempt('192.0.2.2', BAD, 0, 'bob');
    assert.equal(guard.isLockedOut('192.0.2.2'), true);
  });

  test('a busy refusal is answered at once and not counted', async () => {
    const { guard, clock, attempt } = makeGuard({ maxFailures: 1 });
    assert.deepEqual(await attempt('192.0.2.1', { ok: false, reason: 'busy' }), { ok: false, reason: 'busy' });
    assert.deepEqual(clock.sleeps, []);
    assert.equal(guard.isLockedOut('192.0.2.1'), false);
  });

  test('IPv4-mapped addresses count as IPv4; IPv6 counts per /64', async () => {
    const { guard, attempt } = makeGuard();
    await attempt('192.0.2.1', BAD);
    await attempt('::ffff:192.0.2.1', BAD);
    await attempt('192.0.2.1', BAD);
    assert.equal(guard.isLockedOut('::ffff:192.0.2.1'), true);

    await attempt('2001:db8:1:2::1', BAD);
    await attempt('2001:db8:1:2::2', BAD);
    await attempt('2001:db8:1:2:ffff::9', BAD);
    assert.equal(guard.isLockedOut('2001:db8:1:2::abcd'), true);
    assert.equal(guard.isLockedOut('2001:db8:1:3::1'), false);
  });

  test('maxFailures 0 never locks out and remembers nothing', async () => {
    const { guard, attempt } = makeGuard({ maxFailures: 0 });
    for (let i = 0; i < 20; i++) await attempt('192.0.2.1', BAD);
    assert.equal(guard.isLockedOut('192.0.2.1'), false);
    assert.equal(guard.trackedAddresses, 0);
  });

  test('memory stays bounded: expired records go first, then the oldest', async () => {
    const { guard, clock, attempt } = makeGuard({ maxTrackedAddresses: 100, failureDelayMs: 0 });
    for (let i = 0; i < 100; i++) await attempt(`10.0.0.${i}`, BAD);
    assert.equal(guard.trackedAddresses, 100);
    clock.advance(61_000); // all expired
    await attempt('10.0.1.1', BAD);
    assert.equal(guard.trackedAddresses, 1);

    for (let i = 0; i < 1000; i++) await attempt(`10.1.${i >> 8}.${i & 255}`, BAD);
    assert.ok(guard.trackedAddresses <= 100, String(guard.trackedAddresses));
    // The newest are kept.
    await attempt('10.1.3.231', BAD);
    await attempt('10.1.3.231', BAD);
    assert.equal(guard.isLockedOut('10.1.3.231'), true);
  });

  test('a locked address stays locked while other addresses come and go (below the cap)', async () => {
    const { guard, attempt } = makeGuard({ maxTrackedAddresses: 1000, failureDelayMs: 0 });
    for (let i = 0; i < 3; i++) await attempt('192.0.2.1', BAD);
    for (let i = 0; i < 500; i++) await attempt(`10.0.${i >> 8}.${i & 255}`, BAD);
    assert.equal(guard.isLockedOut('192.0.2.1'), true);
  });
});

describe('LoginGuard with parallel attempts', () => {
  test('guesses sent in parallel from one address are counted exactly', async () => {
    const { attempt, checks } = makeGuard({ maxFailures: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, () => attempt('192.0.2.50', BAD, 50)));
    assert.equal(checks(), 3, 'only the attempts up to the threshold reach the password check');
    assert.equal(results.filter((result) => !result.ok && result.reason === 'locked-out').length, 7);
  });

  test('other addresses are not held up by one address\'s queue', async () => {
    const { attempt, checks } = makeGuard({ maxFailures: 100 });
    await Promise.all([attempt('192.0.2.60', BAD), attempt('198.51.100.7', OK), attempt('192.0.2.60', BAD)]);
    assert.equal(checks(), 3);
  });
});
