import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LoginGuard, SYSTEM_CLOCK, type Clock } from '../../runtime/src/auth/login-guard.ts';
import { hashPassword } from '../../runtime/src/auth/password-hash.ts';
import { UserAuthenticator, UsersDocumentError } from '../../runtime/src/auth/user-authenticator.ts';
import type { LoginRequest } from '../../runtime/src/auth/user.ts';
import { ConfigError, loadConfig } from '../../runtime/src/config.ts';
import { startBridge } from '../../runtime/src/main.ts';
import { WatchedDocument, type DocumentSource } from '../../runtime/src/sources/watched-document.ts';
import { captureLogger, type CapturedLogger } from './support/capture-logger.ts';
import { startFakeSecretsManager } from '../helpers/secrets-manager-server.ts';
import { waitFor } from './support/wait-for.ts';

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
}) {
  const captured = options.captured ?? captureLogger();
  const document = new WatchedDocument({
    source: options.source,
    intervalMs: RELOAD_MS,
    logger: captured.logger,
    ...(options.secretsClient === undefined ? {} : { secretsClient: options.secretsClient }),
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
  const authenticator = await UserAuthenticator.create({ document, guard, logger: captured.logger });
  return { authenticator, captured, sleeps };
}

async function timedLogin(authenticator: UserAuthenticator, request: LoginRequest) {
  const started = performance.now();
  const result = await authenticator.login(request);
  return { result, ms: performance.now() - started };
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
    assert.ok(captured.entries.some((entry) => entry['level'] === 40 && entry['clientAddress'] === '192.0.2.50'));
  });

  test('reloads a users file changed on disk; an invalid file keeps the previous users', async () => {
    const path = await usersFile([ACME()]);
    const { authenticator, captured } = await makeAuthenticator({ source: { kind: 'file', path } });
    const login = (username: keyof typeof PASSWORDS) =>
      authenticator.login({ username, password: PASSWORDS[username], clientAddress: '192.0.2.9' });
    assert.equal((await login('gamma')).ok, false);

    // gamma added, acme removed.
    await writeFile(path, usersJson([{ username: 'gamma', passwordHash: hashes.gamma, home: 'g' }]));
    await waitFor(() => captured.entries.some((entry) => entry['msg'] === 'users reloaded'), { what: 'the reload' });
    assert.equal((await login('gamma')).ok, true);
    assert.equal((await login('acme')).ok, false);
    const reloaded = captured.entries.find((entry) => entry['msg'] === 'users reloaded');
    assert.equal(reloaded?.['users'], 1);
    assert.equal(reloaded?.['added'], 1);
    assert.equal(reloaded?.['removed'], 1);

    // Broken: logged, gamma still logs in.
    await writeFile(path, usersJson([{ username: 'gamma', passwordHash: hashes.gamma, home: '../escape' }]));
    // writeFile is not atomic: a poll may first see the file half written (not valid JSON yet).
    const homeProblem = (entry: Record<string, unknown>): boolean => entry['level'] === 50 && /users\[0\] "gamma"\.home/.test(String(entry['problem']));
    await waitFor(() => captured.entries.some(homeProblem), { what: 'the error' });
    const error = captured.entries.find(homeProblem);
    assert.equal(error?.['msg'], 'users document is invalid; keeping the previous users');
    assert.equal(authenticator.userCount, 1);
    assert.equal((await login('gamma')).ok, true);

    // Fixed again.
    await writeFile(path, usersJson([ACME(), { username: 'gamma', passwordHash: hashes.gamma, home: 'g' }]));
    await waitFor(() => authenticator.userCount === 2, { what: 'the second reload' });
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
      await waitFor(() => authenticator.userCount === 2, { what: 'the new secret version' });

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
      // One uncached verification, to know what scrypt costs on this machine now.
      const single = await timedLogin(authenticator, { username: 'beta', password: PASSWORDS.beta, clientAddress: '192.0.2.9' });
      assert.ok(single.result.ok);
      const started = performance.now();
      const burst = await Promise.all(
        Array.from({ length: 20 }, (_, i) => authenticator.login({ username: 'acme', password: PASSWORDS.acme, clientAddress: clientAddress(i) })),
      );
      const burstMs = performance.now() - started;
      assert.ok(burst.every((result) => result.ok));
      // 20 scrypts, two at a time at best, would take at least 10 times as long as one.
      assert.ok(burstMs < single.ms * 6, `20 logins took ${burstMs.toFixed(0)} ms, one scrypt ${single.ms.toFixed(0)} ms`);
    });
  }

  test('a remembered password stops working as soon as the users file changes it', async () => {
    const path = await usersFile([ACME()]);
    const { authenticator, captured } = await makeAuthenticator({ source: { kind: 'file', path } });
    const login = (password: string) => authenticator.login({ username: 'acme', password, clientAddress: '192.0.2.1' });
    assert.ok((await login(PASSWORDS.acme)).ok);
    await writeFile(path, usersJson([{ ...ACME(), passwordHash: hashes.gamma }]));
    await waitFor(() => captured.text().includes('users reloaded'), { what: 'the reload' });
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
