import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, test } from 'node:test';
import { startProxiedTestBridge } from '../support/bridge.ts';
import { RawFtp } from '../support/raw-ftp.ts';

/**
 * A rename copies every object it moves inside S3: a new object and an "Object Created"
 * event each, like the time changes FTP_TIME_CHANGES_PER_HOUR bounds. RNFR/RNTO back and
 * forth, of a file or of a folder of up to FTP_RENAME_MAX_OBJECTS objects, made copies
 * without any bound per user.
 */
describe('renames are bounded per user (FTP_RENAME_OBJECTS_PER_HOUR)', () => {
  test('past the allowance a rename is refused whole with 450, across sessions, and copies nothing', async (t) => {
    const proxied = await startProxiedTestBridge({ bridge: { env: { FTP_RENAME_OBJECTS_PER_HOUR: '5' } } });
    t.after(() => proxied.stop());
    const { env, proxy } = proxied;
    for (const key of ['folder/', 'folder/a', 'folder/b', 'folder/c', 'file.txt']) {
      await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: `partners/alice/${key}`, Body: key.endsWith('/') ? '' : 'x' }));
    }
    const one = await RawFtp.login(env.port, 'alice', 'wonderland');
    const two = await RawFtp.login(env.port, 'alice', 'wonderland');
    t.after(() => Promise.all([one.close(), two.close()]));
    await one.command('RNFR folder', 350);
    await one.command('RNTO moved', 250); // 4 objects (the marker and three files)
    const copies = proxy.count('CopyObject');
    await two.command('RNFR moved', 350);
    const refused = await two.command('RNTO folder');
    assert.equal(refused.code, 450, refused.text);
    assert.equal(proxy.count('CopyObject'), copies, 'a refused rename copies nothing');
    await two.command('RNFR file.txt', 350);
    await two.command('RNTO renamed.txt', 250); // the fifth object
    await one.command('RNFR renamed.txt', 350);
    assert.equal((await one.command('RNTO file.txt')).code, 450);
    assert.ok(env.logs.some((line) => line.event === 'allowance-exceeded' && line.allowance === 'renamed-objects'));
  });
});
