import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { RawFtp, readAll, writeAll } from '../support/raw-ftp.ts';
import { startFakeSecretsManager } from '../support/secrets-manager-server.ts';
import { makeCertificate } from '../support/tls-fixture.ts';

describe('explicit and implicit FTPS', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ storage: 'memory' });
  });
  after(() => env.stop());

  test('AUTH TLS, PBSZ 0, PROT P: login and transfers over TLS 1.2+', async () => {
    const ftp = await RawFtp.connect(env.port);
    await ftp.expect(220);
    await ftp.upgrade();
    const secure = ftp.socket as TLSSocket;
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(secure.getProtocol() ?? ''));
    await ftp.command('USER alice', 331);
    await ftp.command('PASS wonderland', 230);
    await ftp.command('PBSZ 0', 200);
    await ftp.command('PROT P', 200);
    let data = await ftp.passive({ tls: true });
    await ftp.command('STOR secret.txt', 150);
    await writeAll(data, 'over tls');
    await ftp.expect(226);
    data = await ftp.passive({ tls: true });
    await ftp.command('RETR secret.txt', 150);
    assert.equal((await readAll(data)).toString(), 'over tls');
    await ftp.expect(226);
    const status = await ftp.command('STAT', 211);
    assert.ok(status.lines.some((line) => line.includes('Control connection: TLS; data connections: TLS')));
    await ftp.close();
  });

  test('PBSZ/PROT need a protected control connection, PROT needs PBSZ; CCC is refused', async () => {
    const ftp = await RawFtp.connect(env.port);
    await ftp.expect(220);
    await ftp.command('PBSZ 0', 503);
    await ftp.command('PROT P', 503);
    await ftp.upgrade();
    await ftp.command('PROT P', 503);
    await ftp.command('PBSZ 0', 200);
    await ftp.command('PROT S', 536);
    await ftp.command('PROT X', 504);
    await ftp.command('CCC', 534);
    await ftp.command('AUTH TLS', 503);
    await ftp.close();
  });

  test('AUTH with an unknown mechanism is 504; AUTH after login is 503', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('AUTH KERBEROS', 504);
    await ftp.command('AUTH TLS', 503);
    await ftp.close();
  });

  test('implicit FTPS: TLS from the first byte, data protected by default', async () => {
    const ftp = await RawFtp.login(env.implicitPort, 'alice', 'wonderland', { implicitTls: true });
    const data = await ftp.passive({ tls: true });
    await ftp.command('LIST', 150);
    assert.match((await readAll(data)).toString(), /secret\.txt/);
    await ftp.expect(226);
    await ftp.close();
  });

  test('data connections resume the control connection\'s TLS session (FileZilla requires it)', async () => {
    for (const implicitTls of [false, true]) {
      const ftp = implicitTls
        ? await RawFtp.login(env.implicitPort, 'alice', 'wonderland', { implicitTls: true })
        : await RawFtp.loginExplicitTls(env.port, 'alice', 'wonderland');
      const data = (await ftp.passive({ tls: true })) as TLSSocket;
      assert.ok(data.isSessionReused(), `session reused (${implicitTls ? 'implicit' : 'explicit'})`);
      await ftp.command('NLST', 150);
      await readAll(data);
      await ftp.expect(226);
      await ftp.close();
    }
  });

  test('TLS 1.1 is refused', async () => {
    // SECLEVEL=0 lets this client offer TLS 1.1 at all; the server must still refuse it.
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: env.implicitPort,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    const outcome = await new Promise((resolve) => {
      socket.once('secureConnect', () => resolve('connected'));
      socket.once('error', () => resolve('refused'));
    });
    socket.destroy();
    assert.equal(outcome, 'refused');
    const modern = tlsConnect({ host: '127.0.0.1', port: env.implicitPort, rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
    await once(modern, 'secureConnect');
    assert.equal(modern.getProtocol(), 'TLSv1.2');
    modern.destroy();
  });

  test('a plaintext data connection under PROT P fails the transfer with 425, the session goes on', async () => {
    const ftp = await RawFtp.loginExplicitTls(env.port, 'alice', 'wonderland');
    const data = await ftp.passive({ tls: false });
    data.on('error', () => undefined);
    await ftp.command('RETR secret.txt', 150);
    data.write('not a TLS hello\r\n');
    assert.equal((await ftp.read(20_000)).code, 425);
    await ftp.command('NOOP', 200);
    await ftp.close();
  });

  test('a rotated certificate is served to new connections without a restart', async () => {
    const before = new X509Certificate(env.certificate.cert).fingerprint256;
    const fresh = await makeCertificate();
    await writeFile(join(env.dir, 'key.pem'), fresh.key);
    await writeFile(join(env.dir, 'cert.pem'), fresh.cert);
    const expected = new X509Certificate(fresh.cert).fingerprint256;
    let served = before;
    for (let attempt = 0; attempt < 40 && served !== expected; attempt++) {
      await delay(150);
      const socket = tlsConnect({ host: '127.0.0.1', port: env.implicitPort, rejectUnauthorized: false });
      await once(socket, 'secureConnect');
      served = socket.getPeerX509Certificate()!.fingerprint256;
      socket.destroy();
    }
    assert.equal(served, expected);
    assert.ok(env.logs.some((line) => line.event === 'tls-credentials-reloaded'));
  });
});

describe('FTP_TLS_MODE=required', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ storage: 'memory', env: { FTP_TLS_MODE: 'required' } });
  });
  after(() => env.stop());

  test('no login before AUTH TLS (530), no clear data connections (PROT C 534, transfers 521)', async () => {
    const ftp = await RawFtp.connect(env.port);
    await ftp.expect(220);
    assert.equal((await ftp.command('USER alice')).code, 530);
    assert.equal((await ftp.command('PASS wonderland')).code, 530);
    await ftp.upgrade();
    await ftp.command('USER alice', 331);
    await ftp.command('PASS wonderland', 230);
    await ftp.command('PBSZ 0', 200);
    await ftp.command('PROT C', 534);
    for (const command of ['LIST', 'NLST', 'MLSD', 'RETR x', 'STOR x', 'APPE x', 'STOU']) {
      assert.equal((await ftp.command(command)).code, 521, command);
    }
    await ftp.command('PROT P', 200);
    const data = await ftp.passive({ tls: true });
    await ftp.command('LIST', 150);
    await readAll(data);
    await ftp.expect(226);
    await ftp.close();
  });
});

describe('FTP_TLS_MODE=off', () => {
  test('AUTH is refused and FEAT offers no TLS', async () => {
    const env = await startTestBridge({ storage: 'memory', env: { FTP_TLS_MODE: 'off', FTPS_IMPLICIT_PORT: '0' } });
    try {
      const ftp = await RawFtp.connect(env.port);
      await ftp.expect(220);
      await ftp.command('AUTH TLS', 502);
      const feat = await ftp.command('FEAT', 211);
      assert.ok(!feat.lines.some((line) => /AUTH|PBSZ|PROT/.test(line)));
      await ftp.close();
      assert.equal(env.bridge.implicitTlsPort, undefined);
    } finally {
      await env.stop();
    }
  });
});

describe('TLS credentials from Secrets Manager', () => {
  test('an empty placeholder secret starts the bridge without TLS; filling it turns TLS on', async () => {
    const secrets = await startFakeSecretsManager();
    const secretId = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ftp-tls';
    secrets.putSecret(secretId, { string: JSON.stringify({ certificate: '', privateKey: '' }) });
    const env = await startTestBridge({
      storage: 'memory',
      env: { FTP_TLS_CERT_FILE: '', FTP_TLS_KEY_FILE: '', FTP_TLS_SECRET_ID: secretId, FTP_TLS_MODE: 'required' },
      secretsClient: secrets.client,
    });
    try {
      const ftp = await RawFtp.connect(env.port);
      await ftp.expect(220);
      await ftp.command('AUTH TLS', 431);
      await ftp.command('USER alice', 530);
      await ftp.close();
      assert.ok(env.logs.some((line) => line.event === 'tls-credentials-missing'));

      secrets.putSecret(secretId, { string: JSON.stringify({ certificate: env.certificate.cert, privateKey: env.certificate.key }) });
      let upgraded = false;
      for (let attempt = 0; attempt < 40 && !upgraded; attempt++) {
        await delay(150);
        const probe = await RawFtp.connect(env.port);
        await probe.expect(220);
        upgraded = (await probe.command('AUTH TLS')).code === 234;
        await probe.close();
      }
      assert.ok(upgraded, 'AUTH TLS works once the secret holds a certificate');
    } finally {
      try {
        secrets.client.destroy(); // the test's client, lent to the bridge
        await env.stop();
      } finally {
        await secrets.stop();
      }
    }
  });

  test('a broken (non-placeholder) TLS secret stops the start with a message naming FTP_TLS_SECRET_ID', async () => {
    const secrets = await startFakeSecretsManager();
    const secretId = 'ftp-tls-broken';
    secrets.putSecret(secretId, { string: JSON.stringify({ certificate: 'not a pem', privateKey: 'nor this' }) });
    try {
      await assert.rejects(
        startTestBridge({
          storage: 'memory',
          env: { FTP_TLS_CERT_FILE: '', FTP_TLS_KEY_FILE: '', FTP_TLS_SECRET_ID: secretId },
          secretsClient: secrets.client,
        }),
        /FTP_TLS_SECRET_ID: .*not a usable PEM pair/,
      );
    } finally {
      await secrets.stop();
    }
  });
});
