import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertS3Object,
  bytes,
  ClientRunError,
  ClientSuite,
  ftpUrl,
  MODES,
  run,
  runOk,
  s3List,
  s3Get,
  startInteropBridge,
  type CaseContext,
  type RunResult,
} from '../support/interop-harness.ts';

/**
 * curl against the bridge: plain, explicit TLS (`--ssl-reqd` on ftp://) and
 * implicit TLS (`ftps://` on the implicit port). TLS runs verify the server's
 * certificate against the test CA (`--cacert`), as a partner pinning it would.
 */
const suite = new ClientSuite({ probe: { name: 'curl', executable: 'curl', versionArgs: ['--version'], debianPackage: 'curl' } });

function url(context: CaseContext, path: string): string {
  const implicit = context.mode === 'implicit TLS';
  return ftpUrl(implicit ? 'ftps' : 'ftp', implicit ? context.env.implicitPort : context.env.port, path);
}

async function curl(context: CaseContext, args: readonly string[], options: { ok?: boolean } = {}): Promise<RunResult> {
  const tls = context.mode === 'plain' ? [] : ['--cacert', join(context.env.dir, 'cert.pem')];
  const explicit = context.mode === 'explicit TLS' ? ['--ssl-reqd'] : [];
  const full = ['-sS', '-v', '--max-time', '60', '--connect-timeout', '10', ...tls, ...explicit, ...args];
  const result = await run('curl', full, { timeoutMs: 75_000 });
  if ((options.ok ?? true) && (result.timedOut || result.code !== 0)) throw new ClientRunError('curl failed', result);
  return result;
}

/** TLS runs must really have protected the control and data connections. */
function assertTls(context: CaseContext, result: RunResult): void {
  if (context.mode === 'explicit TLS') {
    assert.match(result.stderr, /> AUTH (SSL|TLS)\r?\n< 234 /, 'curl --ssl-reqd should upgrade with AUTH SSL/TLS (234)');
    assert.match(result.stderr, /> PROT P/, 'curl should protect the data connection (PROT P)');
  }
  if (context.mode === 'implicit TLS') {
    assert.match(result.stderr, /SSL connection using|TLS/, 'curl should negotiate TLS on connect');
    assert.match(result.stderr, /> PROT P/, 'curl should protect the data connection (PROT P)');
  }
}

async function upload(context: CaseContext, path: string, content: Buffer, extra: readonly string[] = []): Promise<RunResult> {
  const local = join(context.work, `up-${Math.random().toString(36).slice(2)}`);
  await writeFile(local, content);
  return await curl(context, [...extra, '-T', local, url(context, path)]);
}

for (const mode of MODES) {
  suite.case('upload (-T)', mode, async (context) => {
    const content = bytes(300_000, 11);
    const result = await upload(context, `${context.remote}.bin`, content, ['--ftp-create-dirs']);
    assertTls(context, result);
    await assertS3Object(context.env, `${context.remote}.bin`, content);
    // FTP side: the server reports the stored size.
    const head = await curl(context, ['-I', url(context, `${context.remote}.bin`)]);
    assert.match(head.stdout, new RegExp(`Content-Length: ${content.length}`), 'curl -I (SIZE) should report the uploaded size');
  });

  suite.case('download', mode, async (context) => {
    const content = bytes(1_500_000, 12);
    await upload(context, `${context.remote}.bin`, content);
    const local = join(context.work, 'down.bin');
    const result = await curl(context, ['-o', local, url(context, `${context.remote}.bin`)]);
    assertTls(context, result);
    assert.ok((await readFile(local)).equals(content), 'downloaded bytes differ from the uploaded ones');
  });

  suite.case('list (LIST, NLST -l)', mode, async (context) => {
    const folder = context.remote;
    const a = bytes(1234, 13);
    await upload(context, `${folder}/first file.txt`, a, ['--ftp-create-dirs']);
    await upload(context, `${folder}/ünïcödé.txt`, Buffer.from('utf8 name\n'));
    await curl(context, ['-Q', `MKD ${folder}/sub dir`, url(context, `${folder}/`)]);
    const listing = await curl(context, [url(context, `${folder}/`)]);
    assertTls(context, listing);
    const lines = listing.stdout.split(/\r?\n/).filter(Boolean);
    const line = lines.find((l) => l.endsWith(' first file.txt'));
    assert.ok(line, `LIST should show "first file.txt":\n${listing.stdout}`);
    assert.match(line, /^-[rwx-]{9}\s+\d+\s+\S+\s+\S+\s+1234\s+[A-Z][a-z]{2}\s+\d{1,2}\s+(\d{2}:\d{2}|\d{4})\s+first file\.txt$/, `LIST line is not in ls -l form: ${line}`);
    assert.ok(lines.some((l) => /^d[rwx-]{9}\s.*\ssub dir$/.test(l)), `LIST should show the folder "sub dir" as d…:\n${listing.stdout}`);
    assert.ok(lines.some((l) => l.endsWith(' ünïcödé.txt')), `LIST should show the UTF-8 name:\n${listing.stdout}`);
    const names = await curl(context, ['-l', url(context, `${folder}/`)]);
    assert.deepEqual(
      names.stdout.split(/\r?\n/).filter(Boolean).sort(),
      ['first file.txt', 'sub dir', 'ünïcödé.txt'].sort(),
      'NLST (curl -l) should give bare names',
    );
    const keys = await s3List(context.env, folder);
    // '' is the folder's own marker, made by --ftp-create-dirs (MKD).
    assert.deepEqual([...keys.keys()].filter(Boolean).sort(), ['first file.txt', 'sub dir/', 'ünïcödé.txt'].sort());
  });

  suite.case('resume upload (-C -)', mode, async (context) => {
    const content = bytes(2_000_000, 14);
    const path = `${context.remote}.bin`;
    // The interrupted upload as it ends up on the server: the first part stored.
    await upload(context, path, content.subarray(0, 777_777), ['--ftp-create-dirs']);
    const local = join(context.work, 'full.bin');
    await writeFile(local, content);
    const result = await curl(context, ['-C', '-', '-T', local, url(context, path)]);
    assert.match(result.stderr, /> SIZE /, 'curl -C - asks the remote size first');
    assert.match(result.stderr, /> (APPE|REST 777777)/, 'curl -C - resumes with APPE (or REST + STOR)');
    await assertS3Object(context.env, path, content);
    const back = join(context.work, 'back.bin');
    await curl(context, ['-o', back, url(context, path)]);
    assert.ok((await readFile(back)).equals(content), 'download after resumed upload differs');
  });

  suite.case('resume download (-C -)', mode, async (context) => {
    const content = bytes(2_500_000, 15);
    const path = `${context.remote}.bin`;
    await upload(context, path, content, ['--ftp-create-dirs']);
    const local = join(context.work, 'partial.bin');
    await writeFile(local, content.subarray(0, 1_000_001));
    const result = await curl(context, ['-C', '-', '-o', local, url(context, path)]);
    assert.match(result.stderr, /> REST 1000001/, 'curl -C - sends REST with the local size');
    assert.ok((await readFile(local)).equals(content), 'resumed download differs from the object');
  });

  suite.case('EPSV (--ftp-pasv)', mode, async (context) => {
    const content = bytes(100_000, 16);
    const path = `${context.remote}.bin`;
    const up = await upload(context, path, content, ['--ftp-pasv', '--ftp-create-dirs']);
    assert.match(up.stderr, /> EPSV/, 'curl --ftp-pasv uses EPSV first');
    assert.doesNotMatch(up.stderr, /> PASV/, 'EPSV should have been accepted (no fallback to PASV)');
    const local = join(context.work, 'down.bin');
    const down = await curl(context, ['--ftp-pasv', '-o', local, url(context, path)]);
    assert.match(down.stderr, /< 229 /);
    assert.ok((await readFile(local)).equals(content));
    await assertS3Object(context.env, path, content);
  });

  suite.case('PASV (--disable-epsv)', mode, async (context) => {
    const content = bytes(100_000, 17);
    const path = `${context.remote}.bin`;
    const up = await upload(context, path, content, ['--disable-epsv', '--ftp-create-dirs']);
    assert.match(up.stderr, /> PASV/);
    assert.doesNotMatch(up.stderr, /> EPSV/);
    const local = join(context.work, 'down.bin');
    const down = await curl(context, ['--disable-epsv', '-o', local, url(context, path)]);
    assert.match(down.stderr, /< 227 /);
    assert.ok((await readFile(local)).equals(content));
    await assertS3Object(context.env, path, content);
  });

  suite.case('--ftp-create-dirs', mode, async (context) => {
    const content = Buffer.from('deep file\n');
    const path = `${context.remote}/one/two words/three/deep.txt`;
    const result = await upload(context, path, content, ['--ftp-create-dirs']);
    assert.match(result.stderr, /> MKD /, 'curl --ftp-create-dirs should have created folders');
    await assertS3Object(context.env, path, content);
    const listing = await curl(context, ['-l', url(context, `${context.remote}/one/two words/three/`)]);
    assert.deepEqual(listing.stdout.split(/\r?\n/).filter(Boolean), ['deep.txt']);
    // Without the flag, uploading into a missing folder fails cleanly.
    const missing = await upload(context, `${context.remote}/nope/x.txt`, content).catch((error: unknown) => error);
    assert.ok(missing instanceof ClientRunError, 'upload into a missing folder without --ftp-create-dirs should fail');
  });
}

suite.case('--ssl-reqd with FTP_TLS_MODE=required', 'explicit TLS', async (context) => {
  // A plain curl against a bridge with FTP_TLS_MODE=required is refused; --ssl-reqd works.
  const required = await startInteropBridge({ env: { FTP_TLS_MODE: 'required' } });
  try {
    const local = join(context.work, 'x.txt');
    await writeFile(local, 'x');
    const plain = await run('curl', ['-sS', '-v', '--max-time', '30', '-T', local, ftpUrl('ftp', required.port, '/x.txt')], { timeoutMs: 45_000 });
    assert.notEqual(plain.code, 0, 'plain login must be refused when TLS is required');
    assert.match(plain.stderr, /< 5\d\d /);
    const tls = await runOk('curl', ['-sS', '-v', '--max-time', '30', '--ssl-reqd', '--cacert', join(required.dir, 'cert.pem'), '-T', local, ftpUrl('ftp', required.port, '/x.txt')], { timeoutMs: 45_000 });
    assert.match(tls.stderr, /> PROT P/);
    assert.equal((await s3Get(required, '/x.txt'))?.toString(), 'x');
  } finally {
    await required.stop();
  }
});
