import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';

/**
 * An outside TLS scanner against the bridge on loopback: Debian's testssl.sh on the
 * implicit-TLS port and with `--starttls ftp` (AUTH TLS) on the control port. Its
 * verdict must be clean: no finding rated LOW or worse, nothing "VULNERABLE" or
 * "NOT ok", and only known-harmless warnings (a scan that could not run a check warns).
 *
 * Checks run (about 40 s each here, both ports at once): protocols (-p), cipher
 * categories (-s, CBC is the "AVERAGE" category), forward secrecy (-f), renegotiation
 * (-R) and every vulnerability check (-U: Heartbleed, CCS, ROBOT, CRIME, POODLE,
 * SWEET32, FREAK, DROWN, LOGJAM, BEAST, LUCKY13, RC4, fallback SCSV). Not the
 * certificate (-S): the test's is self-signed, a deployment's is the operator's.
 *
 * Slow, so not part of `npm test`: `npm run test:tls` (CI runs it). Without testssl
 * on PATH it is skipped, except in CI (CI=true or INTEROP_REQUIRE_CLIENTS=1), where
 * that fails.
 */
const REQUIRED = process.env.INTEROP_REQUIRE_CLIENTS === '1' || /^(true|1)$/i.test(process.env.CI ?? '');
const TESTSSL = spawnSync('sh', ['-c', 'command -v testssl || command -v testssl.sh'], { encoding: 'utf8' }).stdout.trim();
const CHECKS = ['-p', '-s', '-f', '-R', '-U'];
/** Findings every complete run of those checks reports: without them the scan did not run. */
const EXPECTED_IDS = ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3', 'cipherlist_AVERAGE', 'PFS', 'secure_renego', 'secure_client_renego', 'heartbleed', 'LUCKY13', 'ROBOT', 'SWEET32'];
/** Warnings that say nothing about the server: this openssl build has no GOST engine. */
const HARMLESS_WARNINGS = new Set(['engine_problem']);
const BAD_SEVERITIES = new Set(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);
const SCAN_TIMEOUT_MS = 300_000;

interface Finding {
  readonly id: string;
  readonly severity: string;
  readonly finding: string;
}

interface Scan {
  readonly findings: readonly Finding[];
  readonly text: string;
}

async function scan(target: string, extra: readonly string[], dir: string, label: string): Promise<Scan> {
  const jsonFile = join(dir, `${label}.json`);
  const args = ['--quiet', '--warnings', 'off', '--color', '0', '--nodns', 'none', '--connect-timeout', '10', '--openssl-timeout', '10', ...CHECKS, ...extra, '--jsonfile', jsonFile, target];
  const child = spawn(TESTSSL, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), SCAN_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const findings = JSON.parse(await readFile(jsonFile, 'utf8').catch(() => '[]')) as Finding[];
  assert.ok(findings.length > 0, `testssl ${args.join(' ')} wrote no findings (exit ${code}):\n${text}`);
  return { findings, text };
}

function assertClean(result: Scan, label: string): void {
  const ids = new Set(result.findings.map((finding) => finding.id));
  assert.deepEqual(EXPECTED_IDS.filter((id) => !ids.has(id)), [], `${label}: checks missing from the scan:\n${result.text}`);
  const bad = result.findings.filter(
    (finding) =>
      BAD_SEVERITIES.has(finding.severity) ||
      (finding.severity === 'WARN' && !HARMLESS_WARNINGS.has(finding.id)) ||
      /VULNERABLE|NOT ok/.test(finding.finding),
  );
  assert.deepEqual(bad.map((finding) => `${finding.severity} ${finding.id}: ${finding.finding}`), [], `${label}: testssl.sh findings`);
  const lines = result.text.split('\n').filter((line) => /VULNERABLE|NOT ok/.test(line));
  assert.deepEqual(lines, [], `${label}: testssl.sh output`);
}

describe('testssl.sh finds nothing on either TLS port', { skip: !TESTSSL && !REQUIRED ? 'testssl.sh is not installed' : false }, () => {
  let env: TestBridge;
  let dir: string;
  let scans: Promise<[Scan, Scan]>;
  before(async () => {
    assert.ok(TESTSSL, 'testssl.sh is required in CI (Debian package testssl.sh)');
    env = await startTestBridge();
    dir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-testssl-'));
    // Both at once: each waits on timeouts far more than it uses the CPU.
    scans = Promise.all([
      scan(`127.0.0.1:${env.implicitPort}`, [], dir, 'implicit'),
      scan(`127.0.0.1:${env.port}`, ['--starttls', 'ftp'], dir, 'explicit'),
    ]);
    scans.catch(() => undefined);
  });
  after(async () => {
    await scans?.catch(() => undefined);
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('implicit TLS port', async () => {
    assertClean((await scans)[0], 'implicit TLS port');
  });

  test('control port with AUTH TLS (--starttls ftp)', async () => {
    assertClean((await scans)[1], 'control port, AUTH TLS');
  });
});
