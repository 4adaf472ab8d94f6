import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, test } from 'node:test';
import { startProxiedTestBridge } from '../support/bridge.ts';
import { listOver, RawFtp } from '../support/raw-ftp.ts';

/**
 * LIST with a pattern (what mget sends) shows only the names that match, but asked S3
 * for the client-set time of every file in the folder first: `LIST dir/none*` in a
 * folder of 60 files cost 60 HeadObjects for an empty listing, again after every
 * change of the folder.
 */
describe('LIST with a pattern', () => {
  test('asks S3 for the times of the files it shows, not of every file in the folder', async (t) => {
    const proxied = await startProxiedTestBridge();
    t.after(() => proxied.stop());
    const { env, proxy } = proxied;
    await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/dir/', Body: '' }));
    await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: `partners/alice/dir/file-${index}.txt`, Body: 'x' })),
      ),
    );
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    t.after(() => ftp.close());
    let heads = proxy.count('HeadObject');
    assert.equal(await listOver(ftp, 'LIST dir/none*', false), '');
    const forNone = proxy.count('HeadObject') - heads;
    heads = proxy.count('HeadObject');
    const two = await listOver(ftp, 'LIST dir/file-1?.txt', false);
    assert.equal(two.trim().split('\r\n').length, 10);
    const forTen = proxy.count('HeadObject') - heads;
    // The folder's own stat may cost one HEAD; the files shown one each.
    assert.ok(forNone <= 1, `${forNone} HeadObjects for a listing that shows nothing`);
    assert.ok(forTen <= 11, `${forTen} HeadObjects for a listing of 10 files`);
  });
});
