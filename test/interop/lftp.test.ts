import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertS3Absent,
  assertS3Object,
  assertSameTree,
  ClientRunError,
  ClientSuite,
  MODES,
  readTree,
  run,
  s3Get,
  s3List,
  sampleTree,
  USER,
  writeTree,
  type CaseContext,
  type RunResult,
} from '../support/interop-harness.ts';

/**
 * lftp: plain, explicit TLS (`set ftp:ssl-force true` with `ssl:verify-certificate no`)
 * and implicit TLS (`open ftps://` on the implicit port). Every run writes lftp's
 * `debug 5` transcript (level 5 shows every command and reply), appended to the failure message.
 */
const suite = new ClientSuite({
  probe: { name: 'lftp', executable: 'lftp', versionArgs: ['--version'], debianPackage: 'lftp' },
  passivePorts: 20,
});

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Runs an lftp script (commands after login); fails with the client's debug transcript. */
async function lftp(context: CaseContext, commands: readonly string[], options: { ok?: boolean; timeoutMs?: number } = {}): Promise<RunResult & { debug: string }> {
  const debugFile = join(context.work, `lftp-debug-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
  const { env, mode } = context;
  const settings = [
    `debug -o ${quote(debugFile)} 5`,
    'set cmd:fail-exit yes',
    'set cmd:interactive no',
    'set net:max-retries 2',
    'set net:reconnect-interval-base 1',
    'set net:timeout 20',
    'set ftp:passive-mode yes',
    'set xfer:clobber yes',
    'set mirror:set-permissions no',
  ];
  let open: string;
  if (mode === 'plain') {
    settings.push('set ftp:ssl-allow no');
    open = `open -u ${USER.username},${USER.password} -p ${env.port} ftp://127.0.0.1`;
  } else if (mode === 'explicit TLS') {
    settings.push('set ftp:ssl-force true', 'set ssl:verify-certificate no');
    open = `open -u ${USER.username},${USER.password} -p ${env.port} ftp://127.0.0.1`;
  } else {
    settings.push('set ssl:verify-certificate no');
    open = `open -u ${USER.username},${USER.password} -p ${env.implicitPort} ftps://127.0.0.1`;
  }
  const script = [...settings, open, ...commands, 'bye'].join('\n');
  const scriptFile = join(context.work, `script-${Date.now()}.lftp`);
  await writeFile(scriptFile, `${script}\n`);
  const result = await run('lftp', ['-f', scriptFile], { timeoutMs: options.timeoutMs ?? 120_000, cwd: context.work });
  const debug = await readFile(debugFile, 'utf8').catch(() => '(no debug log)');
  const withDebug = { ...result, debug, stderr: `${result.stderr}\n--- lftp debug 5 (last 200 lines)\n${debug.split('\n').slice(-200).join('\n')}` };
  if ((options.ok ?? true) && (result.timedOut || result.code !== 0)) {
    throw new ClientRunError(`lftp failed; script:\n${script}`, withDebug);
  }
  return withDebug;
}

function assertTls(context: CaseContext, debug: string): void {
  if (context.mode === 'explicit TLS') assert.match(debug, /---> AUTH TLS/, 'lftp ftp:ssl-force should send AUTH TLS');
  if (context.mode !== 'plain') assert.match(debug, /---> PROT P/, 'lftp should protect data connections (PROT P)');
  else assert.doesNotMatch(debug, /---> AUTH/, 'plain mode should not use TLS');
}

/** The S3 side of a mirrored tree: every file an object with its exact size, a sample checked byte for byte. */
async function assertTreeInS3(context: CaseContext, remote: string, tree: ReadonlyMap<string, Buffer>): Promise<void> {
  const keys = await s3List(context.env, remote);
  const files = new Map([...keys].filter(([key]) => key !== '' && !key.endsWith('/')));
  const missing = [...tree.keys()].filter((path) => !files.has(path));
  const unexpected = [...files.keys()].filter((path) => !tree.has(path));
  assert.deepEqual({ missing: missing.slice(0, 10), unexpected: unexpected.slice(0, 10) }, { missing: [], unexpected: [] }, 'S3 keys should match the local tree');
  for (const [path, content] of tree) assert.equal(files.get(path), content.length, `S3 size of ${path}`);
  let index = 0;
  for (const [path, content] of tree) if (index++ % 25 === 0) await assertS3Object(context.env, `${remote}/${path}`, content);
}

for (const mode of MODES) {
  suite.case('mirror -R, mirror back, byte compare (500 files, nested, spaces, UTF-8)', mode, async (context) => {
    const tree = sampleTree(500);
    const local = join(context.work, 'source');
    await writeTree(local, tree);
    const up = await lftp(context, [`mirror -R --no-perms ${quote(local)} ${quote(context.remote)}`], { timeoutMs: 240_000 });
    assertTls(context, up.debug);
    await assertTreeInS3(context, context.remote, tree);
    const back = join(context.work, 'back');
    await lftp(context, [`mirror --no-perms ${quote(context.remote)} ${quote(back)}`], { timeoutMs: 240_000 });
    assertSameTree(await readTree(back), tree, 'mirror back');
  }, { timeoutMs: 500_000 });

  suite.case('mirror --parallel=8 (both directions)', mode, async (context) => {
    const tree = sampleTree(200);
    const local = join(context.work, 'source');
    await writeTree(local, tree);
    const up = await lftp(context, [`mirror -R --parallel=8 --no-perms ${quote(local)} ${quote(context.remote)}`], { timeoutMs: 240_000 });
    assertTls(context, up.debug);
    await assertTreeInS3(context, context.remote, tree);
    const back = join(context.work, 'back');
    await lftp(context, [`mirror --parallel=8 --no-perms ${quote(context.remote)} ${quote(back)}`], { timeoutMs: 240_000 });
    assertSameTree(await readTree(back), tree, 'parallel mirror back');
  }, { timeoutMs: 500_000 });

  suite.case('mkdir -p', mode, async (context) => {
    const result = await lftp(context, [
      `mkdir -p ${quote(`${context.remote}/a/b c/ünï`)} ${quote(`${context.remote}/x/y`)}`,
      `cd ${quote(`${context.remote}/a/b c`)}`,
      'cls -1',
    ]);
    assertTls(context, result.debug);
    assert.deepEqual(result.stdout.split('\n').filter(Boolean), ['ünï/']);
    const keys = [...(await s3List(context.env, context.remote)).keys()].sort();
    for (const marker of ['a/', 'a/b c/', 'a/b c/ünï/', 'x/', 'x/y/']) assert.ok(keys.includes(marker), `S3 should hold the folder marker ${marker}: ${keys.join(', ')}`);
  });

  suite.case('mv (file and folder)', mode, async (context) => {
    const local = join(context.work, 'f.txt');
    await writeFile(local, 'move me\n');
    await lftp(context, [
      `mkdir -p ${quote(`${context.remote}/dir one`)}`,
      `put ${quote(local)} -o ${quote(`${context.remote}/dir one/f.txt`)}`,
      `put ${quote(local)} -o ${quote(`${context.remote}/top.txt`)}`,
    ]);
    const result = await lftp(context, [
      `mv ${quote(`${context.remote}/top.txt`)} ${quote(`${context.remote}/renamed ünï.txt`)}`,
      `mv ${quote(`${context.remote}/dir one`)} ${quote(`${context.remote}/dir two`)}`,
      `cd ${quote(context.remote)}`,
      'cls -1',
    ]);
    assertTls(context, result.debug);
    assert.deepEqual(result.stdout.split('\n').filter(Boolean).sort(), ['dir two/', 'renamed ünï.txt'].sort());
    await assertS3Object(context.env, `${context.remote}/renamed ünï.txt`, Buffer.from('move me\n'));
    await assertS3Object(context.env, `${context.remote}/dir two/f.txt`, Buffer.from('move me\n'));
    await assertS3Absent(context.env, `${context.remote}/top.txt`);
    await assertS3Absent(context.env, `${context.remote}/dir one/f.txt`);
  });

  suite.case('rm -r', mode, async (context) => {
    const tree = sampleTree(30);
    const local = join(context.work, 'source');
    await writeTree(local, tree);
    await lftp(context, [`mirror -R --no-perms ${quote(local)} ${quote(`${context.remote}/tree`)}`]);
    assert.ok((await s3List(context.env, `${context.remote}/tree`)).size >= tree.size);
    const result = await lftp(context, [`rm -r ${quote(`${context.remote}/tree`)}`, `cd ${quote(context.remote)}`, 'cls -1']);
    assertTls(context, result.debug);
    assert.deepEqual(result.stdout.split('\n').filter(Boolean), [], 'the folder should be gone from the listing');
    assert.deepEqual([...(await s3List(context.env, `${context.remote}/tree`)).keys()], [], 'no object should remain under the removed folder');
  });

  suite.case('mirror -R keeps modification times, mirror back restores them, a second mirror -R sends nothing', mode, async (context) => {
    const tree = sampleTree(40);
    const local = join(context.work, 'source');
    await writeTree(local, tree);
    const when = new Date('2021-05-06T07:08:09Z');
    for (const path of tree.keys()) await utimes(join(local, path), when, when);
    const up = await lftp(context, [`mirror -R --no-perms ${quote(local)} ${quote(context.remote)}`]);
    assertTls(context, up.debug);
    assert.match(up.debug, /---> MFMT 20210506070809 /, 'lftp sets each time with MFMT');
    await assertTreeInS3(context, context.remote, tree);
    const back = join(context.work, 'back');
    await lftp(context, [`mirror --no-perms ${quote(context.remote)} ${quote(back)}`]);
    assertSameTree(await readTree(back), tree, 'mirror back');
    for (const path of tree.keys()) {
      assert.equal((await stat(join(back, path))).mtime.toISOString(), when.toISOString(), `the time of ${path} came back`);
    }
    const again = await lftp(context, [`mirror -R --no-perms ${quote(local)} ${quote(context.remote)}`]);
    assert.doesNotMatch(again.debug, /---> STOR /, 'files with the same size and time are not sent again');
  });

  suite.case('quote HASH: the checksum of an upload matches the local file', mode, async (context) => {
    const data = Buffer.alloc(70_000, 'checksum me ');
    const local = join(context.work, 'c.bin');
    await writeFile(local, data);
    const result = await lftp(context, [
      `mkdir -p ${quote(context.remote)}`,
      `put ${quote(local)} -o ${quote(`${context.remote}/c.bin`)}`,
      'quote OPTS HASH SHA-256',
      `quote HASH ${context.remote}/c.bin`,
    ]);
    assertTls(context, result.debug);
    const expected = createHash('sha256').update(data).digest('hex');
    assert.match(result.stdout, new RegExp(`213 SHA-256 0-${data.length} ${expected} `), `lftp prints the HASH reply:\n${result.stdout}`);
  });

  suite.case('cls -l', mode, async (context) => {
    const local = join(context.work, 'f.bin');
    await writeFile(local, Buffer.alloc(4321, 7));
    await lftp(context, [
      `mkdir -p ${quote(`${context.remote}/sub folder`)}`,
      `put ${quote(local)} -o ${quote(`${context.remote}/data file ü.bin`)}`,
    ]);
    const result = await lftp(context, [`cd ${quote(context.remote)}`, 'cls -l', 'cls -1 --sort=name']);
    assertTls(context, result.debug);
    const lines = result.stdout.split('\n').filter(Boolean);
    const file = lines.find((line) => line.endsWith('data file ü.bin'));
    assert.ok(file, `cls -l should list the file:\n${result.stdout}`);
    assert.match(file, /^-[rwx-]{9}\s.*\s4321\s/, `cls -l should show the size 4321: ${file}`);
    const folder = lines.find((line) => line.endsWith('sub folder/'));
    assert.ok(folder, `cls -l should list the folder:\n${result.stdout}`);
    assert.match(folder, /^d[rwx-]{9}\s/, `the folder should be a d… entry: ${folder}`);
    // lftp parses the date out of the ls -l line: a folder S3 keeps no date for must not look 1970.
    assert.doesNotMatch(folder, /1970/, `no folder is dated 1970: ${folder}`);
    assert.ok(lines.includes('data file ü.bin') && lines.includes('sub folder/'), `cls -1 names:\n${result.stdout}`);
    assert.equal((await s3Get(context.env, `${context.remote}/data file ü.bin`))?.length, 4321);
  });
}
