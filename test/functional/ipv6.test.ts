import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { RawFtp, readAll, writeAll } from '../support/raw-ftp.ts';

describe('IPv6', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({
      storage: 'memory',
      env: { FTP_LISTEN_ADDRESS: '::1', FTP_ACTIVE_MODE: 'on', FTP_LOCKOUT_FAILURES: '100' },
      users: [
        { username: 'alice', password: 'wonderland' },
        { username: 'v6only', password: 'secret', allowFrom: ['::1/128'] },
        { username: 'elsewhere', password: 'secret', allowFrom: ['2001:db8::/32', '127.0.0.1'] },
      ],
    });
  });
  after(() => env.stop());

  test('EPSV carries transfers over IPv6; PASV cannot and says so (522)', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland', { host: '::1' });
    await ftp.command('PASV', 522);
    await ftp.command('EPSV 1', 522);
    let data = await ftp.passive();
    await ftp.command('STOR v6.txt', 150);
    await writeAll(data, 'over IPv6');
    await ftp.expect(226);
    data = await ftp.passive();
    await ftp.command('RETR v6.txt', 150);
    assert.equal((await readAll(data)).toString(), 'over IPv6');
    await ftp.expect(226);
    await ftp.close();
  });

  test('EPRT |2| connects back to the IPv6 client; |1| is refused as the wrong protocol', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland', { host: '::1' });
    const server = createServer();
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    server.listen(0, '::1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as { port: number };
      await ftp.command(`EPRT |1|127.0.0.1|${port}|`, 522);
      await ftp.command(`EPRT |2|::1|${port}|`, 200);
      await ftp.command('RETR v6.txt', 150);
      assert.equal((await readAll(await accepted)).toString(), 'over IPv6');
      await ftp.expect(226);
    } finally {
      server.close();
      await ftp.close();
    }
  });

  test('allowFrom matches IPv6 clients by IPv6 CIDR', async () => {
    const allowed = await RawFtp.login(env.port, 'v6only', 'secret', { host: '::1' });
    await allowed.close();
    const refused = await RawFtp.connect(env.port, { host: '::1' });
    await refused.expect(220);
    await refused.command('USER elsewhere', 331);
    await refused.command('PASS secret', 530);
    await refused.close();
  });
});
