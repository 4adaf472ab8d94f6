import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { partnerRuleSentence } from '../../runtime/src/probe/partner-rules.ts';
import { writeTestCertificate } from '../support/probe-certificates.ts';
import { outcomes, probe, stepOf } from '../support/in-process-probe.ts';
import { findVsftpd, startVsftpd, VSFTPD_REQUIRED, type Vsftpd } from '../support/vsftpd.ts';

/**
 * The probe against a server it was not written with: vsftpd from Debian's packages.
 * Without vsftpd its one test is skipped, with the reason (a skipped suite would count as no
 * skipped test), except in CI (CI=true), where it fails.
 */
const missing = findVsftpd() === undefined;
const skip = missing && !VSFTPD_REQUIRED ? 'vsftpd is not installed (apt-get install vsftpd); with CI=true this is a failure' : false;

describe('probe against vsftpd', () => {
  if (missing) {
    test('vsftpd is installed', { skip }, () => assert.fail('vsftpd is required in CI: apt-get install vsftpd (.ci/run does)'));
    return;
  }

  describe('plain and explicit TLS', () => {
    let vsftpd: Vsftpd;
    let dir: string;
    let certificate: { certFile: string; keyFile: string };
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'probe-vsftpd-tls-'));
      certificate = await writeTestCertificate({ dir, name: 'vsftpd' });
      vsftpd = await startVsftpd({ tls: certificate });
    });
    after(async () => {
      await vsftpd.stop();
      await rm(dir, { recursive: true, force: true });
    });

    test('anonymous, plain: every step passes, including --write and --active', async () => {
      const run = await probe(['--write', '--active', `ftp://127.0.0.1:${vsftpd.port}/upload/`]);
      assert.equal(run.status, 0, run.text);
      assert.ok(run.report.steps.every((step) => step.outcome === 'ok'), run.text);
      assert.deepEqual(outcomes(run).map((line) => line.split(' ')[0]), [
        'connect', 'banner', 'feat', 'login', 'pwd', 'cwd', 'epsv', 'epsv-connect', 'epsv-list', 'pasv', 'pasv-connect', 'pasv-list',
        'type', 'stor', 'size', 'retr', 'dele', 'active', 'active-list', 'quit',
      ]);
      assert.match(stepOf(run, 'banner').summary, /^220 \(vsFTPd \d/);
      assert.match(stepOf(run, 'active').summary, /^listening on 127\.0\.0\.1:\d+; 200 EPRT command successful/);
      assert.deepEqual(await readdir(join(vsftpd.root, 'upload')), [], 'the probe deleted its file');
    });

    test('the login folder lists what is in it', async () => {
      const run = await probe([`ftp://127.0.0.1:${vsftpd.port}/`]);
      assert.equal(run.status, 0, run.text);
      assert.equal(stepOf(run, 'epsv-list').details.entries, 2, 'readme.txt and upload/');
    });

    test('explicit TLS: verified with --ca, and data connections resume the control session as vsftpd requires', async () => {
      const run = await probe(['--tls', '--write', '--ca', certificate.certFile, `ftp://127.0.0.1:${vsftpd.port}/upload/`]);
      assert.equal(run.status, 0, run.text);
      assert.equal(stepOf(run, 'certificate').outcome, 'ok');
      for (const name of ['epsv-list', 'pasv-list', 'stor', 'retr'] as const) {
        assert.match(stepOf(run, name).summary, / over TLSv1\.[23] \(TLS session reused\)/, name);
      }
    });

    test('an implicit TLS client on the vsftpd control port is told it speaks plain FTP', async () => {
      const run = await probe([`ftps://127.0.0.1:${vsftpd.port}/`]);
      assert.equal(run.status, 1, run.text);
      assert.equal(run.report.failure!.kind, 'tls-not-spoken');
      assert.match(run.report.failure!.message, /a plain connection gets the FTP greeting "220 \(vsFTPd [^"]+\)"/);
    });
  });

  describe('pasv_address set to an address where nothing listens', () => {
    let vsftpd: Vsftpd;
    before(async () => {
      vsftpd = await startVsftpd({ pasvAddress: '127.0.0.2' });
    });
    after(() => vsftpd.stop());

    test('EPSV passes, the PASV data connection is refused, and the advice names pasv_address and the rule', async () => {
      const range = `${vsftpd.passivePorts.first}-${vsftpd.passivePorts.last}`;
      const run = await probe(['--timeout', '2', '--passive-range', range, `ftp://127.0.0.1:${vsftpd.port}/`]);
      assert.equal(run.status, 1, run.text);
      assert.deepEqual(outcomes(run).slice(-3), ['epsv-list ok', 'pasv warning', 'pasv-connect failed']);
      const failure = run.report.failure!;
      assert.equal(failure.kind, 'refused');
      assert.match(failure.advice[0]!, /^The address in the PASV reply is wrong: .*vsftpd: pasv_address/);
      assert.equal(failure.advice[1], partnerRuleSentence('passive', { ports: { from: vsftpd.passivePorts.first, to: vsftpd.passivePorts.last }, bridge: '127.0.0.2' }));
    });
  });
});
