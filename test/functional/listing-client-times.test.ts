import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_USER, startProxiedTestBridge, type ProxiedTestBridge } from '../support/bridge.ts';
import { RawFtp, listOver } from '../support/raw-ftp.ts';

/**
 * The first listing of a folder reads the time each file's client set (a HeadObject per
 * file, FTP_LIST_CLIENT_TIMES). Those HEADs run side by side, but within bounds: per
 * partner (however many sessions it lists from) and for the whole process, so a few
 * large first listings cannot take the S3 connection pool from transfers. The listing
 * itself must come out as before: every page, in S3's order, with the times clients set.
 */
const BOB = { username: 'bob', password: 'builder', home: 'partners/bob/' };
/** LIST_HEADS_TOTAL in s3-object-store.ts: what every listing together may have in flight. */
const MAX_LISTING_HEADS = 16;
const CLIENT_TIME = 1_700_000_000;

describe('first listings with client-set times', () => {
  let proxied: ProxiedTestBridge;
  before(async () => {
    proxied = await startProxiedTestBridge({ bridge: { users: [DEFAULT_USER, BOB] } });
  });
  after(() => proxied.stop());

  /** `count` files f0000.txt... under `folder`; every `timedEvery`th one with a client-set time (CLIENT_TIME + its index). */
  async function putFiles(home: string, folder: string, count: number, timedEvery = 0): Promise<void> {
    const { client, bucket } = proxied.s3;
    for (let first = 0; first < count; first += 32) {
      await Promise.all(
        Array.from({ length: Math.min(32, count - first) }, (_, offset) => {
          const index = first + offset;
          const timed = timedEvery > 0 && index % timedEvery === 0;
          return client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `${home}${folder}/${fileName(index)}`,
              Body: `file ${index}`,
              ...(timed ? { Metadata: { mtime: String(CLIENT_TIME + index) } } : {}),
            }),
          );
        }),
      );
    }
  }

  const fileName = (index: number): string => `f${String(index).padStart(4, '0')}.txt`;
  /** The MLSD modify fact of file `index`'s client-set time. */
  const clientSet = (index: number): string => new Date((CLIENT_TIME + index) * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);

  async function mlsd(username: string, password: string, folder: string): Promise<Array<{ name: string; modify: string }>> {
    const ftp = await RawFtp.login(proxied.env.port, username, password);
    try {
      const text = await listOver(ftp, `MLSD ${folder}`, false);
      return text
        .split('\r\n')
        .filter((line) => line !== '')
        .map((line) => ({ name: line.slice(line.indexOf(' ') + 1), modify: /modify=([0-9.]+);/.exec(line)?.[1] ?? '' }));
    } finally {
      await ftp.close();
    }
  }

  test('a listing of several pages: every entry, in order, with the times clients set', async () => {
    const count = 1050; // two pages of S3's listing (1,000 keys each)
    await putFiles(DEFAULT_USER.home!, 'big', count, 10);
    // A folder that sorts after every file, so it arrives on the last page.
    await proxied.s3.client.send(new PutObjectCommand({ Bucket: proxied.s3.bucket, Key: `${DEFAULT_USER.home}big/sub/x.txt`, Body: 'x' }));
    const entries = await mlsd('alice', 'wonderland', 'big');
    const expected = [...Array.from({ length: count }, (_, index) => fileName(index)), 'sub'];
    assert.deepEqual(
      entries.map((entry) => entry.name),
      expected,
    );
    for (let index = 0; index < count; index += 1) {
      const modify = entries[index]!.modify;
      if (index % 10 === 0) assert.equal(modify, clientSet(index), `${fileName(index)} shows its client-set time`);
      else assert.notEqual(modify, clientSet(index), `${fileName(index)} shows when S3 stored it`);
    }
  });

  test('HeadObjects of simultaneous first listings stay bounded, for one partner and across partners', async () => {
    await putFiles(DEFAULT_USER.home!, 'one', 200, 1);
    await putFiles(DEFAULT_USER.home!, 'two', 200, 1);
    await putFiles(BOB.home, 'three', 200, 1);
    // A distant S3: each HEAD takes a while, so the listings' HEADs overlap.
    proxied.proxy.delayResponses('HeadObject', 25);
    proxied.proxy.resetMaxInFlight();
    try {
      const listings = await Promise.all([
        mlsd('alice', 'wonderland', 'one'),
        mlsd('alice', 'wonderland', 'two'),
        mlsd(BOB.username, BOB.password, 'three'),
      ]);
      for (const entries of listings) {
        assert.equal(entries.length, 200);
        assert.deepEqual(
          entries.map((entry) => entry.modify),
          entries.map((_, index) => clientSet(index)),
        );
      }
    } finally {
      proxied.proxy.heal();
    }
    const peak = proxied.proxy.maxInFlight('HeadObject');
    assert.ok(peak <= MAX_LISTING_HEADS + 3, `at most ${MAX_LISTING_HEADS} HEADs for listings (+ each MLSD's own stat) in flight, saw ${peak}`);
    assert.ok(peak >= 8, `the HEADs run side by side (${peak} at most in flight)`);
  });
});
