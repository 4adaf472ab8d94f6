import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type SecureVersion, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { RawFtp, readAll, writeAll } from '../support/raw-ftp.ts';
import { storedBody } from '../support/s3-server.ts';
import { skipWithout } from '../support/required-tool.ts';

const VERSIONS: readonly SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];

async function objectBody(env: TestBridge, key: string): Promise<Buffer | undefined> {
  return await storedBody(env.s3, key);
}

/** A TLS data connection over a TCP socket the test keeps, so it can end TCP without a close_notify. */
async function tlsOverTcp(port: number, session: Buffer | undefined, maxVersion: SecureVersion): Promise<{ tls: TLSSocket; tcp: Socket }> {
  const tcp = netConnect({ host: '127.0.0.1', port });
  await once(tcp, 'connect');
  const tls = tlsConnect({ socket: tcp, host: '127.0.0.1', rejectUnauthorized: false, maxVersion, ...(session ? { session } : {}) });
  await once(tls, 'secureConnect');
  return { tls, tcp };
}

describe('clear text after AUTH TLS (STARTTLS command injection, CVE-2011-0411)', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ env: { FTP_TLS_MODE: 'required' } });
  });
  after(() => env.stop());

  test('commands sent in the same write as AUTH TLS are dropped, not run after the handshake', async () => {
    const tcp = netConnect({ host: '127.0.0.1', port: env.port });
    await once(tcp, 'connect');
    let text = '';
    const onText = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
    };
    tcp.on('data', onText);
    const until = async (pattern: RegExp): Promise<void> => {
      for (let waited = 0; !pattern.test(text); waited += 10) {
        if (waited > 5000) throw new Error(`no ${pattern} in ${JSON.stringify(text)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await until(/^220 /m);
    tcp.write('AUTH TLS\r\nUSER alice\r\nPASS wonderland\r\n');
    await until(/^234 /m);
    tcp.off('data', onText);
    const tls = tlsConnect({ socket: tcp, host: '127.0.0.1', rejectUnauthorized: false });
    await once(tls, 'secureConnect');
    const protectedReplies: string[] = [];
    tls.setEncoding('utf8');
    tls.on('data', (chunk: string) => protectedReplies.push(...chunk.split('\r\n').filter(Boolean)));
    tls.write('PWD\r\n');
    tls.write('USER alice\r\n');
    for (let waited = 0; protectedReplies.length < 2 && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Not logged in, and the replies are the protected commands' own (not shifted by the injected ones).
    assert.match(protectedReplies[0] ?? '', /^530 /);
    assert.match(protectedReplies[1] ?? '', /^331 /);
    assert.equal(env.logs.filter((line) => line.event === 'login').length, 0);
    tls.destroy();
  });
});

describe('PROT P data connections must resume their control connection\'s TLS session', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({
      env: { FTP_DATA_TIMEOUT_SECONDS: '3' },
      users: [
        { username: 'alice', password: 'wonderland' },
        { username: 'bob', password: 'builder' },
        { username: 'legacy', password: 'client', home: 'partners/alice/', tlsSessionReuse: 'optional' },
      ],
    });
  });
  after(() => env.stop());

  for (const version of VERSIONS) {
    test(`${version}: a resumed data connection transfers; a fresh handshake is refused with 522 and logged`, async () => {
      const ftp = await RawFtp.loginExplicitTls(env.port, 'alice', 'wonderland', { tlsMaxVersion: version });
      let data = await ftp.passive({ tls: true });
      assert.ok((data as TLSSocket).isSessionReused());
      await ftp.command('STOR resumed.txt', 150);
      await writeAll(data, 'resumed');
      await ftp.expect(226);

      const failuresBefore = env.logs.filter((line) => line.event === 'tls-resume-failure').length;
      data = await ftp.passive({ tls: true, resume: false });
      data.on('error', () => undefined);
      const refused = await ftp.command('RETR resumed.txt');
      const final = refused.code === 150 ? await ftp.read() : refused;
      assert.equal(final.code, 522);
      assert.match(final.text, /TLS session reuse required/);
      assert.equal(env.logs.filter((line) => line.event === 'tls-resume-failure').length, failuresBefore + 1);
      await ftp.command('NOOP', 200);
      await ftp.close();
    });
  }

  test('a connection from the same address with another session\'s ticket, or none, never gets the data', async () => {
    const victim = await RawFtp.loginExplicitTls(env.port, 'alice', 'wonderland');
    const attacker = await RawFtp.loginExplicitTls(env.port, 'bob', 'builder');
    await victim.command('NOOP', 200); // reads the control connection's tickets
    await attacker.command('NOOP', 200);
    const upload = await victim.passive({ tls: true });
    await victim.command('STOR secret.txt', 150);
    await writeAll(upload, 'for alice only');
    await victim.expect(226);

    for (const session of [attacker.tlsSession, undefined]) {
      const port = await victim.passivePort();
      const intruder = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(session ? { session } : {}) });
      intruder.on('error', () => undefined);
      const received: Buffer[] = [];
      intruder.on('data', (chunk: Buffer) => received.push(chunk));
      await once(intruder, 'secureConnect');
      assert.equal(intruder.isSessionReused(), false, 'another session\'s ticket does not resume here');
      const reply = await victim.command('RETR secret.txt');
      const final = reply.code === 150 ? await victim.read() : reply;
      assert.equal(final.code, 522);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(Buffer.concat(received).length, 0, 'the intruder received nothing');
      intruder.destroy();
    }
    await Promise.all([victim.close(), attacker.close()]);
  });

  test('Python ftplib as shipped (no session reuse) is refused with 522 under the default policy', { skip: skipWithout('python3') }, async () => {
    const script = String.raw`
import ftplib, io, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ftp = ftplib.FTP_TLS(context=ctx)
ftp.connect('127.0.0.1', int(sys.argv[1]))
ftp.login('alice', 'wonderland')
ftp.prot_p()
try:
    ftp.storbinary('STOR plain-ftplib.bin', io.BytesIO(b'x' * 100))
    print('accepted')
except ftplib.error_perm as error:
    print(str(error))
`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script, String(env.port)], { timeout: 60_000 });
    assert.match(stdout, /^522 TLS session reuse required/);
  });

  test('a user with "tlsSessionReuse": "optional" may open data connections without resuming', async () => {
    const ftp = await RawFtp.loginExplicitTls(env.port, 'legacy', 'client');
    const data = await ftp.passive({ tls: true, resume: false });
    assert.equal((data as TLSSocket).isSessionReused(), false);
    await ftp.command('RETR secret.txt', 150);
    assert.equal((await readAll(data)).toString(), 'for alice only');
    await ftp.expect(226);
    await ftp.close();
  });
});

describe('FTP_TLS_SESSION_REUSE=optional', () => {
  test('data connections that do not resume are accepted', async () => {
    const env = await startTestBridge({ env: { FTP_TLS_SESSION_REUSE: 'optional' } });
    try {
      const ftp = await RawFtp.loginExplicitTls(env.port, 'alice', 'wonderland');
      const data = await ftp.passive({ tls: true, resume: false });
      await ftp.command('STOR fresh.txt', 150);
      await writeAll(data, 'fresh handshake');
      await ftp.expect(226);
      await ftp.close();
    } finally {
      await env.stop();
    }
  });
});

describe('the end of a TLS data connection', () => {
  let env: TestBridge;
  before(async () => {
    // Optional: Python's ftplib as shipped does not resume sessions, and it is the
    // client whose unwrap() notices a missing close_notify.
    env = await startTestBridge({ env: { FTP_TLS_SESSION_REUSE: 'optional' } });
  });
  after(() => env.stop());

  for (const version of VERSIONS) {
    test(`${version}: an upload whose TCP stream ends without a close_notify is not committed (426)`, async () => {
      const ftp = await RawFtp.loginExplicitTls(env.port, 'alice', 'wonderland', { tlsMaxVersion: version });
      await ftp.command('NOOP', 200);
      const port = await ftp.passivePort();
      const { tls, tcp } = await tlsOverTcp(port, ftp.tlsSession, version);
      tls.on('error', () => undefined);
      await ftp.command('STOR truncated.txt', 150);
      await new Promise<void>((resolve) => tls.write('the first half of a file', () => resolve()));
      tcp.end(); // a FIN with no TLS close_notify before it: what an injected FIN looks like
      const reply = await ftp.read();
      assert.equal(reply.code, 426);
      assert.match(reply.text, /close_notify/);
      assert.equal(await objectBody(env, 'partners/alice/truncated.txt'), undefined);
      await ftp.command('NOOP', 200);
      await ftp.close();
    });
  }

  test('Python ftplib: STOR and RETR with unwrap() succeed every time: TLS 1.2 and 1.3, explicit and implicit, resumed or not', { skip: skipWithout('python3') }, async () => {
    // ftplib's unwrap() needs the server's close_notify before the TCP FIN; it failed
    // with "UNEXPECTED_EOF_WHILE_READING" in about a third of 123,456-byte uploads.
    const script = String.raw`
import ftplib, io, json, ssl, sys
port, implicit_port = int(sys.argv[1]), int(sys.argv[2])

class ReusingFTP_TLS(ftplib.FTP_TLS):
    """ftplib with TLS session reuse on data connections (docs/clients.md shows this)."""
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size

def implicit(base):
    class Implicit(base):
        def connect(self, host, port, timeout=10):
            self.host, self.port = host, port
            self.sock = self.context.wrap_socket(__import__('socket').create_connection((host, port), timeout), server_hostname=host)
            self.af = self.sock.family
            self.file = self.sock.makefile('r', encoding=self.encoding)
            self.welcome = self.getresp()
            return self.welcome
    return Implicit

failures, runs = [], 0
for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
  for base in (ftplib.FTP_TLS, ReusingFTP_TLS):
    for is_implicit in (False, True):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = version
        ftp = (implicit(base) if is_implicit else base)(context=ctx)
        ftp.connect('127.0.0.1', implicit_port if is_implicit else port)
        if not is_implicit:
            ftp.auth()
        ftp.login('alice', 'wonderland')
        ftp.prot_p()
        for size in (0, 1, 1000, 16384, 123456, 1048576):
            for attempt in range(3):
                runs += 1
                payload = bytes((i * 7 + size) % 251 for i in range(size))
                name = 'py-%d-%d.bin' % (size, attempt)
                try:
                    ftp.storbinary('STOR ' + name, io.BytesIO(payload))
                    got = bytearray()
                    ftp.retrbinary('RETR ' + name, got.extend)
                    if bytes(got) != payload:
                        failures.append('%s %s %d: bytes differ' % (version, base.__name__, size))
                except Exception as error:
                    failures.append('%s %s implicit=%s %d: %r' % (version, base.__name__, is_implicit, size, error))
        ftp.quit()
print(json.dumps({'runs': runs, 'failures': failures}))
`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script, String(env.port), String(env.implicitPort)], {
      timeout: 120_000,
    });
    const result = JSON.parse(stdout) as { runs: number; failures: string[] };
    assert.deepEqual(result.failures, []);
    assert.equal(result.runs, 144);
  });
});
