import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { outcomes, probe } from '../support/in-process-probe.ts';
import { startTcpForwarder, type TcpForwarder } from '../support/tcp-forwarder.ts';

describe('probe against the bridge: login and session failures', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ env: { FTP_LOCKOUT_FAILURES: '3', FTP_LOCKOUT_SECONDS: '60' } });
  });
  after(() => env.stop());

  test('a wrong password fails at login, and the advice points at the log event that has the reason', async () => {
    const run = await probe([`ftp://alice@127.0.0.1:${env.port}/`], { env: { FTP_PROBE_PASSWORD: 'guess' } });
    assert.equal(run.status, 1, run.text);
    assert.deepEqual(outcomes(run), ['connect ok', 'banner ok', 'feat ok', 'login failed']);
    const failure = run.report.failure!;
    assert.equal(failure.kind, 'login');
    assert.equal(failure.message, 'PASS refused for alice: 530 Login incorrect.');
    assert.match(failure.advice[0]!, /wrong user name or password, a client address the account does not allow, or a lockout/);
    assert.match(failure.advice[0]!, /the log event "login" \(outcome "failed"\) has the reason/);
    const logged = env.logs.filter((line) => line.event === 'login' && line.outcome === 'failed');
    assert.equal(logged.at(-1)?.reason, 'bad-credentials', 'the advice promises what the bridge logs');
  });

  test('active mode off on the server: EPRT and PORT are refused, named as such', async () => {
    const run = await probe(['--active', `ftp://alice@127.0.0.1:${env.port}/`], { env: { FTP_PROBE_PASSWORD: 'wonderland' } });
    assert.equal(run.status, 1, run.text);
    assert.deepEqual(outcomes(run).slice(-2), ['pasv-list ok', 'active failed']);
    assert.equal(
      run.report.failure!.message,
      'the server refuses active mode: EPRT: 502 Active mode is disabled on this server; use PASV or EPSV.; PORT: 502 Active mode is disabled on this server; use PASV or EPSV.',
    );
    assert.match(run.report.failure!.advice[0]!, /^Active mode is off on the server, or not for this client: use passive mode/);
  });

  test('locked out: the right password gets the same 530, and the bridge logs the lockout reason', async () => {
    // A success clears the count: three failures in a row lock 127.0.0.1 out.
    for (let i = 0; i < 3; i++) await probe([`ftp://alice@127.0.0.1:${env.port}/`], { env: { FTP_PROBE_PASSWORD: 'guess' } });
    const run = await probe([`ftp://alice@127.0.0.1:${env.port}/`], { env: { FTP_PROBE_PASSWORD: 'wonderland' } });
    assert.equal(run.status, 1, run.text);
    assert.equal(run.report.failure!.kind, 'login');
    assert.equal(run.report.failure!.message, 'PASS refused for alice: 530 Login incorrect.');
    const logged = env.logs.filter((line) => line.event === 'login' && line.outcome === 'failed');
    assert.equal(logged.at(-1)?.reason, 'locked-out');
    assert.ok(env.logs.some((line) => line.msg === 'login lockout: too many failed logins from this address'));
  });
});

describe('probe against the bridge: TLS required', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ env: { FTP_TLS_MODE: 'required' } });
  });
  after(() => env.stop());

  test('plain FTP to a server that requires TLS fails at login and says to use --tls', async () => {
    const run = await probe([`ftp://alice@127.0.0.1:${env.port}/`], { env: { FTP_PROBE_PASSWORD: 'wonderland' } });
    assert.equal(run.status, 1, run.text);
    assert.equal(run.report.failure!.step, 'login');
    assert.equal(run.report.failure!.kind, 'tls-required');
    assert.equal(run.report.failure!.message, 'the server refuses to log in over plain FTP: 530 TLS is required: send AUTH TLS first.');
    assert.match(run.report.failure!.advice[0]!, new RegExp(`probe ftp://127\\.0\\.0\\.1:${env.port}/ with --tls`));
  });

  test('the same server passes with --tls', async () => {
    const run = await probe(['--tls', '--insecure', `ftp://alice@127.0.0.1:${env.port}/`], { env: { FTP_PROBE_PASSWORD: 'wonderland' } });
    assert.equal(run.status, 0, run.text);
  });
});

describe('probe against the bridge: control and data from different addresses (a NAT with several)', () => {
  let env: TestBridge;
  let nat: TcpForwarder;
  before(async () => {
    env = await startTestBridge();
    // The control connection reaches the bridge from 127.0.0.8, the probe's data connections from 127.0.0.1.
    nat = await startTcpForwarder({ host: '127.0.0.1', target: { host: '127.0.0.1', port: env.port }, sourceAddress: '127.0.0.8' });
  });
  after(async () => {
    await nat.stop();
    await env.stop();
  });

  test('the bridge shuts the data connection and waits: the probe says why, and the bridge logs data-connection-refused', async () => {
    const run = await probe(['--timeout', '3', `ftp://alice@127.0.0.1:${nat.port}/`], { env: { FTP_PROBE_PASSWORD: 'wonderland' } });
    assert.equal(run.status, 1, run.text);
    assert.deepEqual(outcomes(run).slice(-3), ['epsv ok', 'epsv-connect ok', 'epsv-list failed']);
    assert.equal(run.report.failure!.kind, 'timeout');
    assert.equal(run.report.failure!.message, 'final reply to LIST: no answer within 3 s, after the server closed the data connection without a byte');
    assert.match(run.report.failure!.advice[0]!, /^The server did not take the data connection as this session's and still waits for one\. ftp-s3-bridge takes a data connection only from the control connection's address/);
    const refused = env.logs.find((line) => line.event === 'data-connection-refused');
    assert.equal(refused?.clientAddress, '127.0.0.1', 'the bridge refused the data connection from the other address');
  });
});
