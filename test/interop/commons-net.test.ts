import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  bytes,
  casesByName,
  CLIENTS_DIR,
  ClientRunError,
  ClientSuite,
  run,
  s3Get,
  s3Put,
  sha256,
  USER,
  type Mode,
  type RunResult,
} from '../support/interop-harness.ts';
import type { TestBridge } from '../support/bridge.ts';

/**
 * Apache Commons Net, Debian's libcommons-net-java on the JVM of the machine
 * (OpenJDK 17 in CI): FTPClient over plain FTP, FTPSClient over explicit (AUTH TLS)
 * and implicit FTPS with PROT P, each on TLS 1.2 and on TLS 1.3 (the JVM's
 * jdk.tls.client.protocols, as an application would pin it). clients/CommonsNetSuite.java
 * runs from source (no build step) and prints one JSON line per case; the files the
 * download, list, rename and delete cases work on are put into the bucket first, so
 * each case stands on its own, and every outcome is checked in the bucket here.
 *
 * FTPSClient does not resume the control connection's TLS session on data
 * connections, so its user has tlsSessionReuse "optional" (docs/clients.md, TLS session reuse).
 */
const JAR = '/usr/share/java/commons-net.jar';
const SOURCE = join(CLIENTS_DIR, 'CommonsNetSuite.java');
const suite = new ClientSuite({
  probe: { name: 'commons-net', executable: 'java', versionArgs: ['-version'], debianPackage: 'libcommons-net-java', requiredFile: JAR },
  users: [{ ...USER, tlsSessionReuse: 'optional' }],
});

type TlsVersion = 'TLSv1.2' | 'TLSv1.3';
interface Variant {
  readonly mode: Mode;
  readonly tls?: TlsVersion;
}
const VARIANTS: readonly Variant[] = [
  { mode: 'plain' },
  { mode: 'explicit TLS', tls: 'TLSv1.2' },
  { mode: 'explicit TLS', tls: 'TLSv1.3' },
  { mode: 'implicit TLS', tls: 'TLSv1.2' },
  { mode: 'implicit TLS', tls: 'TLSv1.3' },
];
const SCRIPT_MODE: Record<Mode, string> = { plain: 'plain', 'explicit TLS': 'explicit', 'implicit TLS': 'implicit' };

interface ScriptCase {
  readonly case: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly protocol: string;
  readonly facts: Record<string, unknown>;
  readonly transcript: string;
}

const rootOf = (variant: Variant): string => `/commons-net-${SCRIPT_MODE[variant.mode]}${variant.tls ? `-${variant.tls.replace(/\W/g, '')}` : ''}`;

/** What the bucket holds before the client runs: the files the cases after the upload work on. */
const DOWNLOAD = bytes(3 * 1024 * 1024 + 5, 42);
const LISTED = new Map([
  ['listing/one.txt', Buffer.from('one')],
  ['listing/two words ünï.bin', bytes(1000, 7)],
  ['listing/sub/inner.txt', Buffer.from('inner')],
]);
async function seed(env: TestBridge, root: string): Promise<void> {
  await s3Put(env, `${root}/download.bin`, DOWNLOAD);
  await s3Put(env, `${root}/rename-me.txt`, 'rename me');
  await s3Put(env, `${root}/delete-me.txt`, 'delete me');
  for (const [path, content] of LISTED) await s3Put(env, `${root}/${path}`, content);
}

function listCases(): string[] {
  if (!suite.info.path) return ['(commons-net cases)'];
  const listed = spawnSync('java', ['-cp', JAR, SOURCE, '--list'], { encoding: 'utf8', timeout: 60_000 });
  if (listed.status !== 0) throw new Error(`cannot list the commons-net cases: ${listed.stderr}`);
  return JSON.parse(listed.stdout) as string[];
}

const runs = new Map<string, Promise<{ result: RunResult; cases: Map<string, ScriptCase> }>>();
function runScript(env: TestBridge, variant: Variant): Promise<{ result: RunResult; cases: Map<string, ScriptCase> }> {
  const root = rootOf(variant);
  let pending = runs.get(root);
  if (!pending) {
    pending = (async () => {
      await seed(env, root);
      const result = await run(
        'java',
        [
          '-cp', JAR,
          ...(variant.tls ? [`-Djdk.tls.client.protocols=${variant.tls}`] : []),
          SOURCE,
          '--mode', SCRIPT_MODE[variant.mode],
          '--host', '127.0.0.1',
          '--port', String(variant.mode === 'implicit TLS' ? env.implicitPort : env.port),
          '--root', root,
          '--cafile', join(env.dir, 'cert.pem'),
          '--user', USER.username,
          '--password', USER.password,
        ],
        { timeoutMs: 240_000 },
      );
      return { result, cases: casesByName<ScriptCase>(result.stdout) };
    })();
    runs.set(root, pending);
  }
  return pending;
}

/** The bucket after a case: what it must have done there. */
async function checkBucket(env: TestBridge, root: string, name: string, facts: Record<string, unknown>): Promise<void> {
  switch (name) {
    case 'upload (storeFile)': {
      const stored = await s3Get(env, `${root}/upload.bin`);
      assert.ok(stored, 'S3: the uploaded file exists');
      assert.equal(stored.length, facts['size'], 'S3: the uploaded file has every byte sent');
      assert.equal(sha256(stored), facts['sha256'], 'S3: the uploaded file has the bytes sent');
      break;
    }
    case 'list (listFiles, listNames)':
      assert.deepEqual(
        [...(facts['entries'] as string[])].sort(),
        ['one.txt 3', 'sub dir', `two words ünï.bin 1000`],
        'listFiles: names, sizes and the folder',
      );
      assert.deepEqual([...(facts['names'] as string[])].sort(), ['one.txt', 'sub', 'two words ünï.bin'], 'listNames');
      break;
    case 'download (retrieveFile)':
      assert.equal(facts['size'], DOWNLOAD.length, 'downloaded size');
      assert.equal(facts['sha256'], sha256(DOWNLOAD), 'downloaded bytes');
      break;
    case 'rename':
      assert.equal((await s3Get(env, `${root}/renamed ünï.txt`))?.toString(), 'rename me', 'S3: the file under its new name');
      assert.equal(await s3Get(env, `${root}/rename-me.txt`), undefined, 'S3: nothing under the old name');
      break;
    case 'delete':
      assert.equal(await s3Get(env, `${root}/delete-me.txt`), undefined, 'S3: the file is gone');
      break;
    default:
      throw new Error(`no bucket check for "${name}"`);
  }
}

for (const variant of VARIANTS) {
  for (const name of listCases()) {
    const feature = variant.tls ? `${name}, ${variant.tls.replace('TLSv', 'TLS ')}` : name;
    suite.case(feature, variant.mode, async (context) => {
      const { result, cases } = await runScript(context.env, variant);
      const outcome = cases.get(name);
      if (!outcome) throw new ClientRunError(`the commons-net suite reported nothing for "${name}" (crashed or timed out?)`, result);
      if (!outcome.ok) throw new Error(`commons-net case failed: ${outcome.detail}\n--- FTP transcript (tail)\n${outcome.transcript}`);
      assert.equal(outcome.protocol, variant.tls ?? 'none', 'the TLS version the control connection negotiated');
      await checkBucket(context.env, rootOf(variant), name, outcome.facts);
    });
  }
}
