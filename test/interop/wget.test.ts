import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  assertSameTree,
  ClientSuite,
  ftpUrl,
  MODES,
  readTree,
  runOk,
  s3Put,
  sampleTree,
  type CaseContext,
} from '../support/interop-harness.ts';

/**
 * GNU wget: recursive download of a folder (`wget -r ftp://…/folder/`). The folder
 * is filled straight in S3 (as another system would), without folder markers, so
 * the listing must show folders that exist only as key prefixes. TLS: `ftps://`
 * (explicit, AUTH TLS) and `ftps://` with `--ftps-implicit`, verifying the
 * certificate against the test CA.
 */
const suite = new ClientSuite({ probe: { name: 'wget', executable: 'wget', versionArgs: ['--version'], debianPackage: 'wget' } });

async function seed(context: CaseContext, tree: ReadonlyMap<string, Buffer>): Promise<void> {
  for (const [path, content] of tree) await s3Put(context.env, `${context.remote}/${path}`, content);
}

function tlsArgs(context: CaseContext): string[] {
  if (context.mode === 'plain') return [];
  const args = [`--ca-certificate=${join(context.env.dir, 'cert.pem')}`];
  // wget 1.21 (GnuTLS) keeps the implicit control connection's session before the
  // TLS 1.3 ticket arrives, so its data connections cannot resume it and the bridge
  // refuses them (FTP_TLS_SESSION_REUSE=required); over TLS 1.2 it resumes (docs/clients.md,
  // "TLS session reuse").
  if (context.mode === 'implicit TLS') args.push('--ftps-implicit', '--ciphers=NORMAL:-VERS-TLS1.3');
  return args;
}

function folderUrl(context: CaseContext, folder: string): string {
  if (context.mode === 'plain') return ftpUrl('ftp', context.env.port, `${folder}/`);
  return ftpUrl('ftps', context.mode === 'implicit TLS' ? context.env.implicitPort : context.env.port, `${folder}/`);
}

for (const mode of MODES) {
  suite.case('recursive download (-r ftp://…/folder/)', mode, async (context) => {
    const tree = sampleTree(80);
    await seed(context, tree);
    const out = join(context.work, 'out');
    const result = await runOk(
      'wget',
      ['-r', '-np', '-nH', '--cut-dirs=1', '-P', out, '--tries=1', '--timeout=20', '-d', ...tlsArgs(context), folderUrl(context, context.remote)],
      { timeoutMs: 180_000 },
    );
    const log = `${result.stdout}\n${result.stderr}`;
    if (mode !== 'plain') assert.match(log, /PROT P/, 'wget ftps should protect data connections (PROT P)');
    if (mode === 'explicit TLS') assert.match(log, /AUTH TLS/, 'wget ftps:// (explicit) should send AUTH TLS');
    const got = await readTree(out);
    for (const path of [...got.keys()]) if (path.endsWith('.listing')) got.delete(path);
    assertSameTree(got, tree, 'wget -r');
  }, { timeoutMs: 240_000 });

  suite.case('single file download', mode, async (context) => {
    const content = Buffer.from('single file via wget\n'.repeat(1000));
    await s3Put(context.env, `${context.remote}/one file ü.txt`, content);
    const out = join(context.work, 'one.txt');
    const base = folderUrl(context, context.remote);
    await runOk('wget', ['--tries=1', '--timeout=20', '-O', out, ...tlsArgs(context), `${base}${encodeURIComponent('one file ü.txt')}`], { timeoutMs: 60_000 });
    const got = await readTree(context.work);
    assert.ok(got.get('one.txt')?.equals(content), 'wget single file content');
  });
}
