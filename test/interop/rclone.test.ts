import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertS3Object,
  assertSameTree,
  bytes,
  ClientRunError,
  ClientSuite,
  MODES,
  readTree,
  run,
  s3Get,
  s3List,
  s3Put,
  sampleTree,
  USER,
  writeTree,
  type CaseContext,
  type RunResult,
} from '../support/interop-harness.ts';

/**
 * rclone's FTP backend, configured only through RCLONE_* environment variables and
 * the on-the-fly remote `:ftp:` (RCLONE_CONFIG points at an empty file in the case's
 * scratch folder, so the user's config is never read). Modes: plain, `explicit_tls`,
 * `tls` (implicit), both with `no_check_certificate`.
 */
const suite = new ClientSuite({
  probe: { name: 'rclone', executable: 'rclone', versionArgs: ['--version'], debianPackage: 'rclone' },
  passivePorts: 20,
});

let obscured: string | undefined;
function obscuredPassword(): string {
  if (obscured) return obscured;
  const result = spawnSync('rclone', ['obscure', USER.password], { encoding: 'utf8', timeout: 15_000 });
  if (result.status !== 0) throw new Error(`rclone obscure failed: ${result.stderr}`);
  return (obscured = result.stdout.trim());
}

async function rclone(context: CaseContext, args: readonly string[], options: { ok?: boolean } = {}): Promise<RunResult> {
  const { env, mode } = context;
  const config = join(context.work, 'rclone.conf');
  await writeFile(config, '');
  const vars: Record<string, string> = {
    RCLONE_CONFIG: config,
    RCLONE_FTP_HOST: '127.0.0.1',
    RCLONE_FTP_PORT: String(mode === 'implicit TLS' ? env.implicitPort : env.port),
    RCLONE_FTP_USER: USER.username,
    RCLONE_FTP_PASS: obscuredPassword(),
    RCLONE_FTP_EXPLICIT_TLS: String(mode === 'explicit TLS'),
    RCLONE_FTP_TLS: String(mode === 'implicit TLS'),
    RCLONE_FTP_NO_CHECK_CERTIFICATE: 'true',
    // rclone before 1.64 shares one TLS session cache among all its connections, so a
    // data connection may resume another control connection's session, which the
    // bridge refuses (FTP_TLS_SESSION_REUSE=required, as FileZilla Server does). One
    // connection at a time keeps the sessions apart (docs/clients.md, "TLS session reuse").
    ...(mode === 'plain' ? {} : { RCLONE_FTP_CONCURRENCY: '1' }),
  };
  const full = [
    ...args,
    '-vv',
    '--dump', 'headers',
    '--contimeout', '10s',
    '--timeout', '30s',
    '--retries', '1',
    '--low-level-retries', '2',
    '--transfers', '4',
    '--checkers', '4',
  ];
  const result = await run('rclone', full, { env: vars, timeoutMs: 180_000, cwd: context.work });
  if ((options.ok ?? true) && (result.timedOut || result.code !== 0)) {
    throw new ClientRunError(`rclone failed (env ${JSON.stringify({ ...vars, RCLONE_FTP_PASS: '(obscured)' })})`, result);
  }
  return result;
}

function remote(path: string): string {
  return `:ftp:${path}`;
}

function assertTls(context: CaseContext, result: RunResult): void {
  if (context.mode === 'explicit TLS') assert.match(result.stderr, /AUTH TLS/, 'rclone explicit_tls should send AUTH TLS');
  if (context.mode !== 'plain') assert.match(result.stderr, /PROT P/, 'rclone should protect data connections (PROT P)');
}

async function assertFilesInS3(context: CaseContext, folder: string, tree: ReadonlyMap<string, Buffer>): Promise<void> {
  const keys = await s3List(context.env, folder);
  const files = new Map([...keys].filter(([key]) => key !== '' && !key.endsWith('/')));
  assert.deepEqual([...files.keys()].sort(), [...tree.keys()].sort(), 'S3 keys should match the local tree');
  for (const [path, content] of tree) await assertS3Object(context.env, `${folder}/${path}`, content);
}

for (const mode of MODES) {
  suite.case('copy (up and back)', mode, async (context) => {
    const tree = sampleTree(60);
    const local = join(context.work, 'source');
    await writeTree(local, tree);
    const up = await rclone(context, ['copy', local, remote(context.remote)]);
    assertTls(context, up);
    await assertFilesInS3(context, context.remote, tree);
    const back = join(context.work, 'back');
    await rclone(context, ['copy', remote(context.remote), back]);
    assertSameTree(await readTree(back), tree, 'rclone copy back');
  });

  suite.case('lsl', mode, async (context) => {
    const tree = new Map([
      ['a.bin', bytes(12_345, 21)],
      ['folder one/b ünï.txt', Buffer.from('bee\n')],
      ['folder one/deeper/c.txt', Buffer.alloc(0)],
    ]);
    const local = join(context.work, 'source');
    await writeTree(local, tree);
    await rclone(context, ['copy', local, remote(context.remote)]);
    const result = await rclone(context, ['lsl', remote(context.remote)]);
    assertTls(context, result);
    const entries = new Map<string, number>();
    for (const line of result.stdout.split('\n').filter(Boolean)) {
      const match = /^\s*(\d+) (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+) (.+)$/.exec(line);
      assert.ok(match, `lsl line not understood: ${line}`);
      entries.set(match[3]!, Number(match[1]));
      const when = Date.parse(`${match[2]!.slice(0, 19).replace(' ', 'T')}`);
      assert.ok(Math.abs(when - Date.now()) < 24 * 3600_000, `lsl modification time should be recent (today): ${line}`);
    }
    assert.deepEqual(
      [...entries].sort(),
      [...tree].map(([path, content]) => [path, content.length] as [string, number]).sort(),
      `rclone lsl should list every file with its size:\n${result.stdout}`,
    );
  });

  suite.case('sync', mode, async (context) => {
    const tree = sampleTree(40);
    const local = join(context.work, 'source');
    await writeTree(local, tree);
    await rclone(context, ['sync', local, remote(context.remote)]);
    await assertFilesInS3(context, context.remote, tree);
    // Change the source: one file removed, one rewritten, one added (the times rclone
    // keeps with MFMT are checked in the case below).
    const [removed, changed] = [...tree.keys()].filter((path) => path.includes('/'));
    await rm(join(local, removed!));
    tree.delete(removed!);
    tree.set(changed!, Buffer.from(`rewritten with another length ${'y'.repeat(100 + tree.get(changed!)!.length)}\n`));
    tree.set('added/new file ü.txt', Buffer.from('new\n'));
    await writeTree(local, new Map([[changed!, tree.get(changed!)!], ['added/new file ü.txt', tree.get('added/new file ü.txt')!]]));
    const result = await rclone(context, ['sync', local, remote(context.remote)]);
    assertTls(context, result);
    await assertFilesInS3(context, context.remote, tree);
    assert.equal(await s3Get(context.env, `${context.remote}/${removed}`), undefined, 'sync should delete the removed file');
  });

  suite.case('sync keeps modification times (MFMT): a second sync transfers nothing', mode, async (context) => {
    const tree = sampleTree(30);
    const local = join(context.work, 'source');
    await writeTree(local, tree);
    // Times far from now, so a time rclone did not set would show.
    const when = new Date('2021-05-06T07:08:09Z');
    for (const path of tree.keys()) await utimes(join(local, path), when, when);
    const first = await rclone(context, ['sync', local, remote(context.remote)]);
    assertTls(context, first);
    assert.match(first.stderr, /MFMT 20210506070809 /, 'rclone sets each time with MFMT');
    await assertFilesInS3(context, context.remote, tree);
    const listed = await rclone(context, ['lsl', remote(context.remote)]);
    const lines = listed.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, tree.size);
    for (const line of lines) assert.match(line, / 2021-05-06 07:08:09\.0+ /, `the time rclone set is the one listed: ${line}`);
    const second = await rclone(context, ['sync', local, remote(context.remote)]);
    assert.doesNotMatch(second.stderr, /Copied \(|STOR /, 'nothing is sent again');
    assert.match(second.stderr, /There was nothing to transfer|Transferred:\s+0 \/ 0/);
    // Same size, new bytes and a new time: only the time tells rclone, and it does.
    const [changed] = [...tree.keys()];
    const replacement = Buffer.from(tree.get(changed!)!.map((byte) => byte ^ 0x20));
    await writeFile(join(local, changed!), replacement);
    tree.set(changed!, replacement);
    const third = await rclone(context, ['sync', local, remote(context.remote)]);
    assert.equal((third.stderr.match(/Copied \(replaced existing\)/g) ?? []).length, 1, 'exactly the changed file is sent');
    await assertFilesInS3(context, context.remote, tree);
  });

  suite.case('check --download', mode, async (context) => {
    const tree = sampleTree(30);
    const local = join(context.work, 'source');
    await writeTree(local, tree);
    await rclone(context, ['copy', local, remote(context.remote)]);
    const same = await rclone(context, ['check', '--download', local, remote(context.remote)]);
    assertTls(context, same);
    assert.match(same.stderr, /0 differences found/);
    // Corrupt one object behind the bridge's back (same size, different bytes): check must notice.
    const victim = [...tree.keys()][3]!;
    const original = tree.get(victim)!;
    await s3Put(context.env, `${context.remote}/${victim}`, Buffer.from(original.map((byte) => byte ^ 0xff)));
    const differs = await rclone(context, ['check', '--download', local, remote(context.remote)], { ok: false });
    assert.ok(!differs.timedOut && differs.code !== 0, `rclone check --download should fail on a corrupted object:\n${differs.stderr.slice(-3000)}`);
    assert.match(differs.stderr, /1 differences found/);
    assert.ok(differs.stderr.includes(victim), 'the corrupted file should be named');
  });
}
