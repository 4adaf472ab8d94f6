import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type SecureVersion } from 'node:tls';
import { startChildBridge, type ChildBridge } from '../support/child-bridge.ts';
import { RawFtp } from '../support/raw-ftp.ts';
import { startTestS3, storedBody, type TestS3 } from '../support/s3-server.ts';
import { CLOSE_NOTIFY, openTls13Data, USER_CANCELED, WARNING } from '../support/tls13-client.ts';

/**
 * The end of a PROT P upload (issue 17, 0b): an upload that really ended with the
 * client's close_notify is committed, whatever alert came before it (Java's TLS 1.3
 * user_canceled), and a bare FIN is not, unless the user's tlsCloseNotify is optional;
 * a reset never is. The bridge runs as a child process on INTEGRITY_NODE (each supported
 * Node major in CI, see run.sh): what ends a TLS stream is decided by Node's OpenSSL.
 */
const NODE = process.env['INTEGRITY_NODE'] ?? process.execPath;
const JAVA_CLIENT = fileURLToPath(new URL('clients/CommonsNetStore.java', import.meta.url));
const COMMONS_NET = '/usr/share/java/commons-net.jar';
const FILE = Buffer.from(Array.from({ length: 300_000 }, (_, index) => index % 251));

let s3: TestS3;
let env: ChildBridge;
let dir: string;
const objectBody = async (key: string): Promise<Buffer | undefined> => await storedBody(s3, key);

async function protectedSession(username: string, password: string, version: SecureVersion = 'TLSv1.3'): Promise<RawFtp> {
  const ftp = await RawFtp.loginExplicitTls(env.port, username, password, { tlsMaxVersion: version });
  await ftp.command('TYPE I', 200);
  // A NOOP's round trip: the control connection's TLS 1.3 session ticket has arrived.
  await ftp.command('NOOP', 200);
  return ftp;
}

describe('the end of a PROT P upload', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'close-notify-'));
    s3 = await startTestS3();
    env = await startChildBridge({
      s3,
      dir,
      tls: true,
      node: NODE,
      users: [
        { username: 'alice', password: 'wonderland', home: 'partners/alice/' },
        { username: 'dotnet', password: 'sslstream', home: 'partners/dotnet/', tlsCloseNotify: 'optional' },
        // Commons Net cannot resume TLS sessions on data connections.
        { username: 'java', password: 'commons', home: 'partners/java/', tlsSessionReuse: 'optional' },
      ],
    });
  });
  after(async () => {
    env?.kill();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("TLS 1.3, Java's order (data, user_canceled, close_notify, FIN in one segment): committed whole", async () => {
    const ftp = await protectedSession('alice', 'wonderland');
    const data = await openTls13Data(await ftp.passivePort(), ftp.tlsSession);
    await ftp.command('STOR java-order.bin', 150);
    await data.write(FILE);
    data.endWithAlerts([
      [WARNING, USER_CANCELED],
      [WARNING, CLOSE_NOTIFY],
    ]);
    assert.equal((await ftp.read()).code, 226);
    assert.deepEqual(await objectBody('partners/alice/java-order.bin'), FILE);
    await ftp.close();
  });

  const refused: ReadonlyArray<readonly [string, ReadonlyArray<readonly [number, number]>]> = [
    ['a user_canceled and then a bare FIN', [[WARNING, USER_CANCELED]]],
    ['a bare FIN after the data', []],
  ];
  for (const [name, alerts] of refused) {
    test(`TLS 1.3, ${name}: not committed (426)`, async () => {
      const ftp = await protectedSession('alice', 'wonderland');
      const data = await openTls13Data(await ftp.passivePort(), ftp.tlsSession);
      await ftp.command('STOR cut.bin', 150);
      await data.write(FILE);
      data.endWithAlerts(alerts);
      const reply = await ftp.read();
      assert.equal(reply.code, 426);
      assert.match(reply.text, /close_notify/);
      assert.equal(await objectBody('partners/alice/cut.bin'), undefined);
      await ftp.close();
    });
  }

  test('tlsCloseNotify "optional": a bare FIN is committed (and logged), a reset is not', async () => {
    const ftp = await protectedSession('dotnet', 'sslstream');
    const fin = await openTls13Data(await ftp.passivePort(), ftp.tlsSession);
    await ftp.command('STOR sslstream.bin', 150);
    await fin.write(FILE);
    fin.endWithAlerts([]);
    assert.equal((await ftp.read()).code, 226);
    assert.deepEqual(await objectBody('partners/dotnet/sslstream.bin'), FILE);
    assert.ok(env.logs().some((line) => line.event === 'tls-close-notify-missing' && line.user === 'dotnet'));

    const reset = await openTls13Data(await ftp.passivePort(), ftp.tlsSession);
    await ftp.command('STOR reset.bin', 150);
    await reset.write(FILE);
    reset.tcp.resetAndDestroy();
    assert.equal((await ftp.read()).code, 426);
    assert.equal(await objectBody('partners/dotnet/reset.bin'), undefined);
    await ftp.close();
  });

  test('tlsCloseNotify is per user: another user is still refused a bare FIN', async () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const ftp = await protectedSession('alice', 'wonderland', version);
      const tcp = netConnect({ host: '127.0.0.1', port: await ftp.passivePort() });
      await once(tcp, 'connect');
      const tls = tlsConnect({ socket: tcp, host: '127.0.0.1', rejectUnauthorized: false, maxVersion: version, session: ftp.tlsSession! });
      tls.on('error', () => undefined);
      await once(tls, 'secureConnect');
      await ftp.command(`STOR bare-fin-${version}.bin`, 150);
      await new Promise<void>((resolve) => tls.write(FILE, () => resolve()));
      tcp.end();
      assert.equal((await ftp.read()).code, 426, version);
      assert.equal(await objectBody(`partners/alice/bare-fin-${version}.bin`), undefined);
      await ftp.close();
    }
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`Apache Commons Net FTPSClient (Debian's, OpenJDK) uploads over ${version}`, async (context) => {
      if (!existsSync(COMMONS_NET) && !process.env['CI']) {
        context.skip(`no ${COMMONS_NET} (Debian's libcommons-net-java)`);
        return;
      }
      const name = `commons-net-${version}.bin`;
      const { stdout } = await promisify(execFile)(
        'java',
        [`-Djdk.tls.client.protocols=${version}`, '-cp', COMMONS_NET, JAVA_CLIENT, String(env.port), 'java', 'commons', name, String(FILE.length)],
        { timeout: 120_000 },
      );
      assert.match(stdout, /^stored 226 /);
      assert.deepEqual(await objectBody(`partners/java/${name}`), FILE);
    });
  }
});
