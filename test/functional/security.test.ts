import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { openData, RawFtp, readAll, writeAll } from '../support/raw-ftp.ts';

describe('confinement to the home folder', () => {
  let env: TestBridge;
  let ftp: RawFtp;
  before(async () => {
    env = await startTestBridge();
    await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/bob/secret.txt', Body: 'bob only' }));
    await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: 'top-level.txt', Body: 'root' }));
    ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
  });
  after(async () => {
    await ftp.close();
    await env.stop();
  });

  const hostile = [
    '../bob/secret.txt',
    '../../top-level.txt',
    '/../../top-level.txt',
    '..\\bob\\secret.txt',
    '\\..\\..\\top-level.txt',
    '//../bob/secret.txt',
    'a/../../bob/secret.txt',
    './../bob/./secret.txt',
    '%2e%2e/bob/secret.txt',
    '%2e%2e%2fbob%2fsecret.txt',
    '....//bob/secret.txt',
  ];

  test('no spelling of a path reads outside the home folder', async () => {
    for (const path of hostile) {
      const size = await ftp.command(`SIZE ${path}`);
      assert.equal(size.code, 550, `SIZE ${path}: ${size.text}`);
      const data = await ftp.passive();
      const retr = await ftp.command(`RETR ${path}`);
      if (retr.code === 150) {
        const body = (await readAll(data)).toString();
        assert.fail(`RETR ${path} returned ${JSON.stringify(body)}`);
      }
      assert.equal(retr.code, 550, `RETR ${path}`);
      data.destroy();
    }
  });

  test('no spelling of a path writes outside the home folder', async () => {
    for (const [index, path] of ['../bob/planted.txt', '..\\..\\planted.txt', '/../../../planted.txt'].entries()) {
      const data = await ftp.passive();
      const reply = await ftp.command(`STOR ${path}`);
      if (reply.code === 150) {
        await writeAll(data, `planted ${index}`);
        await ftp.expect(226);
      } else data.destroy();
    }
    for (const key of ['partners/bob/planted.txt', 'planted.txt', 'partners/planted.txt']) {
      await assert.rejects(env.s3.client.send(new GetObjectCommand({ Bucket: env.s3.bucket, Key: key })), `${key} must not exist`);
    }
    // What '..' above the root does resolve to: the home folder itself, like a chroot.
    assert.equal(
      await (await env.s3.client.send(new GetObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/planted.txt' }))).Body!.transformToString(),
      'planted 2',
    );
  });

  test('CWD above the root stays at the root', async () => {
    await ftp.command('CWD ../../..', 250);
    assert.match((await ftp.command('PWD', 257)).text, /^"\/" /);
  });

  test('NUL, control characters and over-long paths are refused with 553', async () => {
    assert.equal((await ftp.command('SIZE a\u0000b')).code, 553);
    assert.equal((await ftp.command('MKD a\u0007b')).code, 553);
    assert.equal((await ftp.command(`MKD ${'x'.repeat(1100)}`)).code, 553);
    assert.equal((await ftp.command(`CWD ${'abc/'.repeat(300)}`)).code, 553);
  });
});

describe('data connections', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ env: { FTP_DATA_TIMEOUT_SECONDS: '2' } });
  });
  after(() => env.stop());

  test('a connection to a reserved passive port from another address is closed unread', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const port = await ftp.passivePort();
    const intruder = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    intruder.on('error', () => undefined);
    const [intruderData] = await Promise.all([readAll(intruder).catch(() => Buffer.alloc(0)), once(intruder, 'close')]);
    assert.equal(intruderData.length, 0);
    const data = await openData({ port });
    await ftp.command('LIST', 150);
    await readAll(data);
    await ftp.expect(226);
    await ftp.close();
    assert.ok(env.logs.some((line) => line.event === 'data-connection-refused' && line.clientAddress === '127.0.0.2'));
  });

  test('sessions from different addresses share one passive port; each gets its own data', async () => {
    const single = await startTestBridge({ env: { FTP_PASSIVE_PORTS: '47321-47321' } }).catch(() => undefined);
    if (!single) return assert.fail('could not bind the single passive port 47321');
    try {
      const first = await RawFtp.login(single.port, 'alice', 'wonderland', { localAddress: '127.0.0.1' });
      const second = await RawFtp.login(single.port, 'alice', 'wonderland', { localAddress: '127.0.0.3' });
      for (const [ftp, name] of [[first, 'one.txt'], [second, 'two.txt']] as const) {
        const data = await ftp.passive();
        await ftp.command(`STOR ${name}`, 150);
        await writeAll(data, name);
        await ftp.expect(226);
      }
      const [portA, portB] = [await first.passivePort(), await second.passivePort()];
      assert.equal(portA, 47321);
      assert.equal(portB, 47321);
      const dataB = await openData({ port: portB, localAddress: '127.0.0.3' });
      const dataA = await openData({ port: portA, localAddress: '127.0.0.1' });
      await second.command('RETR two.txt', 150);
      await first.command('RETR one.txt', 150);
      assert.equal((await readAll(dataA)).toString(), 'one.txt');
      assert.equal((await readAll(dataB)).toString(), 'two.txt');
      await first.expect(226);
      await second.expect(226);
      await first.close();
      await second.close();
    } finally {
      await single.stop();
    }
  });

  test('PORT and EPRT are refused while active mode is off', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('PORT 127,0,0,1,200,10', 502);
    await ftp.command('EPRT |1|127.0.0.1|51210|', 502);
    await ftp.close();
  });
});

describe('active mode (FTP_ACTIVE_MODE=on)', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ env: { FTP_ACTIVE_MODE: 'on' } });
  });
  after(() => env.stop());

  async function listener(host: string): Promise<{ port: number; accepted: Promise<Socket>; close: () => void }> {
    const server = createServer();
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    server.listen(0, host);
    await once(server, 'listening');
    return { port: (server.address() as { port: number }).port, accepted, close: () => server.close() };
  }

  test('PORT and EPRT to the client itself carry data', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const target = await listener('127.0.0.1');
    try {
      await ftp.command(`PORT 127,0,0,1,${target.port >> 8},${target.port & 0xff}`, 200);
      await ftp.command('STOR active.txt', 150);
      await writeAll(await target.accepted, 'sent actively');
      await ftp.expect(226);
    } finally {
      target.close();
    }
    const back = await listener('127.0.0.1');
    try {
      await ftp.command(`EPRT |1|127.0.0.1|${back.port}|`, 200);
      await ftp.command('RETR active.txt', 150);
      assert.equal((await readAll(await back.accepted)).toString(), 'sent actively');
      await ftp.expect(226);
    } finally {
      back.close();
    }
    const feat = await ftp.command('FEAT', 211);
    assert.ok(feat.lines.some((line) => line.trim() === 'EPRT'));
    await ftp.close();
  });

  test('no FTP bounce: other addresses and ports below 1024 are refused', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('PORT 127,0,0,2,200,10', 501);
    await ftp.command('PORT 10,0,0,1,200,10', 501);
    await ftp.command('PORT 127,0,0,1,0,25', 501);
    await ftp.command('EPRT |1|127.0.0.9|51210|', 501);
    await ftp.command('EPRT |2|::1|51210|', 522);
    await ftp.command('PORT 1,2,3', 501);
    await ftp.command('EPRT garbage', 501);
    await ftp.close();
    await delay(10);
  });
});

describe('S3_PREFIX', () => {
  test('homes live below the root prefix, and nothing outside it is reachable', async () => {
    const env = await startTestBridge({ env: { S3_PREFIX: '/ftp-root/' }, users: [{ username: 'alice', password: 'wonderland', home: '/' }] });
    try {
      await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: 'outside.txt', Body: 'not yours' }));
      const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
      const data = await ftp.passive();
      await ftp.command('STOR inside.txt', 150);
      await writeAll(data, 'stored below the prefix');
      await ftp.expect(226);
      const stored = await env.s3.client.send(new GetObjectCommand({ Bucket: env.s3.bucket, Key: 'ftp-root/inside.txt' }));
      assert.equal(await stored.Body!.transformToString(), 'stored below the prefix');
      await ftp.command('SIZE ../outside.txt', 550);
      const listing = await ftp.passive();
      await ftp.command('NLST /', 150);
      assert.deepEqual((await readAll(listing)).toString().split('\r\n').filter(Boolean), ['/inside.txt']);
      await ftp.expect(226);
      await ftp.close();
    } finally {
      await env.stop();
    }
  });
});
