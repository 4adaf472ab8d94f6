import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { writeFile } from 'node:fs/promises';
import { hashPassword } from '../../runtime/src/auth/password-hash.ts';
import { DEFAULT_USER, startTestBridge, type TestBridge } from '../support/bridge.ts';
import { waitUntil } from '../support/wait-until.ts';
import { RawFtp } from '../support/raw-ftp.ts';

describe('login', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({
      storage: 'memory',
      users: [DEFAULT_USER, { username: 'fenced', password: 'secret', allowFrom: ['203.0.113.0/24'] }],
      env: { FTP_LOCKOUT_FAILURES: '100', FTP_LOGIN_FAILURE_DELAY_MS: '200' },
    });
  });
  after(() => env.stop());

  test('greets with 220 and logs in with USER/PASS', async () => {
    const ftp = await RawFtp.connect(env.port);
    const greeting = await ftp.expect(220);
    assert.match(greeting.text, /ready/);
    await ftp.command('USER alice', 331);
    await ftp.command('PASS wonderland', 230);
    await ftp.command('PWD', 257);
    await ftp.command('QUIT', 221);
    await ftp.close();
    const login = env.logs.find((line) => line.event === 'login' && line.outcome === 'ok');
    assert.equal(login?.username, 'alice');
    assert.ok(!JSON.stringify(env.logs).includes('wonderland'), 'the password never reaches the log');
  });

  test('USER answers 331 for unknown users too, and a wrong password is answered 530 after the delay', async () => {
    const ftp = await RawFtp.connect(env.port, {});
    await ftp.expect(220);
    await ftp.command('USER nobody', 331);
    const started = Date.now();
    await ftp.command('PASS whatever', 530);
    assert.ok(Date.now() - started >= 180, 'failure is delayed');
    await ftp.command('USER alice', 331);
    const wrong = Date.now();
    await ftp.command('PASS wrong', 530);
    assert.ok(Date.now() - wrong >= 180);
    await ftp.close();
  });

  test('commands that need a login are refused with 530 before it; PASS without USER is 503', async () => {
    const ftp = await RawFtp.connect(env.port);
    await ftp.expect(220);
    for (const command of ['PWD', 'CWD /', 'LIST', 'RETR x', 'STOR x', 'PASV', 'MKD x', 'TYPE I']) {
      assert.equal((await ftp.command(command)).code, 530, command);
    }
    await ftp.command('PASS wonderland', 503);
    await ftp.command('SYST', 215);
    await ftp.close();
  });

  test('allowFrom refuses logins from other addresses: the right password is told why, a wrong one is not', async () => {
    const ftp = await RawFtp.connect(env.port);
    await ftp.expect(220);
    await ftp.command('USER fenced', 331);
    const refused = await ftp.command('PASS secret', 530);
    // The partner's operator learns the cause (it was only in our log); a guesser never gets this far.
    assert.match(refused.text, /does not allow your address 127\.0\.0\.1 \(its allowFrom list\)/);
    await ftp.command('USER fenced', 331);
    const guess = await ftp.command('PASS guess', 530);
    assert.equal(guess.text, 'Login incorrect.');
    await ftp.close();
    assert.ok(env.logs.some((line) => line.event === 'login' && line.reason === 'address-not-allowed'));
  });

  test('REIN logs out; USER while logged in starts a new login', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('REIN', 220);
    await ftp.command('PWD', 530);
    await ftp.command('USER alice', 331);
    await ftp.command('PASS wonderland', 230);
    await ftp.command('USER alice', 331);
    await ftp.command('PWD', 530);
    await ftp.close();
    const lines = env.logs.filter((line) => line.event === 'logout' || line.event === 'login');
    assert.ok(lines.length > 0);
    // pino writes repeated child bindings as repeated keys; the session log must carry one user at most.
    assert.ok(env.rawLogLines.every((line) => (line.match(/"user":/g) ?? []).length <= 1));
  });

  test('the users file is re-read when it changes, without a restart', async () => {
    await env.writeUsers([DEFAULT_USER, { username: 'newcomer', password: 'fresh-start' }]);
    let loggedIn = false;
    for (let attempt = 0; attempt < 30 && !loggedIn; attempt++) {
      await delay(200);
      const ftp = await RawFtp.connect(env.port);
      await ftp.expect(220);
      await ftp.command('USER newcomer', 331);
      loggedIn = (await ftp.command('PASS fresh-start')).code === 230;
      await ftp.close();
    }
    assert.ok(loggedIn, 'the new user can log in');
  });
});

describe('lockout and login timeout', () => {
  test('repeated failures from one address lock it out, even with the right password', async () => {
    const env = await startTestBridge({ storage: 'memory', env: { FTP_LOCKOUT_FAILURES: '3', FTP_LOCKOUT_SECONDS: '60' } });
    try {
      const ftp = await RawFtp.connect(env.port);
      await ftp.expect(220);
      for (let attempt = 0; attempt < 3; attempt++) {
        await ftp.command('USER alice', 331);
        await ftp.command('PASS nope', 530);
      }
      await ftp.command('USER alice', 331);
      await ftp.command('PASS wonderland', 530);
      await ftp.close();
      assert.ok(env.logs.some((line) => line.event === 'login' && line.reason === 'locked-out'));
      assert.ok(env.logs.some((line) => line.event === 'lockout' && line.clientAddress === '127.0.0.1' && line.failures === 3));
    } finally {
      await env.stop();
    }
  });

  test('a success as another user does not erase the failures: 4 guesses at bob, then a login as alice, twice, is a lockout', async () => {
    const env = await startTestBridge({
      storage: 'memory',
      users: [DEFAULT_USER, { username: 'bob', password: 'builder' }],
      env: { FTP_LOCKOUT_FAILURES: '5', FTP_LOCKOUT_SECONDS: '900' },
    });
    try {
      const ftp = await RawFtp.connect(env.port);
      await ftp.expect(220);
      const codes: number[] = [];
      for (let round = 0; round < 2; round++) {
        for (let guess = 0; guess < 4; guess++) {
          await ftp.command('USER bob', 331);
          codes.push((await ftp.command(`PASS guess-${round}-${guess}`)).code);
        }
        await ftp.command('USER alice', 331);
        codes.push((await ftp.command('PASS wonderland')).code);
      }
      // Round one: four 530s and alice's 230; round two: the fifth guess locks, alice's login is refused.
      assert.deepEqual(codes, [530, 530, 530, 530, 230, 530, 530, 530, 530, 530]);
      assert.ok(env.logs.some((line) => line.event === 'lockout' && line.failures === 5));
      assert.ok(env.logs.some((line) => line.event === 'login' && line.username === 'alice' && line.reason === 'locked-out'));
      await ftp.close();
    } finally {
      await env.stop();
    }
  });

  test('a wrong password for a known user and any password for an unknown one: same reply, same time', async () => {
    const env = await startTestBridge({ storage: 'memory', env: { FTP_LOCKOUT_FAILURES: '0', FTP_LOGIN_FAILURE_DELAY_MS: '300' } });
    try {
      const ftp = await RawFtp.connect(env.port);
      await ftp.expect(220);
      const attempt = async (username: string) => {
        await ftp.command(`USER ${username}`, 331);
        const started = performance.now();
        const reply = await ftp.command('PASS not-it');
        return { lines: reply.lines, ms: performance.now() - started };
      };
      for (let round = 0; round < 3; round++) {
        const known = await attempt('alice');
        const unknown = await attempt(`nobody-${round}`);
        assert.deepEqual(unknown.lines, known.lines);
        assert.deepEqual(known.lines, ['530 Login incorrect.']);
        for (const { ms } of [known, unknown]) assert.ok(ms >= 295 && ms < 5000, `answered after ${ms.toFixed(0)} ms`);
      }
      await ftp.close();
    } finally {
      await env.stop();
    }
  });

  test('a connection that does not log in in time gets 421 and is closed', async () => {
    // Long enough that a loaded machine's pause between 220 and USER cannot use it up.
    const env = await startTestBridge({ storage: 'memory', env: { FTP_LOGIN_TIMEOUT_SECONDS: '2' } });
    try {
      const ftp = await RawFtp.connect(env.port);
      await ftp.expect(220);
      await ftp.command('USER alice', 331);
      const closing = await ftp.read(10_000);
      assert.equal(closing.code, 421);
      await waitUntil('the bridge to close the connection', () => ftp.ended);
      await ftp.close();
    } finally {
      await env.stop();
    }
  });

  test('an idle control connection gets 421 after the idle timeout', async () => {
    const env = await startTestBridge({ storage: 'memory', env: { FTP_IDLE_TIMEOUT_SECONDS: '2' } });
    try {
      const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
      const closing = await ftp.read(10_000);
      assert.equal(closing.code, 421);
      assert.match(closing.text, /idle/i);
      await ftp.close();
    } finally {
      await env.stop();
    }
  });

  test('a password check whose client has gone is dropped: no login after the session closed', async () => {
    const env = await startTestBridge({ storage: 'memory' });
    try {
      // A hash as slow as a real one, so checks queue up behind each other.
      const passwordHash = await hashPassword('patience', { parameters: { logN: 14, r: 8, p: 1 } });
      await writeFile(env.usersFile, JSON.stringify({ users: [{ username: 'slow', passwordHash, home: 'partners/slow/' }] }));
      await waitUntil('the users file re-read', () => env.logs.some((line) => line.event === 'users-reloaded' && line.users === 1));
      const clients = await Promise.all(Array.from({ length: 12 }, () => RawFtp.connect(env.port)));
      for (const ftp of clients) {
        await ftp.expect(220);
        await ftp.command('USER slow', 331);
        ftp.send('PASS patience');
      }
      await Promise.all(clients.map((ftp) => ftp.close()));
      await delay(2000);
      const closedAt = new Map<unknown, number>();
      env.logs.forEach((line, index) => {
        if (line.event === 'session-close') closedAt.set(line.session, index);
      });
      const lateLogins = env.logs.filter(
        (line, index) => line.event === 'login' && closedAt.has(line.session) && index > closedAt.get(line.session)!,
      );
      assert.deepEqual(lateLogins, []);
    } finally {
      await env.stop();
    }
  });
});
