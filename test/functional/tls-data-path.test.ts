import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { storedBody } from '../support/s3-server.ts';

const run = promisify(execFile);

/**
 * Which PROT P data connections run TLS natively (tls-data-connection.ts): a download
 * whose command the server knows when the client's TLS begins (Python's ftplib starts TLS
 * after the 150); never an upload (its end is judged over the relay), nor a connection
 * whose client starts TLS before its command (curl). Every file comes through whole.
 */
describe('the PROT P data path', () => {
  let env: TestBridge;
  let dir: string;
  let file: string;
  let content: Buffer;
  before(async () => {
    // Neither ftplib nor curl resumes the control connection's TLS session on data connections.
    env = await startTestBridge({ env: { FTP_TLS_SESSION_REUSE: 'optional' } });
    dir = await mkdtemp(join(tmpdir(), 'tls-data-path-'));
    file = join(dir, 'upload.bin');
    content = randomBytes(8 * 1024 * 1024);
    await writeFile(file, content);
  });
  after(async () => {
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
  const dataConnections = (from: number): Array<Record<string, unknown>> =>
    env.logs.slice(from).filter((line) => line.event === 'data-tls');

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`${version}, TLS after the 150 (ftplib): the download runs natively, the upload over the relay`, async () => {
      const name = `ftplib-${version}.bin`;
      const back = join(dir, `ftplib-back-${version}.bin`);
      const from = env.logs.length;
      const script = [
        'import ftplib, ssl, sys',
        'context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)',
        'context.check_hostname = False',
        'context.verify_mode = ssl.CERT_NONE',
        `context.maximum_version = ssl.TLSVersion.${version.replace('.', '_')}`,
        'ftp = ftplib.FTP_TLS(context=context)',
        'ftp.connect("127.0.0.1", int(sys.argv[1]))',
        'ftp.login("alice", "wonderland")',
        'ftp.prot_p()',
        'with open(sys.argv[2], "rb") as source: ftp.storbinary("STOR " + sys.argv[4], source)',
        'with open(sys.argv[3], "wb") as target: ftp.retrbinary("RETR " + sys.argv[4], target.write)',
        'ftp.quit()',
      ].join('\n');
      await run('python3', ['-c', script, String(env.port), file, back, name], { timeout: 120_000 });
      assert.deepEqual(await storedBody(env.s3, `partners/alice/${name}`), content);
      assert.equal(digest(await readFile(back)), digest(content));
      const connections = dataConnections(from);
      assert.deepEqual(
        connections.map((line) => [line.protocol, line.relayed]),
        [
          [version, true],
          [version, false],
        ],
      );
    });

    test(`${version}, TLS before the command (curl): both ways over the relay`, async () => {
      const url = `ftp://alice:wonderland@127.0.0.1:${env.port}/curl-${version}.bin`;
      const flag = version === 'TLSv1.2' ? ['--tls-max', '1.2'] : ['--tlsv1.3'];
      const from = env.logs.length;
      await run('curl', ['-sS', '--fail', '--ssl-reqd', '-k', ...flag, '-T', file, url], { timeout: 120_000 });
      assert.deepEqual(await storedBody(env.s3, `partners/alice/curl-${version}.bin`), content);
      const back = join(dir, `curl-back-${version}.bin`);
      await run('curl', ['-sS', '--fail', '--ssl-reqd', '-k', ...flag, '-o', back, url], { timeout: 120_000 });
      assert.equal(digest(await readFile(back)), digest(content));
      const connections = dataConnections(from);
      assert.deepEqual(
        connections.map((line) => [line.protocol, line.relayed]),
        [
          [version, true],
          [version, true],
        ],
      );
    });
  }
});
