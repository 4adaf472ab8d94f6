import assert from 'node:assert/strict';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';
import { AttackWatch, startAbuseBridge, type AbuseBridge } from '../support/abuse-bridge.ts';
import { recordCase, round } from '../support/abuse-figures.ts';

/**
 * Round 2, row 10: a user removed from the users document while logged in. After
 * `users-reloaded` the session used to go on with STOR, RETR and DELE. Now each of
 * the user's sessions gets 421 at the reload and an upload in progress is not stored.
 * FTP_RELOAD_SECONDS is 1 here (10 in production): the figure that matters is the
 * time from `users-reloaded` to the 421.
 */
describe('r2-10: a removed user\'s open sessions', () => {
  let bridge: AbuseBridge;
  before(async () => {
    bridge = await startAbuseBridge({
      users: [{ username: 'leaver', password: 'on-notice' }],
      env: { FTP_RELOAD_SECONDS: '1' },
    });
  });
  after(() => bridge.stop());

  test('an idle session and one mid-upload both get 421 at the reload; nothing is stored', async () => {
    const watch = await AttackWatch.start(bridge.child);
    const port = bridge.child.port;
    const idle = await RawFtp.login(port, 'leaver', 'on-notice', { localAddress: '127.40.0.1' });
    const uploader = await RawFtp.login(port, 'leaver', 'on-notice', { localAddress: '127.40.0.2' });
    await uploader.command('TYPE I', 200);
    const data = await uploader.passive();
    data.on('error', () => undefined);
    await uploader.command('STOR half.bin', 150);
    data.write(Buffer.alloc(256 * 1024, 1));

    const document = JSON.parse(await readFile(bridge.child.usersFile, 'utf8')) as { users: Array<{ username: string }> };
    const written = Date.now();
    await writeFile(bridge.child.usersFile, JSON.stringify({ users: document.users.filter((user) => user.username !== 'leaver') }));
    const ended = await Promise.all(
      [idle, uploader].map(async (ftp) => {
        const reply = await ftp.read(30_000);
        return { code: reply.code, text: reply.text, at: Date.now() };
      }),
    );
    // The client goes on sending; nothing of it may be stored.
    await writeAll(data, Buffer.alloc(64 * 1024, 2)).catch(() => undefined);
    await delay(1000);
    let stored = true;
    try {
      await bridge.s3.client.send(new HeadObjectCommand({ Bucket: bridge.s3.bucket, Key: 'leaver/half.bin' }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'NotFound') throw error;
      stored = false;
    }
    const stillOpen = [idle, uploader].filter((ftp) => !ftp.ended).length;
    await Promise.all([idle.close(), uploader.close()]);
    const phase = await watch.end();
    const reloadedAt = Date.parse(String(bridge.child.logs().find((line) => line['event'] === 'users-reloaded')?.['time']));
    const fromReload = Math.max(...ended.map((end) => end.at - reloadedAt));
    await recordCase({
      case: 'r2-10',
      title: 'a user removed while logged in (idle and mid-upload)',
      connections: { accepted: 2 },
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: {
        'reload to 421 ms': round(fromReload),
        'file write to 421 s': round((Math.max(...ended.map((end) => end.at)) - written) / 1000),
        'sessions left open': stillOpen,
        'partial upload stored': stored ? 'yes' : 'no',
      },
    });
    for (const end of ended) {
      assert.equal(end.code, 421);
      assert.match(end.text, /removed/);
    }
    // At the reload, not at an idle timeout or the upload's end; the room is for a loaded machine.
    assert.ok(fromReload < 3000, `421 came ${fromReload} ms after the reload`);
    assert.equal(stillOpen, 0);
    assert.equal(stored, false, 'the removed user\'s upload was stored');
  });
});
