import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { RawFtp, readAll, writeAll } from '../support/raw-ftp.ts';

/**
 * FEAT, HELP and the replies follow the store's capabilities: a store without a power
 * is never offered the commands that need it (502, left out of FEAT and HELP), and S3,
 * which has them all, offers what it always did.
 */
const STORE_FEATURES = ['HASH SHA-256*;SHA-1;MD5;CRC32;', 'MD5', 'MFF modify;', 'MFMT', 'XCRC', 'XMD5', 'XSHA1', 'XSHA256'];

async function features(ftp: RawFtp): Promise<string[]> {
  return (await ftp.command('FEAT', 211)).lines.slice(1, -1).map((line) => line.trim());
}

describe('a store with every power (S3)', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge();
  });
  after(() => env.stop());

  test('FEAT offers every checksum and the time commands; folder times are refused naming S3', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const offered = await features(ftp);
    for (const feature of STORE_FEATURES) assert.ok(offered.includes(feature), `FEAT lists ${feature}`);
    await ftp.command('MKD folder', 257);
    assert.equal((await ftp.command('MFMT 20200101000000 folder', 550)).text, 'Folder times cannot be set: S3 keeps none.');
    await ftp.close();
  });
});

describe('a store without the optional powers (memory store: no client times, no append, MD5 only)', () => {
  let env: TestBridge;
  let ftp: RawFtp;
  before(async () => {
    env = await startTestBridge({ storage: 'memory', memoryStore: { clientTimes: false, append: false, checksums: ['md5'] } });
    ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
  });
  after(async () => {
    await ftp.close();
    await env.stop();
  });

  test('FEAT leaves out what the store cannot do, and HASH lists only what it answers', async () => {
    const offered = await features(ftp);
    for (const feature of ['MFMT', 'MFF modify;', 'XCRC', 'XSHA1', 'XSHA256']) assert.ok(!offered.includes(feature), `FEAT leaves out ${feature}`);
    for (const feature of ['HASH MD5*;', 'MD5', 'XMD5', 'SIZE', 'MDTM', 'REST STREAM']) assert.ok(offered.includes(feature), `FEAT lists ${feature}`);
    const help = (await ftp.command('HELP', 214)).lines.join(' ');
    assert.doesNotMatch(help, /\b(MFMT|MFF|APPE|XSHA256)\b/);
    assert.match(help, /\bXMD5\b/);
  });

  test('the commands that need a missing power are 502; OPTS HASH refuses an algorithm it lacks', async () => {
    for (const line of ['MFMT 20200101000000 f', 'MFF modify=20200101000000; f', 'SITE UTIME 20200101000000 f', 'XSHA256 f', 'XCRC f', 'APPE f']) {
      assert.equal((await ftp.command(line)).code, 502, line);
    }
    await ftp.command('OPTS HASH SHA-256', 501);
    assert.equal((await ftp.command('OPTS HASH', 200)).text, 'MD5');
  });

  test('a whole upload works, a resumed one is refused, and the checksum it has is answered', async () => {
    let data = await ftp.passive();
    await ftp.command('STOR f', 150);
    await writeAll(data, 'hello');
    await ftp.expect(226);
    await ftp.command('REST 2', 350);
    await ftp.command('STOR f', 504);
    assert.equal((await ftp.command('XMD5 f', 250)).text, '5D41402ABC4B2A76B9719D911017C592');
    data = await ftp.passive();
    await ftp.command('RETR f', 150);
    assert.equal((await readAll(data)).toString(), 'hello');
    await ftp.expect(226);
  });
});

describe('the memory store with every power', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ storage: 'memory' });
  });
  after(() => env.stop());

  test('offers what S3 does, and keeps what the client sends', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const offered = await features(ftp);
    for (const feature of STORE_FEATURES) assert.ok(offered.includes(feature), `FEAT lists ${feature}`);
    let data = await ftp.passive();
    await ftp.command('STOR f', 150);
    await writeAll(data, 'hello');
    await ftp.expect(226);
    data = await ftp.passive();
    await ftp.command('APPE f', 150);
    await writeAll(data, ' world');
    await ftp.expect(226);
    await ftp.command('MFMT 20200102030405 f', 213);
    assert.equal((await ftp.command('MDTM f', 213)).text, '20200102030405');
    assert.equal((await ftp.command('SIZE f', 213)).text, '11');
    const stored = await env.memoryStore!.read('partners/alice/f');
    assert.equal(Buffer.concat(await stored.body.toArray()).toString(), 'hello world');
    await ftp.command('MKD folder', 257);
    assert.equal((await ftp.command('MFMT 20200101000000 folder', 550)).text, 'Folder times cannot be set: the memory store keeps none.');
    await ftp.close();
  });
});
