import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect, createServer, type Server } from 'node:tls';
import { pino } from 'pino';
import { generate } from 'selfsigned';
import { TlsCredentials } from '../../runtime/src/sources/tls-credentials.ts';
import { startFakeSecretsManager, type FakeSecretsManager } from '../support/secrets-manager-server.ts';
import { waitUntil } from '../support/wait-until.ts';

/** A self-signed pair valid for `days` more days. */
async function certificate(days: number, commonName = 'ftp.example.com'): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + days * 86_400_000 + 3_600_000),
  });
  return { cert: pems.cert, key: pems.private };
}

/** What `aws acm export-certificate --passphrase` returns: the key as encrypted PKCS#8, the chain apart. */
function acmExport(leaf: { cert: string; key: string }, chain: string, passphrase: string): Record<string, string> {
  const encrypted = createPrivateKey(leaf.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase }).toString();
  assert.match(encrypted, /BEGIN ENCRYPTED PRIVATE KEY/);
  return { certificate: leaf.cert, certificateChain: chain, privateKey: encrypted, passphrase };
}

/** The leaf certificate a TLS server using `credentials` serves. */
async function servedCertificate(credentials: TlsCredentials): Promise<X509Certificate> {
  const server: Server = createServer({ SNICallback: (_name, callback) => callback(null, credentials.newContext()!) });
  server.on('secureConnection', (socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', servername: 'ftp.example.com', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    const peer = socket.getPeerX509Certificate()!;
    socket.destroy();
    return peer;
  } finally {
    server.close();
  }
}

describe('certificates: an exported ACM certificate with a passphrase-protected key', () => {
  let secrets: FakeSecretsManager;
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const secretId = 'ftp-tls-acm';

  before(async () => {
    secrets = await startFakeSecretsManager();
  });
  after(async () => {
    await secrets.stop();
  });

  test('is served with its chain, its days left known and logged; a renewed one is picked up without a restart', async () => {
    const leaf = await certificate(200);
    const chain = (await certificate(3000, 'Example Issuing CA')).cert;
    secrets.putSecret(secretId, { string: JSON.stringify(acmExport(leaf, chain, 'correct horse battery staple')) });
    const credentials = await TlsCredentials.load({ source: { kind: 'secret', secretId }, intervalMs: 50, logger, secretsClient: secrets.client });
    try {
      assert.equal(credentials.daysLeft(), 200);
      assert.equal((await servedCertificate(credentials)).fingerprint256, new X509Certificate(leaf.cert).fingerprint256);
      const loaded = logs.find((line) => line.event === 'tls-certificate');
      assert.deepEqual([loaded?.daysLeft, loaded?.subject, loaded?.level], [200, 'CN=ftp.example.com', 30]);

      const renewed = await certificate(20);
      secrets.putSecret(secretId, { string: JSON.stringify(acmExport(renewed, chain, 'a new passphrase')) });
      await waitUntil('the renewed certificate', () => credentials.daysLeft() === 20, { intervalMs: 20 });
      assert.equal((await servedCertificate(credentials)).fingerprint256, new X509Certificate(renewed.cert).fingerprint256);
      const warning = logs.findLast((line) => line.event === 'tls-certificate');
      assert.deepEqual([warning?.daysLeft, warning?.level], [20, 40], 'under 30 days left is a warning');

      // A renewal whose passphrase does not fit is refused; the served certificate stays.
      secrets.putSecret(secretId, { string: JSON.stringify({ ...acmExport(await certificate(90), chain, 'one'), passphrase: 'another' }) });
      await waitUntil('the refused renewal', () => logs.some((line) => line.event === 'tls-credentials-invalid'), { intervalMs: 20 });
      assert.match(String((logs.find((line) => line.event === 'tls-credentials-invalid')?.err as { message?: string })?.message), /passphrase/);
      assert.equal(credentials.daysLeft(), 20);
    } finally {
      credentials.close();
    }
  });

  const refused: [string, (leaf: { cert: string; key: string }, chain: string) => Record<string, string>, RegExp][] = [
    ['a wrong passphrase', (leaf, chain) => ({ ...acmExport(leaf, chain, 'right'), passphrase: 'wrong' }), /could not be decrypted with the secret's passphrase/],
    ['an encrypted key without a passphrase', (leaf, chain) => ({ ...acmExport(leaf, chain, 'right'), passphrase: '' }), /encrypted: the secret needs its "passphrase"/],
    ['a certificate that is no PEM', (leaf) => ({ certificate: 'MIIB...', privateKey: leaf.key }), /not a PEM certificate/],
  ];
  for (const [name, secret, message] of refused) {
    test(`${name} stops the load with a message for the operator`, async () => {
      const leaf = await certificate(100);
      secrets.putSecret(`${secretId}-bad`, { string: JSON.stringify(secret(leaf, leaf.cert)) });
      await assert.rejects(
        TlsCredentials.load({ source: { kind: 'secret', secretId: `${secretId}-bad` }, intervalMs: 1000, logger, secretsClient: secrets.client }),
        message,
      );
    });
  }
});
