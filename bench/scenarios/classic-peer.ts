import { DeleteObjectsCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { curlDownload, curlUpload } from '../curl.ts';
import { listCount, perFileSummary, uploadFiles, type FtpEndpoint } from '../ftp-session.ts';
import { ratioFigure } from '../figures.ts';
import { compare, interleave, round, timed, variant } from '../measure.ts';
import { writeSmallFiles, writeSyntheticFile, type BenchContext, type Scenario, type ScenarioResult } from '../scenario.ts';
import { BRIDGE_HOME, BRIDGE_PASSWORD, BRIDGE_USER, startBridge } from '../servers/bridge.ts';
import { RCLONE_MOUNT_OPTIONS, mountBucket } from '../servers/rclone-mount.ts';
import { BUCKET, startFauxqs } from '../servers/s3-endpoints.ts';
import { startVsftpd } from '../servers/vsftpd.ts';
import { MIB } from '../settings.ts';

/**
 * The classic way to serve S3 over FTP: a stock FTP server (vsftpd) on a FUSE mount
 * of the bucket (rclone mount), against the same fauxqs bucket as the bridge. The
 * bridge must be faster at one large file, many small files and a listing.
 *
 * vsftpd answers 226 as soon as rclone has the file in its local cache; the bytes
 * reach S3 only afterwards. The bridge answers 226 once S3 holds the object. So
 * vsftpd's time is taken when the object is in S3 (polled every 20 ms), which is
 * what a client that reads the bucket right after the upload sees; the time of the
 * 226 is kept in the notes.
 *
 * rclone must not serve from its cache what the bridge reads from S3: the download
 * source is created before the mount, and rclone's listings are dropped (vfs/forget)
 * before each of its LISTs.
 */
export const classicPeerScenario: Scenario = {
  id: 'classic-peer',
  title: 'Bridge vs vsftpd over rclone mount (fauxqs)',
  unavailable: (context) => (context.peers.fuseMount ? undefined : 'needs vsftpd, rclone, fuse3 and /dev/fuse'),
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { settings, work, log } = context;
    const repetitions = Math.max(2, Math.min(settings.repetitions, 3));
    const s3 = await startFauxqs(work);
    const stops: Array<() => Promise<void>> = [() => s3.stop()];
    try {
      const bridge = await startBridge({ files: context.files, endpoint: s3.endpoint, bucket: BUCKET, checksum: 'when_required' });
      stops.unshift(() => bridge.stop());
      const cpuOf = { bridge: bridge.pid, fauxqs: s3.pid };

      const large = join(work, 'peer-large.bin');
      await writeSyntheticFile(large, settings.peerLargeMib * MIB, 3);
      const smallFiles = await writeSmallFiles(join(work, 'peer-small'), settings.peerSmallFiles, settings.peerSmallFileBytes);
      // Created before the mount, so that rclone has nothing of it cached.
      await curlUpload(`${bridge.url}/peer-source/large.bin`, large);

      const ftpRoot = join(work, 'vsftpd-rclone-root');
      await mkdir(ftpRoot);
      await chmod(ftpRoot, 0o755);
      const mount = await mountBucket({ endpoint: s3.endpoint, remotePath: `${BUCKET}/${BRIDGE_HOME.slice(0, -1)}`, mountPoint: join(ftpRoot, 'bench'), work });
      stops.unshift(() => mount.stop());
      const vsftpd = await startVsftpd({ root: ftpRoot, work, name: 'rclone' });
      stops.unshift(() => vsftpd.stop());
      const peerUrl = `${vsftpd.url}/bench`;
      const bridgeSession: FtpEndpoint = { port: bridge.port, user: BRIDGE_USER, password: BRIDGE_PASSWORD };
      const peerSession: FtpEndpoint = { port: vsftpd.port, user: 'anonymous', password: 'bench' };
      const replySeconds: number[] = [];
      const smallReplySeconds: number[] = [];
      const perFile: { bridge: number[]; peer: number[] } = { bridge: [], peer: [] };

      log(`  large file: upload and download ${settings.peerLargeMib} MiB x ${repetitions}`);
      const largeKeys: string[] = [];
      const largeUploads = await interleave(
        repetitions,
        [
          (round) => {
            largeKeys.push(`${BRIDGE_HOME}peer/large-bridge-${round}.bin`);
            return timed(() => curlUpload(`${bridge.url}/peer/large-bridge-${round}.bin`, large), { memoryOf: bridge.pid, cpuOf });
          },
          (round) => {
            const key = `${BRIDGE_HOME}peer/large-vsftpd-${round}.bin`;
            largeKeys.push(key);
            return timed(async () => {
              const started = Date.now();
              await curlUpload(`${peerUrl}/peer/large-vsftpd-${round}.bin`, large);
              replySeconds.push((Date.now() - started) / 1000);
              await waitForObject(s3.client, key, settings.peerLargeMib * MIB);
            });
          },
        ],
        async () => {
          await deleteKeys(s3.client, largeKeys.splice(0));
        },
      );
      const largeDownloads = await interleave(repetitions, [
        () => timed(() => curlDownload(`${bridge.url}/peer-source/large.bin`), { memoryOf: bridge.pid, cpuOf }),
        () => timed(() => curlDownload(`${peerUrl}/peer-source/large.bin`)),
      ]);

      log(`  ${settings.peerSmallFiles} small files of ${settings.peerSmallFileBytes} bytes x ${repetitions}`);
      // Each round's files are deleted after it: fauxqs filters and sorts every key of
      // the bucket on each LIST (the bridge makes two per STOR), which S3 does not.
      const smallUploads = await interleave(
        repetitions,
        [
          (round) =>
            timed(
              async () => perFile.bridge.push(...(await uploadFiles(bridgeSession, `/peer/small-bridge-${round}`, smallFiles))),
              { memoryOf: bridge.pid, cpuOf },
            ),
          (round) =>
            timed(async () => {
              const started = Date.now();
              perFile.peer.push(...(await uploadFiles(peerSession, `/bench/peer/small-vsftpd-${round}`, smallFiles)));
              smallReplySeconds.push((Date.now() - started) / 1000);
              await waitForCount(s3.client, `${BRIDGE_HOME}peer/small-vsftpd-${round}/`, settings.peerSmallFiles);
            }),
        ],
        async () => {
          await deletePrefix(s3.client, `${BRIDGE_HOME}peer/`);
        },
      );

      // Both sides list a folder neither has listed before (the bridge remembers the client
      // times it read; rclone's listings are dropped), so every repetition is a first listing.
      log(`  LIST of ${settings.peerListObjects} objects x ${repetitions}, a new folder each time (rclone's listings dropped before each)`);
      for (let round = 0; round < repetitions; round += 1) {
        await putMany(s3.client, `${BRIDGE_HOME}peer-list-${round}/`, settings.peerListObjects);
      }
      const listOf = async (endpoint: FtpEndpoint, path: string): Promise<void> => {
        const entries = await listCount(endpoint, path);
        if (entries !== settings.peerListObjects) throw new Error(`LIST ${path} gave ${entries} entries, expected ${settings.peerListObjects}`);
      };
      const listings = await interleave(repetitions, [
        (round) => timed(() => listOf(bridgeSession, `/peer-list-${round}`), { memoryOf: bridge.pid }),
        async (round) => {
          await mount.forgetListings();
          return await timed(() => listOf(peerSession, `/bench/peer-list-${round}`));
        },
      ]);

      const peerName = 'vsftpd + rclone mount';
      const group = 'classic peer (fauxqs)';
      const target = { minRatio: 1, strictlyFaster: true, text: 'faster than the peer' };
      const reply = (values: number[]): string => values.map((value) => round(value, 2)).join(', ');
      const comparisons = [
          compare({
            id: 'peer-large-upload',
            group,
            title: `Upload one ${settings.peerLargeMib} MiB file`,
            mib: settings.peerLargeMib,
            bridge: variant('bridge', largeUploads[0]!, settings.peerLargeMib),
            reference: variant(`${peerName} (until in S3)`, largeUploads[1]!, settings.peerLargeMib),
            target,
            notes: [`vsftpd's 226 came after ${reply(replySeconds)} s; the object was in S3 only at the times measured`],
          }),
          compare({
            id: 'peer-large-download',
            group,
            title: `Download one ${settings.peerLargeMib} MiB file`,
            mib: settings.peerLargeMib,
            bridge: variant('bridge', largeDownloads[0]!, settings.peerLargeMib),
            reference: variant(peerName, largeDownloads[1]!, settings.peerLargeMib),
            target,
          }),
          compare({
            id: 'peer-small-files',
            group,
            title: `Upload ${settings.peerSmallFiles} files of ${settings.peerSmallFileBytes / 1024} KiB`,
            bridge: variant('bridge', smallUploads[0]!),
            reference: variant(`${peerName} (until in S3)`, smallUploads[1]!),
            target,
            notes: [
              `vsftpd's last 226 came after ${reply(smallReplySeconds)} s`,
              `per file (STOR to 226): bridge ${perFileSummary(perFile.bridge)}; vsftpd ${perFileSummary(perFile.peer)}`,
            ],
          }),
          compare({
            id: 'peer-list',
            group,
            title: `LIST of ${settings.peerListObjects} objects`,
            bridge: variant('bridge', listings[0]!),
            reference: variant(`${peerName} (first listing)`, listings[1]!),
            target,
          }),
        ] as const;
      const manyFiles = comparisons[2];
      return {
        figures: [
          {
            ...ratioFigure('peer-small-files', `${settings.peerSmallFiles} files of 4 KiB vs vsftpd + rclone mount, until in S3`, manyFiles),
            goal: { text: 'faster (> 1x)', met: manyFiles.ratio > 1 },
          },
        ],
        comparisons,
        notes: [`rclone mount ${RCLONE_MOUNT_OPTIONS.join(' ')}`, `${repetitions} repetitions`],
      };
    } finally {
      for (const stop of stops) await stop();
    }
  },
};

/** Puts `count` one-byte objects below `prefix`, 32 at a time. */
async function putMany(client: S3Client, prefix: string, count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}f${String(index).padStart(6, '0')}.txt`, Body: 'x' }));
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

async function waitForObject(client: S3Client, key: string, size: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).catch(() => undefined);
    if (head?.ContentLength === size) return;
    if (Date.now() > deadline) throw new Error(`${key} did not reach S3 within ${timeoutMs} ms`);
    await delay(20);
  }
}

async function waitForCount(client: S3Client, prefix: string, count: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await countObjects(client, prefix)) >= count) return;
    if (Date.now() > deadline) throw new Error(`${prefix} did not get ${count} objects within ${timeoutMs} ms`);
    // A listing costs fauxqs more than a HEAD: poll less often, not to slow the uploads it waits for.
    await delay(100);
  }
}

async function countObjects(client: S3Client, prefix: string): Promise<number> {
  let total = 0;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    total += page.KeyCount ?? 0;
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return total;
}

async function deleteKeys(client: S3Client, keys: readonly string[]): Promise<void> {
  for (let start = 0; start < keys.length; start += 1000) {
    const batch = keys.slice(start, start + 1000);
    await client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: batch.map((Key) => ({ Key })) } }));
  }
}

async function deletePrefix(client: S3Client, prefix: string): Promise<void> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  await deleteKeys(client, keys);
}
