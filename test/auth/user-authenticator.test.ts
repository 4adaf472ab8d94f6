import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LoginGuard, SYSTEM_CLOCK, type Clock } from '../../runtime/src/auth/login-guard.ts';
import { hashPassword } from '../../runtime/src/auth/password-hash.ts';
import { UserAuthenticator, UsersDocumentError } from '../../runtime/src/auth/user-authenticator.ts';
import type { LoginRequest } from '../../runtime/src/auth/user.ts';
import { ConfigError, loadConfig } from '../../runtime/src/config.ts';
import { startBridge } from '../../runtime/src/composition-root.ts';
import { WatchedDocument, type DocumentSource } from '../../runtime/src/sources/watched-document.ts';
import { captureLogger, type CapturedLogger } from '../support/capture-logger.ts';
import { startFakeSecretsManager } from '../support/secrets-manager-server.ts';
import { startDynalite } from '../support/dynalite.ts';
import { UsersTable } from '../../runtime/src/sources/users-table.ts';
import { waitUntil } from '../support/wait-until.ts';

const DELAY_MS = 200;
const RELOAD_MS = 20;
const PASSWORDS = { acme: 'acme-Password-1', beta: 'beta-Password-2', gamma: 'gamma-Password-3' } as const;

let dir = '';
const hashes: Record<keyof typeof PASSWORDS, string> = { acme: '', beta: '', gamma: '' };
const documents: WatchedDocument[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-auth-'));
  for (const name of Object.keys(PASSWORDS) as Array<keyof typeof PASSWORDS>) hashes[name] = await hashPassword(PASSWORDS[name]);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  for (const document of documents.splice(0)) document.close();
});

function usersJson(users: unknown[]): string {
  return JSON.stringify({ users }, null, 2);
}

const ACME = () => ({ username: 'acme', passwordHash: hashes.acme, home: '/partners/acme/', permissions: ['list', 'read'] });
const BETA = () => ({ username: 'beta', passwordHash: hashes.beta, home: 'partners/beta', allowFrom: ['203.0.113.0/24', '2001:db8::/32'] });

let fileCounter = 0;
async function usersFile(users: unknown[]): Promise<string> {
  const path = join(dir, `users-${++fileCounter}.json`);
  await writeFile(path, usersJson(users));
  return path;
}

async function makeAuthenticator(options: {
  readonly source: DocumentSource;
  readonly maxFailures?: number;
  readonly failureDelayMs?: number;
  readonly captured?: CapturedLogger;
  readonly secretsClient?: SecretsManagerClient;
  readonly dynamoClient?: DynamoDBClient;
  readonly maxQueuedVerifications?: number;
  readonly maxVerificationWaitMs?: number;
}) {
  const captured = options.captured ?? captureLogger();
  const document = new WatchedDocument({
    source: options.source,
    intervalMs: RELOAD_MS,
    logger: captured.logger,
    ...(options.secretsClient === undefined ? {} : { secretsClient: options.secretsClient }),
    ...(options.source.kind === 'table' && options.dynamoClient !== undefined
      ? { usersTable: new UsersTable({ client: options.dynamoClient, tableName: options.source.tableName }) }
      : {}),
  });
  documents.push(document);
  // The real clock, with the failure delays recorded.
  const sleeps: number[] = [];
  const clock: Clock = { now: SYSTEM_CLOCK.now, sleep: (ms) => (sleeps.push(ms), SYSTEM_CLOCK.sleep(ms)) };
  const guard = new LoginGuard({
    failureDelayMs: options.failureDelayMs ?? DELAY_MS,
    maxFailures: options.maxFailures ?? 100,
    lockoutMs: 60_000,
    logger: captured.logger,
    clock,
  });
  const authenticator = await UserAuthenticator.create({
    document,
    guard,
    logger: captured.logger,
    ...(options.maxQueuedVerifications === undefined ? {} : { maxQueuedVerifications: options.maxQueuedVerifications }),
    ...(options.maxVerificationWaitMs === undefined ? {} : { maxVerificationWaitMs: options.maxVerificationWaitMs }),
  });
  return { authenticator, captured, sleeps };
}

async function timedLogin(authenticator: UserAuthenticator, request: LoginRequest) {
  const started = performance.now();
  const result = await authenticator.login(request);
  return { result, ms: performance.now() - started };
}

/**
 * Counts the scrypt computations started from now on (Node's crypto job for scrypt is
 * an async resource of its own type): what a login costs, counted rather than timed, so
 * a loaded machine cannot make the count wrong.
 */
function countScrypts(): { count(): number; stop(): void } {
  let started = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'SCRYPTREQUEST') started++;
    },
  }).enable();
  return { count: () => started, stop: () => hook.disable() };
}

describe('UserAuthenticator', () => {
  test('a good login hands out the user: home and permissions, nothing secret', async () => {
    const { authenticator, sleeps } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([ACME(), BETA()]) } });
    assert.equal(authenticator.userCount, 2);
    const result = await authenticator.login({ username: 'acme', password: PASSWORDS.acme, clientAddress: '192.0.2.1' });
    assert.ok(result.ok);
    assert.equal(result.user.username, 'acme');
    assert.equal(result.user.home, 'partners/acme');
    assert.deepEqual([...result.user.permissions], ['list', 'read']);
    assert.deepEqual(Object.keys(result.user).sort(), ['home', 'permissions', 'username']);
    assert.deepEqual(sleeps, [], 'success is not delayed');
  });

  test('unknown user and wrong password both fail as bad-credentials, after the delay', async () => {
    const { authenticator, captured } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([ACME()]) } });
    const wrong = await timedLogin(authenticator, { username: 'acme', password: 'nope', clientAddress: '192.0.2.1' });
    const unknown = await timedLogin(authenticator, { username: 'nobody', password: 'nope', clientAddress: '192.0.2.1' });
    const wrongCase = await timedLogin(authenticator, { username: 'ACME', password: PASSWORDS.acme, clientAddress: '192.0.2.1' });
    for (const attempt of [wrong, unknown, wrongCase]) {
      assert.deepEqual(attempt.result, { ok: false, reason: 'bad-credentials' });
      assert.ok(attempt.ms >= DELAY_MS - 5, `answered after ${attempt.ms} ms`);
    }
    assert.ok(!captured.text().includes('nope'));
  });

  test('an unknown user costs a password hash too (no delay, to see the hashing time)', async () => {
    const { authenticator } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([ACME()]) }, failureDelayMs: 0 });
    const attempt = (username: string) => timedLogin(authenticator, { username, password: 'nope', clientAddress: '192.0.2.1' });
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      wrong.push((await attempt('acme')).ms);
      unknown.push((await attempt(`nobody-${i}`)).ms);
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[1] ?? 0;
    // Without the throwaway hash an unknown user would answer in well under a millisecond.
    assert.ok(median(unknown) > median(wrong) / 2, `unknown ${unknown.join('/')} ms vs wrong ${wrong.join('/')} ms`);
  });

  test('allowFrom: right password from elsewhere is address-not-allowed; IPv4-mapped and IPv6 match', async () => {
    const { authenticator } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([BETA()]) } });
    const login = (clientAddress: string, password: string = PASSWORDS.beta) =>
      authenticator.login({ username: 'beta', password, clientAddress });
    assert.equal((await login('203.0.113.77')).ok, true);
    assert.equal((await login('::ffff:203.0.113.77')).ok, true);
    assert.equal((await login('2001:db8:5::1')).ok, true);
    assert.deepEqual(await login('198.51.100.1'), { ok: false, reason: 'address-not-allowed' });
    assert.deepEqual(await login('2001:db9::1'), { ok: false, reason: 'address-not-allowed' });
    // A wrong password from elsewhere is just bad credentials.
    assert.deepEqual(await login('198.51.100.1', 'wrong'), { ok: false, reason: 'bad-credentials' });
  });

  test('lockout: after maxFailures, even the right password is locked-out', async () => {
    const { authenticator, captured } = await makeAuthenticator({
      source: { kind: 'file', path: await usersFile([ACME()]) },
      maxFailures: 2,
    });
    const login = (password: string, clientAddress = '192.0.2.50') => authenticator.login({ username: 'acme', password, clientAddress });
    assert.equal((await login('x')).ok, false);
    assert.equal((await login('y')).ok, false);
    const started = performance.now();
    assert.deepEqual(await login(PASSWORDS.acme), { ok: false, reason: 'locked-out' });
    assert.ok(performance.now() - started >= DELAY_MS - 5, 'locked-out answers also wait');
    assert.equal((await login(PASSWORDS.acme, '192.0.2.51')).ok, true, 'other addresses are fine');
    assert.ok(captured.lines.some((entry) => entry['level'] === 40 && entry['clientAddress'] === '192.0.2.50'));
  });

  test('reloads a users file changed on disk; an invalid file keeps the previous users', async () => {
    const path = await usersFile([ACME()]);
    const { authenticator, captured } = await makeAuthenticator({ source: { kind: 'file', path } });
    const login = (username: keyof typeof PASSWORDS) =>
      authenticator.login({ username, password: PASSWORDS[username], clientAddress: '192.0.2.9' });
    assert.equal((await login('gamma')).ok, false);

    // gamma added, acme removed.
    await writeFile(path, usersJson([{ username: 'gamma', passwordHash: hashes.gamma, home: 'g' }]));
    await waitUntil('the reload', () => captured.lines.some((entry) => entry['msg'] === 'users reloaded'), { intervalMs: 10 });
    assert.equal((await login('gamma')).ok, true);
    assert.equal((await login('acme')).ok, false);
    const reloaded = captured.lines.find((entry) => entry['msg'] === 'users reloaded');
    assert.equal(reloaded?.['users'], 1);
    assert.equal(reloaded?.['added'], 1);
    assert.equal(reloaded?.['removed'], 1);

    // Broken: logged, gamma still logs in.
    await writeFile(path, usersJson([{ username: 'gamma', passwordHash: hashes.gamma, home: '../escape' }]));
    // writeFile is not atomic: a poll may first see the file half written (not valid JSON yet).
    const homeProblem = (entry: Record<string, unknown>): boolean => entry['level'] === 50 && /users\[0\] "gamma"\.home/.test(String(entry['problem']));
    await waitUntil('the error', () => captured.lines.some(homeProblem), { intervalMs: 10 });
    const error = captured.lines.find(homeProblem);
    assert.equal(error?.['msg'], 'users document is invalid; keeping the previous users');
    assert.equal(authenticator.userCount, 1);
    assert.equal((await login('gamma')).ok, true);

    // Fixed again.
    await writeFile(path, usersJson([ACME(), { username: 'gamma', passwordHash: hashes.gamma, home: 'g' }]));
    await waitUntil('the second reload', () => authenticator.userCount === 2, { intervalMs: 10 });
    assert.equal((await login('acme')).ok, true);

    // Nothing secret in the logs.
    const logs = captured.text();
    for (const secret of [...Object.values(PASSWORDS), ...Object.values(hashes).map((hash) => hash.split('$')[4] ?? '')]) {
      assert.ok(!logs.includes(secret), 'a password or hash leaked into the logs');
    }
  });

  test('an invalid users file at startup is a UsersDocumentError naming the file and the entry', async () => {
    const path = await usersFile([{ ...ACME(), permissions: ['read', 'admin'] }]);
    await assert.rejects(makeAuthenticator({ source: { kind: 'file', path } }), (error: unknown) => {
      assert.ok(error instanceof UsersDocumentError);
      assert.equal(error.message, `file ${path}: users[0] "acme".permissions[1]: "admin" is not one of list, read, write, delete, mkdir, rename`);
      return true;
    });
  });

  test('a missing users file at startup is a UsersDocumentError naming the file', async () => {
    const path = join(dir, 'missing.json');
    await assert.rejects(makeAuthenticator({ source: { kind: 'file', path } }), (error: unknown) => {
      assert.ok(error instanceof UsersDocumentError);
      assert.match(error.message, /^cannot read the file .*missing\.json: ENOENT/);
      return true;
    });
  });

  test('users from a Secrets Manager secret; a bad secret is a UsersDocumentError naming it', async () => {
    const secrets = await startFakeSecretsManager();
    try {
      secrets.putSecret('ftp/users', { string: usersJson([ACME()]) });
      const { authenticator } = await makeAuthenticator({ source: { kind: 'secret', secretId: 'ftp/users' }, secretsClient: secrets.client });
      assert.equal((await authenticator.login({ username: 'acme', password: PASSWORDS.acme, clientAddress: '192.0.2.1' })).ok, true);
      secrets.putSecret('ftp/users', { string: usersJson([ACME(), BETA()]) });
      await waitUntil('the new secret version', () => authenticator.userCount === 2, { intervalMs: 10 });

      secrets.putSecret('ftp/bad', { string: 'not json' });
      await assert.rejects(
        makeAuthenticator({ source: { kind: 'secret', secretId: 'ftp/bad' }, secretsClient: secrets.client }),
        (error: unknown) => error instanceof UsersDocumentError && error.message === 'secret ftp/bad: not valid JSON',
      );
      await assert.rejects(
        makeAuthenticator({ source: { kind: 'secret', secretId: 'ftp/none' }, secretsClient: secrets.client }),
        (error: unknown) => error instanceof UsersDocumentError && error.message.startsWith('cannot read the secret ftp/none'),
      );
    } finally {
      for (const document of documents.splice(0)) document.close();
      await secrets.stop();
    }
  });

  test('concurrent failures each wait at most the delay, counted from their own start', async () => {
    const { authenticator, sleeps } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([ACME()]) } });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => authenticator.login({ username: 'acme', password: `wrong-${i}`, clientAddress: `192.0.2.${100 + i}` })),
    );
    assert.ok(results.every((result) => !result.ok));
    // Hashing time counts towards the delay; slow hashing under load means shorter (or no) sleeps.
    assert.ok(sleeps.every((ms) => ms > 0 && ms <= DELAY_MS), sleeps.join(', '));
  });

  const bursts = [
    // Attempts from one address are checked one after another: each finds the first one's entry.
    { from: 'one address', clientAddress: () => '192.0.2.1' },
    // All of them miss the cache when they arrive; those queued for a verification slot must look again.
    { from: 'many addresses at once', clientAddress: (i: number) => `192.0.2.${100 + i}` },
  ];
  for (const { from, clientAddress } of bursts) {
    test(`a verified password is remembered: a burst of logins with the same password from ${from} costs one scrypt`, async () => {
      const { authenticator } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([ACME(), { ...BETA(), allowFrom: undefined }]) } });
      const scrypts = countScrypts();
      const burst = await Promise.all(
        Array.from({ length: 20 }, (_, i) => authenticator.login({ username: 'acme', password: PASSWORDS.acme, clientAddress: clientAddress(i) })),
      );
      scrypts.stop();
      assert.ok(burst.every((result) => result.ok));
      assert.equal(scrypts.count(), 1, 'one scrypt for 20 logins with the same password');
      // Remembered: the next login runs none.
      const again = countScrypts();
      assert.ok((await authenticator.login({ username: 'acme', password: PASSWORDS.acme, clientAddress: clientAddress(20) })).ok);
      again.stop();
      assert.equal(again.count(), 0);
    });
  }

  test('a remembered password stops working as soon as the users file changes it', async () => {
    const path = await usersFile([ACME()]);
    const { authenticator, captured } = await makeAuthenticator({ source: { kind: 'file', path } });
    const login = (password: string) => authenticator.login({ username: 'acme', password, clientAddress: '192.0.2.1' });
    assert.ok((await login(PASSWORDS.acme)).ok);
    await writeFile(path, usersJson([{ ...ACME(), passwordHash: hashes.gamma }]));
    await waitUntil('the reload', () => captured.text().includes('users reloaded'), { intervalMs: 10 });
    assert.deepEqual(await login(PASSWORDS.acme), { ok: false, reason: 'bad-credentials' });
    assert.ok((await login(PASSWORDS.gamma)).ok);
  });

  test('a login whose client left before its check began is dropped: no scrypt, no count towards the lockout', async () => {
    const { authenticator } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([ACME()]) }, maxFailures: 2, failureDelayMs: 0 });
    const gone = new AbortController();
    const pending = Array.from({ length: 6 }, (_, i) =>
      authenticator.login({ username: 'acme', password: `wrong-${i}`, clientAddress: '192.0.2.7', signal: gone.signal }),
    );
    gone.abort();
    const results = await Promise.all(pending);
    // The first may have started before the abort; the rest never ran.
    assert.ok(results.filter((result) => !result.ok && result.reason === 'cancelled').length >= 5, JSON.stringify(results));
    const after = await authenticator.login({ username: 'acme', password: PASSWORDS.acme, clientAddress: '192.0.2.7' });
    assert.ok(after.ok, 'not locked out by checks that never ran');
  });
});

describe('UserAuthenticator under a login spray', () => {
  // Each attempt from an address of its own: the guard's one-at-a-time per address does not help.
  const spray = (authenticator: UserAuthenticator, count: number, username: (i: number) => string) =>
    Array.from({ length: count }, (_, i) =>
      authenticator.login({ username: username(i), password: `guess-${i}`, clientAddress: `198.51.100.${1 + (i % 250)}` }),
    );

  test('made-up names run no scrypt: a partner logging in meanwhile waits for no one', async () => {
    const { authenticator } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([ACME(), { ...BETA(), allowFrom: undefined }]) }, failureDelayMs: 0 });
    const scrypts = countScrypts();
    const sprayed = spray(authenticator, 40, (i) => `made-up-${i}`);
    const partner = await authenticator.login({ username: 'acme', password: PASSWORDS.acme, clientAddress: '192.0.2.1' });
    assert.ok(partner.ok);
    assert.ok((await Promise.all(sprayed)).every((result) => !result.ok && result.reason === 'bad-credentials'));
    scrypts.stop();
    // The partner's own, and none for the 40 made-up names (the partner waited behind none).
    assert.equal(scrypts.count(), 1);
  });

  test('guesses at one real name from many addresses do not hold up another user: turns go round the names', async () => {
    const { authenticator } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([ACME(), { ...BETA(), allowFrom: undefined }]) }, failureDelayMs: 0 });
    const scrypts = countScrypts();
    const sprayed = spray(authenticator, 24, () => 'acme');
    const partner = await authenticator.login({ username: 'beta', password: `${PASSWORDS.beta}`, clientAddress: '192.0.2.2' });
    // Counted, not timed: the scrypts started by the time the partner is in.
    const startedBeforePartnerIn = scrypts.count();
    assert.ok(partner.ok);
    await Promise.all(sprayed);
    scrypts.stop();
    assert.equal(scrypts.count(), 25, 'every guess ran its scrypt');
    // Two of acme's running, at most one more turn of acme's, the partner's own, acme's in
    // the other slot while it runs (one, or two where the machine is loaded), and the one
    // the partner's freed slot starts before this test resumes: 7 at most, 8 with room. In
    // arrival order the partner's would have been the 25th.
    assert.ok(startedBeforePartnerIn <= 8, `${startedBeforePartnerIn} scrypts started before the partner was in`);
  });

  test('past the queue bound a login is refused at once as busy, known name or not, and not counted', async () => {
    const { authenticator } = await makeAuthenticator({
      source: { kind: 'file', path: await usersFile([ACME()]) },
      maxQueuedVerifications: 4,
      maxFailures: 1,
      // A failure delay far longer than any pause of a loaded machine, so "at once" is told from it.
      failureDelayMs: 3000,
    });
    const sprayed = spray(authenticator, 10, () => 'acme');
    const unknown = await timedLogin(authenticator, { username: 'nobody', password: 'x', clientAddress: '192.0.2.3' });
    const known = await timedLogin(authenticator, { username: 'acme', password: 'x', clientAddress: '192.0.2.4' });
    for (const attempt of [unknown, known]) {
      assert.deepEqual(attempt.result, { ok: false, reason: 'busy' });
      assert.ok(attempt.ms < 1500, `answered after ${attempt.ms.toFixed(0)} ms`);
    }
    const results = await Promise.all(sprayed);
    assert.equal(results.filter((result) => !result.ok && result.reason === 'busy').length, 10 - 2 - 4);
    // Busy is no guess: with a limit of one failure, the address is not locked.
    const after = await authenticator.login({ username: 'acme', password: PASSWORDS.acme, clientAddress: '192.0.2.4' });
    assert.ok(after.ok);
  });

  test('past the expected wait bound a login is refused at once as busy, however short the queue', async () => {
    const { authenticator } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([ACME()]) }, maxVerificationWaitMs: 1 });
    // Two find a free slot; any other would wait for one, half a scrypt at least.
    const results = await Promise.all(spray(authenticator, 6, () => 'acme'));
    assert.deepEqual(
      results.map((result) => !result.ok && result.reason),
      ['bad-credentials', 'bad-credentials', 'busy', 'busy', 'busy', 'busy'],
    );
  });

  test('the same attempt from many addresses at once costs one scrypt and takes one place in the queue', async () => {
    const { authenticator } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([ACME()]) }, maxQueuedVerifications: 2, failureDelayMs: 0 });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => authenticator.login({ username: 'acme', password: PASSWORDS.acme, clientAddress: `198.51.100.${1 + i}` })),
    );
    assert.ok(results.every((result) => result.ok), JSON.stringify(results.find((result) => !result.ok)));
  });

  test('a wrong password and an unknown name take the same time under a queue', async () => {
    const { authenticator } = await makeAuthenticator({ source: { kind: 'file', path: await usersFile([ACME(), { ...BETA(), allowFrom: undefined }]) }, failureDelayMs: 0 });
    const sprayed = spray(authenticator, 6, () => 'acme');
    // Neither name is the one flooded: each waits a turn of acme's, then its own verification (or as long).
    const [wrong, unknown] = await Promise.all([
      timedLogin(authenticator, { username: 'beta', password: 'nope', clientAddress: '192.0.2.5' }),
      timedLogin(authenticator, { username: 'nobody', password: 'nope', clientAddress: '192.0.2.6' }),
    ]);
    await Promise.all(sprayed);
    assert.deepEqual(wrong.result, unknown.result);
    // Without the imitation an unknown name would answer at once while the wrong password waits its
    // turn. The imitation is an estimate (scrypt slows down while two run at once): the same order.
    assert.ok(unknown.ms > wrong.ms / 3 && unknown.ms < wrong.ms * 3, `unknown ${unknown.ms.toFixed(0)} ms vs wrong ${wrong.ms.toFixed(0)} ms`);
  });
});

describe('UserAuthenticator: disabled and expiring accounts, limits', () => {
  test('disabled or expired: refused as such only with the right password; limits reach the User', async () => {
    const path = await usersFile([
      { ...ACME(), disabled: true },
      { ...BETA(), allowFrom: undefined, expiresAt: '2001-01-01T00:00:00Z' },
      { username: 'gamma', passwordHash: hashes.gamma, home: 'g', expiresAt: '2999-01-01T00:00:00Z', maxSessions: 3, quotaBytes: 10 },
    ]);
    const { authenticator } = await makeAuthenticator({ source: { kind: 'file', path }, failureDelayMs: 1 });
    const reason = async (username: keyof typeof PASSWORDS, password: string) => {
      const result = await authenticator.login({ username, password, clientAddress: '192.0.2.1' });
      return result.ok ? 'ok' : result.reason;
    };
    assert.equal(await reason('acme', PASSWORDS.acme), 'disabled');
    assert.equal(await reason('acme', 'wrong'), 'bad-credentials');
    assert.equal(await reason('beta', PASSWORDS.beta), 'expired');
    assert.equal(await reason('beta', 'wrong'), 'bad-credentials');
    const gamma = await authenticator.login({ username: 'gamma', password: PASSWORDS.gamma, clientAddress: '192.0.2.1' });
    assert.ok(gamma.ok);
    assert.deepEqual(gamma.user.limits, { maxSessions: 3, quotaBytes: 10 });
    authenticator.close();
  });

  test('one timer ends sessions at the expiry time: listeners called at it, review says expired', async () => {
    // Far enough ahead for the login's scrypt on a loaded machine; nothing else changes, so only the timer can call.
    const expiresAtMs = Date.now() + 5000;
    const path = await usersFile([{ ...ACME(), expiresAt: new Date(expiresAtMs).toISOString() }, BETA()]);
    const { authenticator, captured } = await makeAuthenticator({ source: { kind: 'file', path } });
    const login = await authenticator.login({ username: 'acme', password: PASSWORDS.acme, clientAddress: '192.0.2.1' });
    assert.ok(login.ok);
    const session = { user: login.user, clientAddress: '192.0.2.1' };
    assert.deepEqual(authenticator.review(session), { action: 'keep' });
    const called = await new Promise<number>((resolve) => authenticator.onUsersChanged(() => resolve(Date.now())));
    assert.ok(called >= expiresAtMs && called - expiresAtMs < 2000, `called ${called - expiresAtMs} ms after the expiry`);
    assert.deepEqual(authenticator.review(session), { action: 'end', reason: 'expired', when: 'now' });
    assert.ok(captured.lines.some((entry) => entry['event'] === 'users-expired'));
    authenticator.close();
  });

  test('a newer document version: unknown fields are logged and ignored, the users stay', async () => {
    const path = join(dir, 'users-newer.json');
    await writeFile(path, JSON.stringify({ version: 2, users: [{ ...ACME(), geoFence: ['EU'] }] }));
    const { authenticator, captured } = await makeAuthenticator({ source: { kind: 'file', path } });
    assert.equal(authenticator.userCount, 1);
    assert.ok(captured.lines.some((entry) => entry['event'] === 'users-field-ignored' && /geoFence/.test(String(entry['problem']))));
    authenticator.close();
  });
});

describe('UserAuthenticator: users from a DynamoDB table', () => {
  test('logins from the table; a change (disable) reaches the authenticator within the reload interval', async () => {
    const dynamo = await startDynalite();
    try {
      const table = new UsersTable({ client: dynamo.client, tableName: 'partners', createIfMissing: true });
      for (const entry of [ACME(), BETA()]) await table.change(entry.username, () => entry);
      const { authenticator, captured } = await makeAuthenticator({ source: { kind: 'table', tableName: 'partners' }, dynamoClient: dynamo.client });
      assert.equal(authenticator.userCount, 2);
      const login = await authenticator.login({ username: 'acme', password: PASSWORDS.acme, clientAddress: '192.0.2.1' });
      assert.ok(login.ok);
      assert.equal(login.user.home, 'partners/acme');
      let changed = 0;
      authenticator.onUsersChanged(() => changed++);
      await table.change('acme', () => ({ ...ACME(), disabled: true }));
      await waitUntil('the table change', () => changed > 0);
      assert.deepEqual(authenticator.review({ user: login.user, clientAddress: '192.0.2.1' }), { action: 'end', reason: 'disabled', when: 'now' });
      // An unchanged table is not a change: the scan's text is compared.
      const reloads = captured.lines.filter((entry) => entry['event'] === 'users-reloaded').length;
      await new Promise((resolve) => setTimeout(resolve, RELOAD_MS * 5));
      assert.equal(captured.lines.filter((entry) => entry['event'] === 'users-reloaded').length, reloads);
      authenticator.close();
    } finally {
      for (const document of documents.splice(0)) document.close();
      await dynamo.stop();
    }
  });
});

describe('UserAuthenticator review of open sessions after a reload', () => {
  test('removed, new password, allowFrom, home: end; permissions: update; nothing changed: keep', async () => {
    const path = await usersFile([ACME(), { ...BETA(), allowFrom: undefined }, { username: 'gamma', passwordHash: hashes.gamma, home: 'g' }]);
    const { authenticator, captured } = await makeAuthenticator({ source: { kind: 'file', path } });
    let changes = 0;
    authenticator.onUsersChanged(() => changes++);
    const login = async (username: keyof typeof PASSWORDS, clientAddress = '192.0.2.1') => {
      const result = await authenticator.login({ username, password: PASSWORDS[username], clientAddress });
      assert.ok(result.ok);
      return { user: result.user, clientAddress };
    };
    const acme = await login('acme');
    const beta = await login('beta');
    const gamma = await login('gamma');
    const reload = async (users: unknown[]) => {
      const before = captured.lines.filter((entry) => entry['event'] === 'users-reloaded').length;
      await writeFile(path, usersJson(users));
      await waitUntil('the reload', () => captured.lines.filter((entry) => entry['event'] === 'users-reloaded').length > before, { intervalMs: 10 });
    };

    // The same users in another order: no change for anyone, no review asked for.
    await reload([{ username: 'gamma', passwordHash: hashes.gamma, home: 'g' }, { ...BETA(), allowFrom: undefined }, ACME()]);
    assert.equal(changes, 0);
    for (const session of [acme, beta, gamma]) assert.deepEqual(authenticator.review(session), { action: 'keep' });

    await reload([
      { ...ACME(), permissions: ['list'] },
      { ...BETA(), allowFrom: ['203.0.113.0/24'] },
      { username: 'gamma', passwordHash: hashes.gamma, home: 'elsewhere' },
    ]);
    assert.equal(changes, 1);
    const update = authenticator.review(acme);
    assert.equal(update.action, 'update');
    assert.deepEqual(update.action === 'update' && [...update.user.permissions], ['list']);
    assert.deepEqual(authenticator.review(beta), { action: 'end', reason: 'address-not-allowed', when: 'now' });
    assert.deepEqual(authenticator.review({ ...beta, clientAddress: '203.0.113.5' }).action, 'update');
    assert.deepEqual(authenticator.review(gamma), { action: 'end', reason: 'home-changed', when: 'after-command' });

    await reload([{ ...ACME(), passwordHash: hashes.beta }]);
    assert.deepEqual(authenticator.review(acme), { action: 'end', reason: 'password-changed', when: 'now' });
    assert.deepEqual(authenticator.review(gamma), { action: 'end', reason: 'removed', when: 'now' });
  });
});

describe('at startup, an unusable users document is a configuration error naming its setting', () => {
  const BASE = { S3_BUCKET: 'bucket', S3_ENDPOINT: 'http://127.0.0.1:9', FTP_PASSIVE_PORTS: '40000-40009', HEALTH_PORT: '0' };

  test('FTP_USERS_FILE', async () => {
    const path = await usersFile([{ ...ACME(), permissions: ['read', 'admin'] }]);
    const config = loadConfig({ ...BASE, FTP_USERS_FILE: path });
    await assert.rejects(startBridge(config, { logger: captureLogger().logger }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.variable, 'FTP_USERS_FILE');
      assert.equal(error.message, `FTP_USERS_FILE: file ${path}: users[0] "acme".permissions[1]: "admin" is not one of list, read, write, delete, mkdir, rename`);
      return true;
    });
  });

  test('FTP_USERS_SECRET_ID', async () => {
    const secrets = await startFakeSecretsManager();
    try {
      secrets.putSecret('ftp/bad', { string: 'not json' });
      const config = loadConfig({ ...BASE, FTP_USERS_SECRET_ID: 'ftp/bad' });
      await assert.rejects(
        startBridge(config, { logger: captureLogger().logger, secretsClient: secrets.client }),
        (error: unknown) => error instanceof ConfigError && error.message === 'FTP_USERS_SECRET_ID: secret ftp/bad: not valid JSON',
      );
    } finally {
      await secrets.stop();
    }
  });
});
