import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { partnerRuleSentence } from '../../runtime/src/probe/partner-rules.ts';
import { freePort, startTestBridge, type TestBridge } from '../support/bridge.ts';
import { startBlackhole, type Blackhole } from '../support/blackhole.ts';
import { outcomes, probe, stepOf } from '../support/in-process-probe.ts';
import { startTcpForwarder, type TcpForwarder } from '../support/tcp-forwarder.ts';

const PASSWORD = { FTP_PROBE_PASSWORD: 'wonderland' };
/**
 * Short, so the timeouts cost little, yet long enough that the steps before the one that
 * times out (login, a listing from S3) finish within it on a loaded machine; a dropped
 * SYN is not retried within it, a refusal comes back at once.
 */
const TIMEOUT = ['--timeout', '3'];

/** A timeout took its time: a refusal mislabelled as a timeout would take milliseconds. */
function assertTookTimeout(ms: number): void {
  assert.ok(ms >= 2950 && ms < 15_000, `the step took ${ms} ms, expected about 3 s`);
}

describe('probe against the bridge: the announced PASV address is wrong', () => {
  let env: TestBridge;
  before(async () => {
    // 127.0.0.2 is loopback, so nothing leaves the machine, and nothing listens there.
    env = await startTestBridge({ env: { FTP_PASSIVE_ADDRESS: '127.0.0.2' } });
  });
  after(() => env.stop());

  test('EPSV passes, PASV warns and its data connection is refused; the advice names the address setting and the rule', async () => {
    const run = await probe([...TIMEOUT, `ftp://alice@127.0.0.1:${env.port}/`], { env: PASSWORD });
    assert.equal(run.status, 1, run.text);
    assert.deepEqual(outcomes(run).slice(4), ['pwd ok', 'epsv ok', 'epsv-connect ok', 'epsv-list ok', 'pasv warning', 'pasv-connect failed']);
    assert.match(stepOf(run, 'pasv').notes[0]!, /^warning: PASV announces 127\.0\.0\.2, but the control connection went to 127\.0\.0\.1$/);
    const port = stepOf(run, 'pasv').details.port as number;
    const failure = run.report.failure!;
    assert.equal(failure.step, 'pasv-connect');
    assert.equal(failure.kind, 'refused');
    assert.equal(failure.message, `data connection to 127.0.0.2:${port} (PASV): connection refused: nothing listens, or a firewall rejects`);
    assert.match(stepOf(run, 'pasv-connect').notes[0]!, new RegExp(`^127\\.0\\.0\\.1:${port} \\(the control connection's address, same port\\) accepts$`));
    assert.match(failure.advice[0]!, /^The address in the PASV reply is wrong: the same port accepts at 127\.0\.0\.1, where the control connection went\. Set the server's passive address \(ftp-s3-bridge: FTP_PASSIVE_ADDRESS/);
    assert.equal(failure.advice[1], partnerRuleSentence('passive', { ports: { from: port, to: port }, bridge: '127.0.0.2' }));
  });

  test('with --passive-range, the advice names the whole range', async () => {
    const { first, last } = env.config.passivePorts;
    const run = await probe([...TIMEOUT, '--passive-range', `${first}-${last}`, `ftp://alice@127.0.0.1:${env.port}/`], { env: PASSWORD });
    assert.equal(run.status, 1, run.text);
    const sentence = partnerRuleSentence('passive', { ports: { from: first, to: last }, bridge: '127.0.0.2' });
    assert.equal(run.report.failure!.advice[1], sentence);
    assert.match(sentence, new RegExp(`^The passive range \\(TCP ports ${first}-${last}\\) must be open outbound from your network to 127\\.0\\.0\\.2: `));
    assert.ok(run.text.includes(`  - ${sentence}`), run.text);
  });
});

describe('probe against the bridge behind a forwarder of the control port only', () => {
  let env: TestBridge;
  let closed: TcpForwarder;
  let dropped: TcpForwarder;
  let blackhole: Blackhole;
  before(async () => {
    env = await startTestBridge();
    // Like a load balancer without passive listeners: EPSV sends the client to 127.0.0.4, where the ports are closed...
    closed = await startTcpForwarder({ host: '127.0.0.4', target: { host: '127.0.0.1', port: env.port } });
    // ...or, at 127.0.0.5, dropped (a firewall that drops the passive range).
    dropped = await startTcpForwarder({ host: '127.0.0.5', target: { host: '127.0.0.1', port: env.port } });
    blackhole = await startBlackhole({ host: '127.0.0.5', ports: env.bridge.passivePorts });
  });
  after(async () => {
    await blackhole.stop();
    await closed.stop();
    await dropped.stop();
    await env.stop();
  });

  test('closed passive ports: the EPSV data connection is refused, and the advice is the passive rule', async () => {
    // The default 5 s: a refusal mistaken for a timeout would take all of it.
    const run = await probe([`ftp://alice@127.0.0.4:${closed.port}/`], { env: PASSWORD });
    assert.equal(run.status, 1, run.text);
    assert.deepEqual(outcomes(run).slice(-3), ['pwd ok', 'epsv ok', 'epsv-connect failed']);
    const port = stepOf(run, 'epsv').details.port as number;
    const failure = run.report.failure!;
    assert.equal(failure.kind, 'refused');
    assert.equal(failure.message, `data connection to 127.0.0.4:${port} (EPSV): connection refused: nothing listens, or a firewall rejects`);
    assert.equal(failure.advice[0], partnerRuleSentence('passive', { ports: { from: port, to: port }, bridge: '127.0.0.4' }));
    assert.match(failure.advice[1]!, /^A refusal comes back at once: nothing listens on that port/);
    assert.ok(stepOf(run, 'epsv-connect').ms < 2500, 'a refusal is immediate');
  });

  test('dropped passive ports: the EPSV data connection times out ("no answer within 3 s")', async () => {
    const run = await probe([...TIMEOUT, `ftp://alice@127.0.0.5:${dropped.port}/`], { env: PASSWORD });
    assert.equal(run.status, 1, run.text);
    const port = stepOf(run, 'epsv').details.port as number;
    const failure = run.report.failure!;
    assert.equal(failure.step, 'epsv-connect');
    assert.equal(failure.kind, 'timeout');
    assert.equal(failure.message, `data connection to 127.0.0.5:${port} (EPSV): no answer within 3 s: a firewall drops the packets, or nothing routes to 127.0.0.5`);
    assert.equal(failure.advice[0], partnerRuleSentence('passive', { ports: { from: port, to: port }, bridge: '127.0.0.5' }));
    assert.match(failure.advice[1]!, /^No answer at all usually means a firewall drops the packets/);
    assertTookTimeout(stepOf(run, 'epsv-connect').ms);
  });
});

describe('probe: the control port itself', () => {
  let blackhole: Blackhole;
  before(async () => {
    blackhole = await startBlackhole({ host: '127.0.0.6' });
  });
  after(() => blackhole.stop());

  test('nothing listens: connect is refused, and the advice is the control-port rule', async () => {
    const port = await freePort();
    const run = await probe([...TIMEOUT, `ftp://127.0.0.1:${port}/`]);
    assert.equal(run.status, 1, run.text);
    assert.deepEqual(outcomes(run), ['connect failed']);
    assert.equal(run.report.failure!.kind, 'refused');
    assert.equal(run.report.failure!.message, `TCP connect to 127.0.0.1:${port}: connection refused: nothing listens, or a firewall rejects`);
    assert.equal(run.report.failure!.advice[0], partnerRuleSentence('control', { ports: { from: port, to: port }, bridge: '127.0.0.1' }));
  });

  test('packets dropped: connect times out; on ftps:// the advice is the implicit-TLS rule', async () => {
    const [port] = blackhole.ports;
    const plain = await probe([...TIMEOUT, `ftp://127.0.0.6:${port}/`]);
    assert.equal(plain.report.failure!.kind, 'timeout');
    assert.match(plain.report.failure!.message, /^TCP connect to 127\.0\.0\.6:\d+: no answer within 3 s: a firewall drops the packets/);
    assert.equal(plain.report.failure!.advice[0], partnerRuleSentence('control', { ports: { from: port!, to: port! }, bridge: '127.0.0.6' }));
    assertTookTimeout(stepOf(plain, 'connect').ms);
    const implicit = await probe([...TIMEOUT, `ftps://127.0.0.6:${port}/`]);
    assert.equal(implicit.report.failure!.kind, 'timeout');
    assert.equal(implicit.report.failure!.advice[0], partnerRuleSentence('implicit-tls', { ports: { from: port!, to: port! }, bridge: '127.0.0.6' }));
  });
});
