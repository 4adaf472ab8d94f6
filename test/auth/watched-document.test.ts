import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { WatchedDocument } from '../../runtime/src/sources/watched-document.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { startFakeSecretsManager, type FakeSecretsManager } from '../support/secrets-manager-server.ts';
import { waitUntil } from '../support/wait-until.ts';

const INTERVAL_MS = 20;
/** Long enough for several re-checks. */
const A_FEW_CHECKS_MS = INTERVAL_MS * 6;

const documents: WatchedDocument[] = [];
afterEach(() => {
  for (const document of documents.splice(0)) document.close();
});

function track(document: WatchedDocument): WatchedDocument {
  documents.push(document);
  return document;
}

describe('WatchedDocument: file', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-watched-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads, and reports changes only when the content changes', async () => {
    const path = join(dir, 'users.json');
    await writeFile(path, 'one');
    const document = track(new WatchedDocument({ source: { kind: 'file', path }, intervalMs: INTERVAL_MS, logger: pino({ level: 'silent' }) }));
    assert.equal(await document.read(), 'one');
    const seen: string[] = [];
    document.watch((text) => void seen.push(text));

    await sleep(A_FEW_CHECKS_MS);
    assert.deepEqual(seen, [], 'no change, no call');

    await writeFile(path, 'two, longer');
    await waitUntil('the first change', () => seen.length === 1, { intervalMs: 10 });
    assert.deepEqual(seen, ['two, longer']);

    // Same size, new content (mtime differs).
    await writeFile(path, 'six, longer');
    await waitUntil('a same-size change', () => seen.length === 2, { intervalMs: 10 });

    // Touched but unchanged: no call.
    const later = new Date(Date.now() + 5000);
    await utimes(path, later, later);
    await sleep(A_FEW_CHECKS_MS);
    assert.equal(seen.length, 2);

    // Replaced atomically by rename, as config management tools do.
    await writeFile(join(dir, 'users.json.tmp'), 'three');
    await rename(join(dir, 'users.json.tmp'), path);
    await waitUntil('the renamed-in file', () => seen.length === 3, { intervalMs: 10 });
    assert.deepEqual(seen, ['two, longer', 'six, longer', 'three']);
  });

  test('a vanished file is logged once, the last content stays, and a new file is picked up', async () => {
    const path = join(dir, 'vanishing.json');
    await writeFile(path, 'first');
    const captured = captureLogger();
    const document = track(new WatchedDocument({ source: { kind: 'file', path }, intervalMs: INTERVAL_MS, logger: captured.logger }));
    await document.read();
    const seen: string[] = [];
    document.watch((text) => void seen.push(text));

    await unlink(path);
    await waitUntil('the failed re-check logged', () => captured.lines.some((entry) => entry['level'] === 50), { intervalMs: 10 });
    await sleep(A_FEW_CHECKS_MS);
    const errors = captured.lines.filter((entry) => entry['level'] === 50);
    assert.equal(errors.length, 1, 'one error, not one per check');
    assert.equal(errors[0]?.['msg'], 'document re-check failed; keeping the last good content');
    assert.deepEqual(errors[0]?.['document'], { file: path });
    assert.match(String((errors[0]?.['err'] as { message: string }).message), /ENOENT/);
    assert.deepEqual(seen, []);

    await writeFile(path, 'second');
    await waitUntil('the recreated file', () => seen.length === 1, { intervalMs: 10 });
    assert.deepEqual(seen, ['second']);
    assert.ok(captured.lines.some((entry) => entry['msg'] === 'document readable again'));
  });

  test('a failing onChange is logged and not retried for the same content', async () => {
    const path = join(dir, 'handler.json');
    await writeFile(path, 'a');
    const captured = captureLogger();
    const document = track(new WatchedDocument({ source: { kind: 'file', path }, intervalMs: INTERVAL_MS, logger: captured.logger }));
    await document.read();
    let calls = 0;
    document.watch(async () => {
      calls++;
      throw new Error('handler refused');
    });
    await writeFile(path, 'b');
    await waitUntil('the handler', () => calls === 1, { intervalMs: 10 });
    await sleep(A_FEW_CHECKS_MS);
    assert.equal(calls, 1);
    assert.ok(captured.lines.some((entry) => entry['msg'] === 'handling the changed document failed'));
  });

  test('read() of a missing file or a directory rejects', async () => {
    const logger = pino({ level: 'silent' });
    await assert.rejects(
      track(new WatchedDocument({ source: { kind: 'file', path: join(dir, 'nope') }, intervalMs: 1000, logger })).read(),
      /ENOENT/,
    );
    await assert.rejects(
      track(new WatchedDocument({ source: { kind: 'file', path: dir }, intervalMs: 1000, logger })).read(),
      /not a regular file/,
    );
  });

  test('close() stops the checks', async () => {
    const path = join(dir, 'closed.json');
    await writeFile(path, 'x');
    const document = new WatchedDocument({ source: { kind: 'file', path }, intervalMs: INTERVAL_MS, logger: pino({ level: 'silent' }) });
    await document.read();
    const seen: string[] = [];
    document.watch((text) => void seen.push(text));
    document.close();
    await writeFile(path, 'y');
    await sleep(A_FEW_CHECKS_MS);
    assert.deepEqual(seen, []);
    assert.throws(() => document.watch(() => undefined), /closed/);
  });

  test('one watcher only; a secret source needs a client', () => {
    const logger = pino({ level: 'silent' });
    const document = track(new WatchedDocument({ source: { kind: 'file', path: join(dir, 'x') }, intervalMs: 1000, logger }));
    document.watch(() => undefined);
    assert.throws(() => document.watch(() => undefined), /already watched/);
    assert.throws(() => new WatchedDocument({ source: { kind: 'secret', secretId: 's' }, intervalMs: 1000, logger }), /secretsClient/);
    assert.throws(() => new WatchedDocument({ source: { kind: 'file', path: 'x' }, intervalMs: 0, logger }), /intervalMs/);
  });
});

describe('WatchedDocument: Secrets Manager secret', () => {
  let secrets: FakeSecretsManager;
  before(async () => {
    secrets = await startFakeSecretsManager();
  });
  after(async () => {
    await secrets.stop();
  });

  function watchedSecret(secretId: string, logger = pino({ level: 'silent' })): WatchedDocument {
    return track(
      new WatchedDocument({ source: { kind: 'secret', secretId }, intervalMs: INTERVAL_MS, secretsClient: secrets.client, logger }),
    );
  }

  test('reads the secret string and follows new versions', async () => {
    secrets.putSecret('ftp/users', { string: '{"users":[]}' });
    const document = watchedSecret('ftp/users');
    assert.equal(await document.read(), '{"users":[]}');
    const seen: string[] = [];
    document.watch((text) => void seen.push(text));

    const before = secrets.requests;
    await waitUntil('it keeps checking', () => secrets.requests > before, { intervalMs: 10 });
    assert.deepEqual(seen, []);

    secrets.putSecret('ftp/users', { string: '{"users":[1]}' });
    await waitUntil('the new version', () => seen.length === 1, { intervalMs: 10 });
    assert.deepEqual(seen, ['{"users":[1]}']);

    // A new version with the same content is not a change.
    secrets.putSecret('ftp/users', { string: '{"users":[1]}' });
    await sleep(A_FEW_CHECKS_MS);
    assert.equal(seen.length, 1);
  });

  test('binary secrets are read as UTF-8', async () => {
    secrets.putSecret('ftp/binary', { binary: Buffer.from('héllo', 'utf8') });
    assert.equal(await watchedSecret('ftp/binary').read(), 'héllo');
  });

  test('a missing secret rejects read()', async () => {
    await assert.rejects(watchedSecret('ftp/missing').read(), /can't find the specified secret/);
  });

  test('API failures are logged once, the last content stays, recovery is picked up', async () => {
    secrets.putSecret('ftp/flaky', { string: 'v1' });
    const captured = captureLogger();
    const document = watchedSecret('ftp/flaky', captured.logger);
    await document.read();
    const seen: string[] = [];
    document.watch((text) => void seen.push(text));

    secrets.failing = true;
    try {
      const failedBefore = secrets.requests;
      await waitUntil('failing checks', () => secrets.requests >= failedBefore + 3, { intervalMs: 10 });
      assert.equal(captured.lines.filter((entry) => entry['level'] === 50).length, 1);
      assert.deepEqual(seen, []);
      secrets.putSecret('ftp/flaky', { string: 'v2' });
    } finally {
      secrets.failing = false;
    }
    await waitUntil('v2 after recovery', () => seen.length === 1, { intervalMs: 10 });
    assert.deepEqual(seen, ['v2']);
    assert.ok(captured.lines.some((entry) => entry['msg'] === 'document readable again'));
  });

  test('close() stops the requests', async () => {
    secrets.putSecret('ftp/close', { string: 'x' });
    const document = watchedSecret('ftp/close');
    await document.read();
    document.watch(() => undefined);
    await sleep(A_FEW_CHECKS_MS);
    document.close();
    const atClose = secrets.requests;
    // A request in flight at close() may still land, however late a loaded machine makes it:
    // wait until the count stands still, then allow that one.
    let stopped = secrets.requests;
    for (let still = 0, round = 0; still < 3 && round < 20; round++) {
      await sleep(A_FEW_CHECKS_MS);
      still = secrets.requests === stopped ? still + 1 : 0;
      stopped = secrets.requests;
    }
    // Still checking would be one request per interval: dozens by now.
    assert.ok(stopped <= atClose + 1, `${stopped - atClose} requests after close()`);
  });
});
