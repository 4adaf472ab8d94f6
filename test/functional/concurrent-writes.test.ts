import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startProxiedTestBridge, startTestBridge, type ProxiedTestBridge, type TestBridge } from '../support/bridge.ts';
import type { FaultProxy } from '../support/fault-proxy.ts';
import { RawFtp, writeAll } from '../support/raw-ftp.ts';
import { pendingMultipartUploads, type TestS3 } from '../support/s3-server.ts';

const MIB = 1024 * 1024;
/** Below the 5 MiB part minimum the kept start is re-sent (PutObject); above it, copied server side. */
const BASE_SIZES = [{ label: 'a small file', bytes: 100_000 }, { label: 'a file of 6 MiB', bytes: 6 * MIB }];

async function objectBody(env: TestBridge, key: string): Promise<Buffer> {
  const output = await env.s3.client.send(new GetObjectCommand({ Bucket: env.s3.bucket, Key: key }));
  return Buffer.from(await output.Body!.transformToByteArray());
}

async function putObject(env: TestBridge, key: string, body: Buffer): Promise<void> {
  await env.s3.client.send(new PutObjectCommand({ Bucket: env.s3.bucket, Key: key, Body: body }));
}

/** A store with a STOR of `replacement` that completes while `command` (APPE or REST+STOR) is still receiving. */
async function raceWithStor(env: TestBridge, options: { name: string; command: string; rest?: number; replacement: Buffer }) {
  const resumer = await RawFtp.login(env.port, 'alice', 'wonderland');
  const other = await RawFtp.login(env.port, 'alice', 'wonderland');
  await resumer.command('TYPE I', 200);
  await other.command('TYPE I', 200);
  const data = await resumer.passive();
  if (options.rest !== undefined) await resumer.command(`REST ${options.rest}`, 350);
  await resumer.command(`${options.command} ${options.name}`, 150);
  data.write('appended while another upload replaced the file');
  const otherData = await other.passive();
  await other.command(`STOR ${options.name}`, 150);
  await writeAll(otherData, options.replacement);
  await other.expect(226);
  await writeAll(data, '');
  const reply = await resumer.read();
  await Promise.all([resumer.close(), other.close()]);
  return reply;
}

describe('a resume or append races another upload of the same file', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge();
  });
  after(() => env.stop());

  for (const { label, bytes } of BASE_SIZES) {
    for (const command of ['APPE', 'STOR'] as const) {
      const what = command === 'APPE' ? 'APPE' : 'REST + STOR';
      test(`${what} onto ${label}: 450 when a STOR committed meanwhile, and the STOR's file stays`, async () => {
        const name = `race-${command}-${bytes}.bin`;
        await putObject(env, `partners/alice/${name}`, randomBytes(bytes));
        const replacement = randomBytes(2000);
        const reply = await raceWithStor(env, { name, command, replacement, ...(command === 'STOR' ? { rest: bytes } : {}) });
        assert.equal(reply.code, 450);
        assert.match(reply.text, /changed during the transfer/);
        assert.deepEqual(await objectBody(env, `partners/alice/${name}`), replacement);
        assert.deepEqual(await pendingMultipartUploads(env.s3), []);
      });
    }
  }
});

describe('a store that enforces If-Match, as AWS S3 does (modelled by the fault proxy)', () => {
  let proxied: ProxiedTestBridge;
  let s3: TestS3;
  let proxy: FaultProxy;
  let env: TestBridge;
  before(async () => {
    proxied = await startProxiedTestBridge({ proxy: (created: FaultProxy) => created.enforceIfMatch() });
    ({ s3, proxy, env } = proxied);
  });
  after(() => proxied.stop());

  for (const { label, bytes } of BASE_SIZES) {
    test(`APPE onto ${label}: a write landing after the last check, inside the commit, is still refused (450)`, async () => {
      const name = `commit-window-${bytes}.bin`;
      const key = `partners/alice/${name}`;
      await putObject(env, key, randomBytes(bytes));
      const planned = (await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }))).ETag;
      const replacement = randomBytes(3000);
      // Straight to the store, past the bridge's own check: only If-Match can catch it.
      proxy.beforeNextConditionalCommit(() => putObject(env, key, replacement));
      const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
      await ftp.command('TYPE I', 200);
      const data = await ftp.passive();
      await ftp.command(`APPE ${name}`, 150);
      await writeAll(data, 'appended');
      const reply = await ftp.read();
      await ftp.close();
      assert.equal(reply.code, 450);
      assert.deepEqual(await objectBody(env, key), replacement);
      const commits = [...proxy.headersSeen('PutObject'), ...proxy.headersSeen('CompleteMultipartUpload')];
      assert.ok(
        commits.some((headers) => headers['if-match'] === planned),
        'the commit named the version the append was planned from',
      );
      assert.deepEqual(await pendingMultipartUploads(s3), []);
    });
  }
});
