import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertS3Object,
  bytes,
  ClientRunError,
  ClientSuite,
  run,
  runOk,
  s3List,
  USER,
  type CaseContext,
  type RunResult,
} from '../support/interop-harness.ts';

/**
 * NcFTP (the ncftpput / ncftpget / ncftpls tools scripts use, and the interactive
 * `ncftp` fed a command script) and tnftp (the BSD `ftp` command, fed a command
 * script on stdin). Neither speaks FTPS, so plain only.
 */
const ncftp = new ClientSuite({
  probe: { name: 'ncftp', executable: 'ncftp', versionArgs: ['-h'], debianPackage: 'ncftp' },
  alsoNeeds: [
    { name: 'ncftpput', executable: 'ncftpput', versionArgs: ['-v'] },
    { name: 'ncftpget', executable: 'ncftpget', versionArgs: ['-v'] },
    { name: 'ncftpls', executable: 'ncftpls', versionArgs: ['-v'] },
  ],
});

function nc(context: CaseContext): string[] {
  return ['-u', USER.username, '-p', USER.password, '-P', String(context.env.port), '-t', '20'];
}

/** Runs one of the ncftp tools with its debug log (-d), appended to the failure message. */
async function ncTool(context: CaseContext, tool: string, args: readonly string[]): Promise<RunResult> {
  const debug = join(context.work, `${tool}-${Date.now()}.debug`);
  const result = await run(tool, [...nc(context), '-d', debug, ...args], { timeoutMs: 60_000 });
  if (result.timedOut || result.code !== 0) {
    const log = await readFile(debug, 'utf8').catch(() => '(no debug log)');
    throw new ClientRunError(`${tool} failed`, { ...result, stderr: `${result.stderr}\n--- ${tool} -d transcript\n${log.split('\n').slice(-60).join('\n')}` });
  }
  return result;
}

ncftp.case('put (ncftpput -m)', 'plain', async (context) => {
  const a = bytes(200_000, 31);
  const b = Buffer.from('second ncftp file\n');
  await writeFile(join(context.work, 'a.bin'), a);
  await writeFile(join(context.work, 'b with space.txt'), b);
  await ncTool(context, 'ncftpput', ['-m', '127.0.0.1', `${context.remote}/sub dir`, join(context.work, 'a.bin'), join(context.work, 'b with space.txt')]);
  await assertS3Object(context.env, `${context.remote}/sub dir/a.bin`, a);
  await assertS3Object(context.env, `${context.remote}/sub dir/b with space.txt`, b);
});

ncftp.case('get (ncftpget)', 'plain', async (context) => {
  const a = bytes(300_000, 32);
  await writeFile(join(context.work, 'src.bin'), a);
  await ncTool(context, 'ncftpput', ['-m', '127.0.0.1', context.remote, join(context.work, 'src.bin')]);
  const out = join(context.work, 'out');
  await runOk('mkdir', ['-p', out]);
  await ncTool(context, 'ncftpget', ['127.0.0.1', out, `${context.remote}/src.bin`]);
  assert.ok((await readFile(join(out, 'src.bin'))).equals(a), 'ncftpget content');
});

ncftp.case('ls (ncftpls -l, -1)', 'plain', async (context) => {
  await writeFile(join(context.work, 'listed file.txt'), Buffer.alloc(2345, 65));
  await ncTool(context, 'ncftpput', ['-m', '127.0.0.1', context.remote, join(context.work, 'listed file.txt')]);
  const url = `ftp://127.0.0.1${context.remote}/`;
  const long = await ncTool(context, 'ncftpls', ['-l', url]);
  const line = long.stdout.split('\n').find((l) => l.endsWith(' listed file.txt'));
  assert.ok(line, `ncftpls -l should list the file:\n${long.stdout}`);
  assert.match(line, /^-[rwx-]{9}\s+\d+\s+\S+\s+\S+\s+2345\s/, `ncftpls -l line: ${line}`);
  const short = await ncTool(context, 'ncftpls', ['-1', url]);
  assert.deepEqual(short.stdout.split('\n').filter(Boolean), ['listed file.txt']);
});

ncftp.case('interactive ncftp: put, get, ls', 'plain', async (context) => {
  const content = bytes(100_000, 33);
  const local = join(context.work, 'up');
  await runOk('mkdir', ['-p', local, join(context.work, 'down')]);
  await writeFile(join(local, 'inter.bin'), content);
  const script = [
    `mkdir ${context.remote}`,
    `cd ${context.remote}`,
    `lcd ${local}`,
    'put inter.bin',
    'ls -1',
    `lcd ${join(context.work, 'down')}`,
    'get inter.bin',
    'quit',
  ].join('\n');
  const result = await runOk('ncftp', ['-u', USER.username, '-p', USER.password, '-P', String(context.env.port), '127.0.0.1'], { input: `${script}\n`, timeoutMs: 60_000 });
  assert.match(result.stdout, /^inter\.bin\s*$/m, `ls should show the uploaded file:\n${result.stdout}`);
  await assertS3Object(context.env, `${context.remote}/inter.bin`, content);
  assert.ok((await readFile(join(context.work, 'down', 'inter.bin'))).equals(content), 'interactive get content');
});

const tnftp = new ClientSuite({ probe: { name: 'tnftp', executable: 'tnftp', versionArgs: ['-?'], debianPackage: 'tnftp' } });

async function tn(context: CaseContext, commands: readonly string[]): Promise<RunResult> {
  const script = [`user ${USER.username} ${USER.password}`, 'binary', ...commands, 'quit'].join('\n');
  const result = await run('tnftp', ['-n', '-v', '-d', '-p', '127.0.0.1', String(context.env.port)], { input: `${script}\n`, cwd: context.work, timeoutMs: 60_000 });
  // tnftp exits 0 even when a command fails; failures are the reply codes it prints.
  if (result.timedOut || result.code !== 0 || /^(4|5)\d\d /m.test(result.stdout)) {
    throw new ClientRunError(`tnftp failed; script:\n${script}`, result);
  }
  return result;
}

tnftp.case('put', 'plain', async (context) => {
  const content = bytes(250_000, 41);
  await writeFile(join(context.work, 'local.bin'), content);
  await tn(context, [`mkdir "${context.remote}"`, `cd "${context.remote}"`, 'put local.bin "remote ü.bin"']);
  await assertS3Object(context.env, `${context.remote}/remote ü.bin`, content);
});

tnftp.case('get', 'plain', async (context) => {
  const content = bytes(250_000, 42);
  await writeFile(join(context.work, 'local.bin'), content);
  await tn(context, [`mkdir "${context.remote}"`, `cd "${context.remote}"`, 'put local.bin up.bin', 'get up.bin back.bin']);
  assert.ok((await readFile(join(context.work, 'back.bin'))).equals(content), 'tnftp get content');
});

tnftp.case('ls, dir, nlist', 'plain', async (context) => {
  await writeFile(join(context.work, 'f.txt'), Buffer.alloc(5432, 66));
  const result = await tn(context, [`mkdir "${context.remote}"`, `cd "${context.remote}"`, 'put f.txt "listed file.txt"', 'mkdir sub', 'dir', 'nlist']);
  const lines = result.stdout.split('\n');
  const line = lines.find((l) => /^-[rwx-]{9}\s/.test(l) && l.endsWith(' listed file.txt'));
  assert.ok(line, `dir should show the file:\n${result.stdout}`);
  assert.match(line, /^-[rwx-]{9}\s+\d+\s+\S+\s+\S+\s+5432\s/, `dir line: ${line}`);
  assert.ok(lines.some((l) => /^d[rwx-]{9}\s.*\ssub$/.test(l)), `dir should show the folder:\n${result.stdout}`);
  assert.ok(lines.includes('listed file.txt') && lines.includes('sub'), `nlist names:\n${result.stdout}`);
  const keys = await s3List(context.env, context.remote);
  assert.equal(keys.get('listed file.txt'), 5432);
  assert.ok(keys.has('sub/'));
});

tnftp.case('get by URL (autofetch)', 'plain', async (context) => {
  const content = bytes(90_000, 43);
  await writeFile(join(context.work, 'local.bin'), content);
  await tn(context, [`mkdir "${context.remote}"`, `cd "${context.remote}"`, 'put local.bin fetched.bin']);
  const url = `ftp://${USER.username}:${USER.password}@127.0.0.1:${context.env.port}${context.remote}/fetched.bin`;
  await runOk('tnftp', ['-o', join(context.work, 'fetched.bin'), url], { timeoutMs: 60_000 });
  assert.ok((await readFile(join(context.work, 'fetched.bin'))).equals(content), 'tnftp autofetch content');
});
