import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { writeTestCertificate } from '../support/probe-certificates.ts';
import { outcomes, probe, stepOf } from '../support/in-process-probe.ts';

const PASSWORD = { FTP_PROBE_PASSWORD: 'wonderland' };

describe('probe against the bridge: TLS mismatches', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge();
  });
  after(() => env.stop());

  test('a plain client on the implicit TLS port: no greeting, and the port is named as implicit TLS', async () => {
    // Shorter than the bridge's 3 s before it tells a silent client in clear text what the port is; connect is the only step before.
    const run = await probe(['--timeout', '1', `ftp://alice@127.0.0.1:${env.implicitPort}/`], { env: PASSWORD });
    assert.equal(run.status, 1, run.text);
    assert.deepEqual(outcomes(run), ['connect ok', 'banner failed']);
    const failure = run.report.failure!;
    assert.equal(failure.kind, 'tls-expected');
    assert.match(failure.message, /^no greeting within 1 s, but a TLS handshake on this port succeeds \(TLSv1\.[23]\): it expects implicit TLS, TLS from the first byte$/);
    assert.equal(failure.advice[0], `Use ftps://127.0.0.1:${env.implicitPort}/ (implicit FTPS); plain FTP and explicit FTPS (AUTH TLS) use the control port (21 by default).`);
  });

  test('an implicit TLS client on the plain port: the handshake fails, and the plain greeting is quoted', async () => {
    const run = await probe([`ftps://alice@127.0.0.1:${env.port}/`], { env: PASSWORD });
    assert.equal(run.status, 1, run.text);
    assert.deepEqual(outcomes(run), ['connect ok', 'tls failed']);
    const failure = run.report.failure!;
    assert.equal(failure.kind, 'tls-not-spoken');
    assert.match(failure.message, /^no TLS on this port: the handshake failed \(.+\), and a plain connection gets the FTP greeting "220 ftp-s3-bridge ready\.": this port speaks plain FTP, not implicit TLS$/);
    assert.match(failure.advice[0]!, new RegExp(`^Use ftp://127\\.0\\.0\\.1:${env.port}/ with --tls`));
  });

  test('a self-signed certificate fails at the certificate step unless --insecure', async () => {
    const run = await probe(['--tls', `ftp://alice@127.0.0.1:${env.port}/`], { env: PASSWORD });
    assert.equal(run.status, 1, run.text);
    assert.deepEqual(outcomes(run), ['connect ok', 'banner ok', 'auth-tls ok', 'certificate failed']);
    const failure = run.report.failure!;
    assert.equal(failure.kind, 'tls-untrusted');
    assert.equal(failure.message, 'the certificate does not verify: it is self-signed (DEPTH_ZERO_SELF_SIGNED_CERT), so no system CA vouches for it');
    assert.match(stepOf(run, 'certificate').notes[0]!, /^subject CN=localhost; issuer CN=localhost; DNS:localhost, IP Address:127\.0\.0\.1; valid until \d{4}-\d\d-\d\d \(\d+ days left\)$/);
    assert.equal(run.report.tls!.chainError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal(run.report.tls!.nameVerified, true);
    assert.match(failure.advice.join('\n'), /--ca FILE/);
  });
});

describe('probe against the bridge: certificates that do not verify', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'probe-certificates-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** The bridge serving `certificate`, probed with it as a trusted CA, so only expiry and names can fail. */
  async function probeWith(certificate: { certFile: string; keyFile: string }, url: (env: TestBridge) => string) {
    const env = await startTestBridge({ env: { FTP_TLS_CERT_FILE: certificate.certFile, FTP_TLS_KEY_FILE: certificate.keyFile } });
    try {
      return await probe(['--ca', certificate.certFile, url(env)], { env: PASSWORD });
    } finally {
      await env.stop();
    }
  }

  test('an expired certificate: CERT_HAS_EXPIRED, with the date and negative days left', async () => {
    const expired = await writeTestCertificate({ dir, name: 'expired', validFromDays: -60, validToDays: -3 });
    const run = await probeWith(expired, (env) => `ftps://alice@127.0.0.1:${env.implicitPort}/`);
    assert.equal(run.status, 1, run.text);
    assert.equal(run.report.failure!.step, 'certificate');
    assert.equal(run.report.failure!.kind, 'tls-untrusted');
    assert.match(run.report.failure!.message, /^the certificate does not verify: it expired on \d{4}-\d\d-\d\d \(CERT_HAS_EXPIRED\)$/);
    assert.equal(run.report.tls!.chainError, 'CERT_HAS_EXPIRED');
    assert.equal(run.report.tls!.certificate.daysLeft, -3);
    assert.match(stepOf(run, 'certificate').notes[0]!, /\(expired 3 days ago\)$/);
    assert.match(run.report.failure!.advice[0]!, /^Clients that verify certificates \(most do by default\) will refuse this server\./);
  });

  test('a certificate for another name: the chain verifies, the name does not', async () => {
    const other = await writeTestCertificate({ dir, name: 'other', dnsNames: ['ftp.example.com'], ipAddresses: [] });
    const run = await probeWith(other, (env) => `ftp://alice@127.0.0.1:${env.port}/`.replace('ftp:', 'ftpes:'));
    assert.equal(run.status, 1, run.text);
    assert.equal(run.report.tls!.chainVerified, true);
    assert.equal(run.report.tls!.nameVerified, false);
    assert.equal(run.report.failure!.message, 'the certificate does not verify: it does not name 127.0.0.1 (DNS:ftp.example.com)');
  });

  test('a certificate that expires within 14 days passes with a warning', async () => {
    const soon = await writeTestCertificate({ dir, name: 'soon', validToDays: 5.5 });
    const run = await probeWith(soon, (env) => `ftps://alice@127.0.0.1:${env.implicitPort}/`);
    assert.equal(run.status, 0, run.text);
    const certificate = stepOf(run, 'certificate');
    assert.equal(certificate.outcome, 'warning');
    assert.deepEqual(certificate.notes, ['verified against the system CAs and --ca for 127.0.0.1', 'warning: the certificate expires in 5 days']);
  });
});
