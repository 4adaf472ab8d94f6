import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, test } from 'node:test';
import { startProxiedTestBridge } from '../support/bridge.ts';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';
import { storedBody } from '../support/s3-server.ts';

/**
 * A resume or append whose kept start cannot be copied inside S3 (below 5 MiB, the
 * smallest part S3 copies; or a '%' name on a store that copies those wrong) reads
 * the kept bytes from S3 and uploads them again. REST 5241855 + STOR of 1 byte, 40
 * times: 200 MiB read and 200 MiB written for 40 bytes sent, without a bound per user.
 * Now those bytes count against FTP_READ_BACK_MIB_PER_HOUR.
 */
describe('bytes read back for resumes and appends are bounded per user (FTP_READ_BACK_MIB_PER_HOUR)', () => {
  test('past the allowance an append is refused with 450 and reads nothing; across sessions', async (t) => {
    const proxied = await startProxiedTestBridge({ bridge: { env: { FTP_READ_BACK_MIB_PER_HOUR: '1' } } });
    t.after(() => proxied.stop());
    const { env, proxy } = proxied;
    const kept = Buffer.alloc(600 * 1024, 7);
    await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/log.bin', Body: kept }));
    const one = await RawFtp.login(env.port, 'alice', 'wonderland');
    const two = await RawFtp.login(env.port, 'alice', 'wonderland');
    t.after(() => Promise.all([one.close(), two.close()]));
    await one.command('TYPE I', 200);
    await two.command('TYPE I', 200);
    let data = await one.passive();
    await one.command('APPE log.bin', 150);
    await writeAll(data, 'a');
    await one.expect(226); // 600 KiB of the 1 MiB read back
    const reads = proxy.count('GetObject');
    data = await two.passive();
    data.on('error', () => undefined);
    await two.command(`REST ${kept.length}`, 350);
    await two.command('STOR log.bin', 150);
    data.end('b');
    const refused = await two.read();
    assert.equal(refused.code, 450, refused.text);
    assert.equal(proxy.count('GetObject'), reads, 'nothing read for a refused append');
    assert.deepEqual(await storedBody(env.s3, 'partners/alice/log.bin'), Buffer.concat([kept, Buffer.from('a')]));
    assert.ok(env.logs.some((line) => line.event === 'allowance-exceeded' && line.allowance === 'read-back-bytes'));
    // A new file (nothing kept) is not refused.
    data = await two.passive();
    await two.command('STOR other.bin', 150);
    await writeAll(data, 'c');
    await two.expect(226);
  });
});
