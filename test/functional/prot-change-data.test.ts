import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startTestBridge } from '../support/bridge.ts';
import { RawFtp, readAll, writeAll } from '../support/raw-ftp.ts';
import { storedBody } from '../support/s3-server.ts';

/**
 * A passive data connection is set up (TLS or not) when it arrives, which may be before
 * the transfer command. A client that connects in clear under PROT C and then sends
 * PROT P must not get that clear connection used for a transfer the session now calls
 * protected: with FTP_TLS_MODE=required that was a way around "no transfers without
 * PROT P" (and around the close_notify and session-resumption checks of PROT P).
 */
describe('PROT changed after the data connection arrived', () => {
  test('FTP_TLS_MODE=required: a clear data connection made before PROT P carries no upload and no download', async (t) => {
    const env = await startTestBridge({ env: { FTP_TLS_MODE: 'required', FTP_TLS_HANDSHAKE_TIMEOUT_SECONDS: '2' } });
    t.after(() => env.stop());
    const ftp = await RawFtp.connect(env.port);
    t.after(() => ftp.close());
    await ftp.expect(220);
    await ftp.upgrade(); // AUTH TLS resets the protection to C (RFC 4217)
    await ftp.command('USER alice', 331);
    await ftp.command('PASS wonderland', 230);
    await ftp.command('PBSZ 0', 200);
    await ftp.command('TYPE I', 200);

    let data = await ftp.passive({ tls: false });
    await ftp.command('PROT P', 200);
    const stor = await ftp.command('STOR in-clear.txt');
    if (stor.code === 150) {
      await writeAll(data, 'sent in clear');
      const end = await ftp.read();
      assert.notEqual(end.code, 226, 'an upload in clear was accepted under PROT P');
    } else {
      assert.equal(stor.code, 425);
    }
    data.destroy();
    assert.equal(await storedBody(env.s3, 'partners/alice/in-clear.txt'), undefined, 'nothing sent in clear is stored');

    // A download the same way: nothing leaves in clear.
    data = await ftp.passive({ tls: true });
    await ftp.command('STOR secret.txt', 150);
    await writeAll(data, 'only over TLS');
    await ftp.expect(226);
    await ftp.command('PROT C', 534); // refused by policy: still P
    data = await ftp.passive({ tls: false });
    data.on('error', () => undefined);
    const received = readAll(data).catch(() => Buffer.alloc(0));
    const retr = await ftp.command('RETR secret.txt');
    if (retr.code === 150) await ftp.read();
    assert.equal((await received).toString().includes('only over TLS'), false, 'the file went out in clear');
  });
});
