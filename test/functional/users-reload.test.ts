import assert from 'node:assert/strict';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_USER, startTestBridge, type TestBridge, type TestUser } from '../support/bridge.ts';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';
import { waitUntil } from '../support/wait-until.ts';

/**
 * A users reload and the sessions already open: a removed user, a changed password
 * or an allowFrom that no longer admits the session ends it at once (421), an upload
 * in progress included, which is not committed; a moved home ends it once its
 * command is over; narrowed permissions apply to the next command.
 */
const REMOVED: TestUser = { username: 'removed', password: 'soon-gone', home: 'partners/removed/' };
const NARROWED: TestUser = { username: 'narrowed', password: 'fewer-rights', home: 'partners/narrowed/' };
const ROTATED: TestUser = { username: 'rotated', password: 'old-secret', home: 'partners/rotated/' };
const FENCED: TestUser = { username: 'fenced', password: 'from-here', home: 'partners/fenced/', allowFrom: ['127.0.0.0/8'] };
const MOVED: TestUser = { username: 'moved', password: 'new-home', home: 'partners/moved/' };
const ALL = [DEFAULT_USER, REMOVED, NARROWED, ROTATED, FENCED, MOVED];

async function exists(env: TestBridge, key: string): Promise<boolean> {
  try {
    await env.s3.client.send(new HeadObjectCommand({ Bucket: env.s3.bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound') return false;
    throw error;
  }
}

/** Logs in and starts a STOR whose data connection has sent `bytes` and stays open. */
async function uploading(env: TestBridge, user: TestUser, name: string, bytes = 64 * 1024): Promise<{ ftp: RawFtp; data: Socket }> {
  const ftp = await RawFtp.login(env.port, user.username, user.password);
  await ftp.command('TYPE I', 200);
  const data = await ftp.passive();
  await ftp.command(`STOR ${name}`, 150);
  data.write(Buffer.alloc(bytes, 7));
  data.on('error', () => undefined);
  return { ftp, data };
}

describe('a users reload and open sessions', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ users: ALL, env: { FTP_RELOAD_SECONDS: '0.2' } });
  });
  after(() => env.stop());

  test('a removed user: every session of theirs gets 421 at once, its upload in progress is not committed', async () => {
    const idle = await RawFtp.login(env.port, REMOVED.username, REMOVED.password);
    const upload = await uploading(env, REMOVED, 'half.bin');
    const bystander = await RawFtp.login(env.port, DEFAULT_USER.username, DEFAULT_USER.password);
    const started = performance.now();
    await env.writeUsers(ALL.filter((user) => user !== REMOVED));
    const idleEnd = await idle.read(5000);
    assert.equal(idleEnd.code, 421);
    assert.match(idleEnd.text, /removed/);
    const uploadEnd = await upload.ftp.read(5000);
    assert.equal(uploadEnd.code, 421, uploadEnd.lines.join(' | '));
    assert.ok(performance.now() - started < 3000);
    // What the client still sends reaches nobody: nothing is committed.
    await writeAll(upload.data, Buffer.alloc(1024, 8)).catch(() => undefined);
    await delay(500);
    assert.equal(await exists(env, 'partners/removed/half.bin'), false, 'the removed user\'s upload was committed');
    assert.ok(upload.ftp.ended && idle.ended);
    // Another user's session goes on.
    await bystander.command('NOOP', 200);
    await Promise.all([idle.close(), upload.ftp.close(), bystander.close()]);
    assert.ok(env.logs.some((line) => line.event === 'session-revoked' && line.user === 'removed' && line.reason === 'removed' && line.transfer === 'STOR'));
    await env.writeUsers(ALL);
  });

  test('narrowed permissions apply to the next command; an upload already running is kept', async () => {
    const upload = await uploading(env, NARROWED, 'kept.bin');
    await env.writeUsers(ALL.map((user) => (user === NARROWED ? { ...NARROWED, permissions: ['list', 'read'] } : user)));
    await waitUntil('session-user-updated for narrowed', () => env.logs.some((line) => line.event === 'session-user-updated' && line.user === 'narrowed'), { intervalMs: 50 });
    await writeAll(upload.data, Buffer.alloc(1024, 8));
    await upload.ftp.expect(226);
    assert.equal(await exists(env, 'partners/narrowed/kept.bin'), true);
    await upload.ftp.command('STOR refused.bin', 550);
    await upload.ftp.command('DELE kept.bin', 550);
    await upload.ftp.command('SIZE kept.bin', 213);
    await upload.ftp.close();
    await env.writeUsers(ALL);
  });

  test('a changed password ends the session at once', async () => {
    const ftp = await RawFtp.login(env.port, ROTATED.username, ROTATED.password);
    await env.writeUsers(ALL.map((user) => (user === ROTATED ? { ...ROTATED, password: 'new-secret' } : user)));
    const end = await ftp.read(5000);
    assert.equal(end.code, 421);
    assert.match(end.text, /password/);
    await ftp.close();
    await env.writeUsers(ALL);
  });

  test('an allowFrom that no longer admits the session\'s address ends it; one that still does keeps it', async () => {
    const ftp = await RawFtp.login(env.port, FENCED.username, FENCED.password);
    await env.writeUsers(ALL.map((user) => (user === FENCED ? { ...FENCED, allowFrom: ['127.0.0.0/8', '192.0.2.0/24'] } : user)));
    await waitUntil('session-user-updated for fenced', () => env.logs.some((line) => line.event === 'session-user-updated' && line.user === 'fenced'), { intervalMs: 50 });
    await ftp.command('NOOP', 200);
    await env.writeUsers(ALL.map((user) => (user === FENCED ? { ...FENCED, allowFrom: ['192.0.2.0/24'] } : user)));
    const end = await ftp.read(5000);
    assert.equal(end.code, 421);
    assert.match(end.text, /address/);
    await ftp.close();
    await env.writeUsers(ALL);
  });

  test('disabling a user ends its sessions at once; logins are refused, with the reason once the password is right; enabling lets it in again', async () => {
    const upload = await uploading(env, REMOVED, 'disabled.bin');
    await env.writeUsers(ALL.map((user) => (user === REMOVED ? { ...REMOVED, fields: { disabled: true } } : user)));
    const end = await upload.ftp.read(5000);
    assert.equal(end.code, 421);
    assert.match(end.text, /disabled/);
    await upload.ftp.close();
    const ftp = await RawFtp.connect(env.port);
    await ftp.expect(220);
    await ftp.command(`USER ${REMOVED.username}`, 331);
    assert.equal((await ftp.command(`PASS ${REMOVED.password}`, 530)).text, 'Login refused: this account is disabled.');
    await ftp.command(`USER ${REMOVED.username}`, 331);
    assert.equal((await ftp.command('PASS a-guess', 530)).text, 'Login incorrect.');
    await ftp.close();
    assert.equal(await exists(env, 'partners/removed/disabled.bin'), false);
    await writeUsersAndWait(env, ALL);
    const again = await RawFtp.login(env.port, REMOVED.username, REMOVED.password);
    await again.close();
  });

  test('an account ends at its expiresAt: open sessions get 421 within a moment of it, later logins 530', async () => {
    // Far enough ahead for the reload and two logins on a loaded machine.
    const expiresAtMs = Math.ceil((Date.now() + 5000) / 1000) * 1000;
    const expiring = { ...NARROWED, fields: { expiresAt: new Date(expiresAtMs).toISOString() } };
    await writeUsersAndWait(env, ALL.map((user) => (user === NARROWED ? expiring : user)));
    const ftp = await RawFtp.login(env.port, NARROWED.username, NARROWED.password);
    const bystander = await RawFtp.login(env.port, DEFAULT_USER.username, DEFAULT_USER.password);
    const end = await ftp.read(10_000);
    const lateMs = Date.now() - expiresAtMs;
    assert.equal(end.code, 421);
    assert.match(end.text, /expired/);
    assert.ok(lateMs >= 0 && lateMs < 3000, `ended ${lateMs} ms after the expiry time`);
    await ftp.close();
    await bystander.command('NOOP', 200);
    await bystander.close();
    const refused = await RawFtp.connect(env.port);
    await refused.expect(220);
    await refused.command(`USER ${NARROWED.username}`, 331);
    assert.equal((await refused.command(`PASS ${NARROWED.password}`, 530)).text, 'Login refused: this account has expired.');
    await refused.close();
    await env.writeUsers(ALL);
  });

  test('a moved home ends the session once its upload is over; the upload is kept', async () => {
    const upload = await uploading(env, MOVED, 'finished.bin');
    await env.writeUsers(ALL.map((user) => (user === MOVED ? { ...MOVED, home: 'partners/moved-elsewhere/' } : user)));
    await waitUntil('session-revoked for moved', () => env.logs.some((line) => line.event === 'session-revoked' && line.user === 'moved'), { intervalMs: 50 });
    await writeAll(upload.data, Buffer.alloc(1024, 8));
    await upload.ftp.expect(226);
    const end = await upload.ftp.read(5000);
    assert.equal(end.code, 421);
    assert.match(end.text, /home/);
    assert.equal(await exists(env, 'partners/moved/finished.bin'), true);
    await upload.ftp.close();
    await env.writeUsers(ALL);
  });
});

/** Writes the users and waits until the bridge has reloaded them. */
async function writeUsersAndWait(env: TestBridge, users: readonly TestUser[]): Promise<void> {
  const reloads = (): number => env.logs.filter((line) => line.event === 'users-reloaded').length;
  const before = reloads();
  await env.writeUsers(users);
  await waitUntil('the users reload', () => reloads() > before, { intervalMs: 50 });
}
