import assert from 'node:assert/strict';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ProbeReport } from '../../runtime/src/probe/probe-report.ts';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { outcomes, PLAIN_STEPS, probe, stepOf } from '../support/in-process-probe.ts';

const MAIN = fileURLToPath(new URL('../../runtime/dist/main.js', import.meta.url));
const PASSWORD = { FTP_PROBE_PASSWORD: 'wonderland' };

describe('probe against the bridge: passing', () => {
  let env: TestBridge;
  let ca: string;
  before(async () => {
    env = await startTestBridge({ env: { FTP_ACTIVE_MODE: 'on' } });
    ca = join(env.dir, 'cert.pem');
    await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/inbox/report.csv', Body: 'a,b\n' }));
  });
  after(() => env.stop());

  test('plain FTP: every step passes, both passive modes list the folder', async () => {
    const run = await probe([`ftp://alice@127.0.0.1:${env.port}/inbox/`], { env: PASSWORD });
    assert.equal(run.status, 0, run.text);
    assert.deepEqual(outcomes(run), ['connect', 'banner', 'feat', 'login', 'pwd', 'cwd', ...PLAIN_STEPS.slice(5)].map((step) => `${step} ok`));
    assert.equal(stepOf(run, 'epsv-list').details.entries, 1);
    assert.equal(stepOf(run, 'pasv-list').details.entries, 1);
    assert.equal(stepOf(run, 'pasv').details.address, '127.0.0.1');
    assert.equal(run.report.failure, null);
    assert.match(run.text, /^PASSED: 13 steps in \d+ ms$/m);
    assert.ok(!run.text.includes('wonderland') && !JSON.stringify(run.report).includes('wonderland'), 'the password appears nowhere');
  });

  test('explicit TLS (--tls): the certificate verifies with --ca, data connections are TLS', async () => {
    const run = await probe(['--tls', '--ca', ca, `ftp://alice@127.0.0.1:${env.port}/`], { env: PASSWORD });
    assert.equal(run.status, 0, run.text);
    assert.deepEqual(outcomes(run).slice(0, 7), ['connect ok', 'banner ok', 'auth-tls ok', 'certificate ok', 'feat ok', 'login ok', 'protection ok']);
    const tls = run.report.tls!;
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(tls.protocol), tls.protocol);
    assert.equal(tls.chainVerified, true);
    assert.equal(tls.nameVerified, true);
    assert.equal(tls.certificate.subject, 'CN=localhost');
    assert.deepEqual(tls.certificate.subjectAltNames, ['DNS:localhost', 'IP Address:127.0.0.1']);
    assert.ok(tls.certificate.daysLeft >= 28 && tls.certificate.daysLeft <= 30, String(tls.certificate.daysLeft));
    assert.match(stepOf(run, 'epsv-list').summary, / over TLSv1\.[23]/);
    assert.match(stepOf(run, 'pasv-list').summary, / over TLSv1\.[23]/);
  });

  test('ftpes:// is explicit TLS too; an untrusted certificate with --insecure is a warning, not a failure', async () => {
    const run = await probe(['--insecure', `ftpes://alice@127.0.0.1:${env.port}/`], { env: PASSWORD });
    assert.equal(run.status, 0, run.text);
    const certificate = stepOf(run, 'certificate');
    assert.equal(certificate.outcome, 'warning');
    assert.match(certificate.notes.join('\n'), /not verified: it is self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    assert.match(run.text, /^PASSED with 1 warning: /m);
  });

  test('implicit TLS (ftps://): TLS from the first byte, PROT P data connections', async () => {
    const run = await probe(['--ca', ca, `ftps://alice@127.0.0.1:${env.implicitPort}/`], { env: PASSWORD });
    assert.equal(run.status, 0, run.text);
    assert.deepEqual(outcomes(run).slice(0, 6), ['connect ok', 'tls ok', 'certificate ok', 'banner ok', 'feat ok', 'login ok']);
    assert.equal(run.report.target.security, 'implicit-tls');
    assert.match(stepOf(run, 'epsv-list').summary, / over TLSv1\.[23]/);
  });

  test('--write: STOR, SIZE, RETR with byte compare and DELE, leaving nothing in the bucket', async () => {
    const run = await probe(['--write', '--tls', '--ca', ca, `ftp://alice@127.0.0.1:${env.port}/inbox/`], { env: PASSWORD });
    assert.equal(run.status, 0, run.text);
    assert.deepEqual(outcomes(run).slice(-6), ['type ok', 'stor ok', 'size ok', 'retr ok', 'dele ok', 'quit ok']);
    assert.match(stepOf(run, 'retr').summary, /^4096 bytes over TLSv1\.[23].*, identical to the upload; 226 /);
    const file = stepOf(run, 'stor').details.file as string;
    assert.match(file, /^ftp-s3-bridge-probe-[0-9a-f]{12}\.bin$/);
    const upload = env.logs.find((line) => line.event === 'transfer' && line.command === 'STOR' && line.path === `/inbox/${file}`);
    assert.equal(upload?.outcome, 'ok', 'the bridge committed the upload');
    const left = await env.s3.client.send(new ListObjectsV2Command({ Bucket: env.s3.bucket, Prefix: 'partners/alice/inbox/' }));
    assert.deepEqual(left.Contents?.map((object) => object.Key), ['partners/alice/inbox/report.csv']);
  });

  test('--active: EPRT to a listener of the probe, and the bridge connects to it', async () => {
    const run = await probe(['--active', `ftp://alice@127.0.0.1:${env.port}/`], { env: PASSWORD });
    assert.equal(run.status, 0, run.text);
    assert.deepEqual(outcomes(run).slice(-3), ['active ok', 'active-list ok', 'quit ok']);
    assert.match(stepOf(run, 'active').summary, /200 EPRT command successful/);
    assert.match(stepOf(run, 'active-list').summary, /^the server connected to 127\.0\.0\.1:\d+/);
  });

  test('the built entry point: probe --json with the password on standard input, exit status 0', async () => {
    const result = await runMain(['probe', '--json', '--password-stdin', `ftp://alice@127.0.0.1:${env.port}/`], 'wonderland\n');
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as ProbeReport;
    assert.equal(report.ok, true);
    assert.equal(report.tool, 'ftp-s3-bridge probe');
    assert.deepEqual(report.steps.map((step) => step.step), PLAIN_STEPS);
    assert.ok(report.steps.every((step) => typeof step.ms === 'number' && step.ms >= 0));
  });

  test('the built entry point: exit status 1 for a failed step, 2 for usage errors', async () => {
    const failed = await runMain(['probe', `ftp://alice@127.0.0.1:${env.port}/`], '', { FTP_PROBE_PASSWORD: 'not the password' });
    assert.equal(failed.status, 1, failed.stdout);
    assert.match(failed.stdout, /FAILED at login \(login\)/);
    for (const args of [['probe'], ['probe', 'http://example.com/'], ['probe', '--bogus', 'ftp://h/'], ['probe', '--timeout', 'soon', 'ftp://h/'], ['probe', 'ftp://bob@127.0.0.1/']]) {
      const usage = await runMain(args, '');
      assert.equal(usage.status, 2, `${args.join(' ')}: ${usage.stdout}${usage.stderr}`);
      assert.match(usage.stderr, /^ftp-s3-bridge probe: .+\n\(node runtime\/dist\/main\.js probe --help lists the options\)\n$/);
    }
    const help = await runMain(['--help'], '');
    assert.match(help.stdout, /probe URL +check an FTP\/FTPS server step by step/);
    // The probe's usage names the program as the main usage does.
    const program = /^Usage: (.+?) \[/.exec(help.stdout)?.[1];
    assert.equal(program, 'node runtime/dist/main.js');
    const probeHelp = await runMain(['probe', '--help'], '');
    assert.equal(probeHelp.status, 0);
    assert.ok(probeHelp.stdout.startsWith(`Usage: ${program} probe [options] URL\n`), probeHelp.stdout);
  });
});

/** The built main.js as a child process; asynchronous, since the bridge it talks to runs in this process. */
async function runMain(args: string[], input: string, env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { status, stdout, stderr };
}

describe('probe against the bridge on IPv6', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ env: { FTP_LISTEN_ADDRESS: '::1' } });
  });
  after(() => env.stop());

  test('EPSV carries the data connections; PASV, IPv4 only, is skipped and not a failure', async () => {
    const run = await probe(['--write', `ftp://alice@[::1]:${env.port}/`], { env: PASSWORD });
    assert.equal(run.status, 0, run.text);
    assert.equal(stepOf(run, 'pasv').outcome, 'skipped');
    assert.equal(stepOf(run, 'pasv').summary, 'not offered: 522 PASV needs IPv4; use EPSV (2).');
    assert.match(stepOf(run, 'epsv-connect').summary, /^\[::1\]:\d+ from \[::1\]:\d+$/);
    assert.equal(stepOf(run, 'retr').outcome, 'ok');
  });
});
