import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { RawFtp } from '../support/raw-ftp.ts';

/**
 * One bridge for the file; each test logs in a session of its own, so what one test
 * selects (OPTS MLST, TYPE, the current folder) never reaches another.
 */
describe('command table and session commands', () => {
  let env: TestBridge;
  let ftp: RawFtp;
  before(async () => {
    env = await startTestBridge();
  });
  after(async () => {
    await env.stop();
  });
  beforeEach(async () => {
    ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
  });
  afterEach(async () => {
    await ftp.close();
  });

  test('unknown verbs get 500, recognised but unimplemented 502, argument rules 501', async () => {
    assert.equal((await ftp.command('FROB x')).code, 500);
    assert.equal((await ftp.command('ACCT billing')).code, 502);
    assert.equal((await ftp.command('CWD')).code, 501);
    assert.equal((await ftp.command('PWD extra')).code, 501);
    assert.equal((await ftp.command('noop')).code, 200, 'verbs are case-insensitive');
  });

  test('FEAT is generated from the command table', async () => {
    const reply = await ftp.command('FEAT', 211);
    const features = reply.lines.slice(1, -1).map((line) => line.trim());
    for (const feature of ['UTF8', 'SIZE', 'MDTM', 'REST STREAM', 'EPSV', 'AUTH TLS', 'PBSZ', 'PROT']) {
      assert.ok(features.includes(feature), `FEAT lists ${feature}`);
    }
    assert.ok(features.includes('MLST type*;size*;modify*;perm*;'));
    assert.ok(!features.includes('EPRT'), 'active mode is off by default');
    assert.ok(reply.lines.slice(1, -1).every((line) => line.startsWith(' ')), 'feature lines start with a space');
  });

  test('HELP lists the commands; HELP <verb> gives its syntax', async () => {
    const all = await ftp.command('HELP', 214);
    const text = all.lines.join(' ');
    for (const verb of ['USER', 'RETR', 'STOR', 'MLSD', 'EPSV', 'AUTH', 'XPWD']) assert.match(text, new RegExp(`\\b${verb}\\b`));
    assert.doesNotMatch(text, /\bACCT\b/, 'unimplemented verbs are not advertised');
    assert.match((await ftp.command('HELP retr', 214)).text, /RETR <path>/);
    assert.equal((await ftp.command('HELP FROB')).code, 502);
  });

  test('SYST, NOOP, CLNT, ALLO, MODE, STRU, TYPE', async () => {
    assert.equal((await ftp.command('SYST', 215)).text, 'UNIX Type: L8');
    await ftp.command('CLNT curl 8', 200);
    await ftp.command('ALLO 1000', 202);
    await ftp.command('MODE S', 200);
    await ftp.command('MODE B', 504);
    await ftp.command('STRU F', 200);
    await ftp.command('STRU R', 504);
    await ftp.command('TYPE I', 200);
    await ftp.command('TYPE L 8', 200);
    await ftp.command('TYPE A', 200);
    await ftp.command('TYPE A N', 200);
    await ftp.command('TYPE E', 504);
    await ftp.command('TYPE Q', 501);
  });

  test('OPTS UTF8 ON and OPTS MLST select facts', async () => {
    await ftp.command('OPTS UTF8 ON', 200);
    const mlst = await ftp.command('OPTS MLST size;type;', 200);
    assert.match(mlst.text, /MLST OPTS size;type;/);
    const feat = await ftp.command('FEAT', 211);
    assert.ok(feat.lines.some((line) => line.trim() === 'MLST type*;size*;modify;perm;'));
    await ftp.command('OPTS FROB', 501);
  });

  test('STAT without argument describes the session; STAT <path> lists over the control connection', async () => {
    const status = await ftp.command('STAT', 211);
    assert.ok(status.lines.some((line) => line.includes('Logged in as alice')));
    await ftp.command('MKD stat-dir', 257);
    const listing = await ftp.command('STAT /', 213);
    assert.ok(listing.lines.some((line) => / stat-dir$/.test(line) && line.trim().startsWith('d')));
    await ftp.command('STAT /missing', 550);
  });

  test('a command line longer than 4 KiB gets 500 and the session goes on', async () => {
    ftp.send(`NOOP ${'x'.repeat(10_000)}`);
    assert.equal((await ftp.read()).code, 500);
    await ftp.command('NOOP', 200);
  });

  test('pipelined commands are answered in order', async () => {
    ftp.send(Buffer.from('NOOP\r\nSYST\r\nPWD\r\n'));
    assert.equal((await ftp.read()).code, 200);
    assert.equal((await ftp.read()).code, 215);
    assert.equal((await ftp.read()).code, 257);
  });

  test('a lone CR or LF ends a line, and Telnet IAC sequences are ignored', async () => {
    ftp.send(Buffer.from('NOOP\r'));
    assert.equal((await ftp.read()).code, 200);
    ftp.send(Buffer.from('SYST\n'));
    assert.equal((await ftp.read()).code, 215);
    ftp.send(Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('ABOR\r\n')]));
    assert.equal((await ftp.read()).code, 225);
  });

  test('257 doubles quotes in paths (RFC 959 appendix II)', async () => {
    const reply = await ftp.command('MKD say "hi"', 257);
    assert.equal(reply.text.slice(0, reply.text.lastIndexOf('"') + 1), '"/say ""hi"""');
    await ftp.command('CWD say "hi"', 250);
    assert.match((await ftp.command('PWD', 257)).text, /^"\/say ""hi""" /);
  });
});
