import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { AnchorWorker } from '../clients/anchors.ts';
import { curlDownload, curlUpload } from '../curl.ts';
import { compare, interleave, median, timed, variant } from '../measure.ts';
import { writeSyntheticFile, type BenchContext, type Scenario, type ScenarioResult } from '../scenario.ts';
import { BRIDGE_HOME, startBridge, type BridgeProcess } from '../servers/bridge.ts';
import { BUCKET, startFauxqs, type S3Endpoint } from '../servers/s3-endpoints.ts';
import { MIB } from '../settings.ts';

/**
 * The bridge against what an application would do with the AWS SDK itself: the same
 * bytes (one file) to the same S3 endpoint (fauxqs) with @aws-sdk/lib-storage's
 * Upload, and a plain GetObject stream. Each side runs with its best settings on this
 * machine, found first on a smaller file: lib-storage's queueSize and partSize, the
 * bridge's S3_PART_SIZE_MIB (its part concurrency is fixed at 4). The bridge is
 * driven by curl over loopback. Target: at least 0.9 of each.
 */
const QUEUE_SIZES = [2, 4, 8];
/** fauxqs takes no request body above 11 MiB. */
const PART_SIZES_MIB = [5, 8, 10];
const CALIBRATION_ROUNDS = 2;
const TARGET = { minRatio: 0.9, text: '>= 0.9 of the anchor' };

export const anchorsScenario: Scenario = {
  id: 'anchors',
  title: 'Bridge vs lib-storage Upload / GetObject (fauxqs)',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { settings, work, log } = context;
    const s3 = await startFauxqs(work);
    const worker = AnchorWorker.start(s3.endpoint);
    let bridge: BridgeProcess | undefined;
    try {
      const file = join(work, 'anchor.bin');
      const calibrationFile = join(work, 'anchor-calibration.bin');
      await writeSyntheticFile(file, settings.anchorMib * MIB, 1);
      await writeSyntheticFile(calibrationFile, settings.anchorCalibrationMib * MIB, 2);

      log(`  calibrating on ${settings.anchorCalibrationMib} MiB: lib-storage queueSize ${QUEUE_SIZES.join('/')} x partSize ${PART_SIZES_MIB.join('/')} MiB, bridge S3_PART_SIZE_MIB ${PART_SIZES_MIB.join('/')}`);
      const sdkCandidates = QUEUE_SIZES.flatMap((queueSize) => PART_SIZES_MIB.map((partSizeMib) => ({ queueSize, partSizeMib })));
      const sdkSeconds = await calibrate(
        sdkCandidates.map((candidate, index) => async () => {
          const key = `${BRIDGE_HOME}anchor/calibration-${index}.bin`;
          const seconds = await worker.run({ op: 'upload', file: calibrationFile, key, ...candidate });
          await remove(s3, key);
          return seconds;
        }),
      );
      const sdkBest = sdkCandidates[indexOfMin(sdkSeconds)]!;
      const bridgeSeconds = await calibrate(
        PART_SIZES_MIB.map((partSizeMib) => async () => {
          const candidate = await startAnchorBridge(context, s3, partSizeMib);
          try {
            const trial = await timed(() => curlUpload(`${candidate.url}/anchor/calibration.bin`, calibrationFile));
            await remove(s3, `${BRIDGE_HOME}anchor/calibration.bin`);
            return trial.seconds;
          } finally {
            await candidate.stop();
          }
        }),
      );
      const bridgePartMib = PART_SIZES_MIB[indexOfMin(bridgeSeconds)]!;
      log(`  best: lib-storage queueSize ${sdkBest.queueSize}, partSize ${sdkBest.partSizeMib} MiB; bridge S3_PART_SIZE_MIB=${bridgePartMib}`);

      const active = await startAnchorBridge(context, s3, bridgePartMib);
      bridge = active;
      const anchorName = `lib-storage Upload (queueSize ${sdkBest.queueSize}, partSize ${sdkBest.partSizeMib} MiB)`;
      const bridgeCpu = { bridge: active.pid, fauxqs: s3.pid };
      const sdkCpu = { 'lib-storage': worker.pid, fauxqs: s3.pid };

      log(`  upload ${settings.anchorMib} MiB x ${settings.repetitions}, interleaved`);
      const uploads = await interleave(settings.repetitions, [
        async (round) => {
          const trial = await timed(() => curlUpload(`${active.url}/anchor/bridge-${round}.bin`, file), { memoryOf: active.pid, cpuOf: bridgeCpu });
          await remove(s3, `${BRIDGE_HOME}anchor/bridge-${round}.bin`);
          return trial;
        },
        async (round) => {
          const key = `${BRIDGE_HOME}anchor/sdk-${round}.bin`;
          const trial = await timed(() => worker.run({ op: 'upload', file, key, ...sdkBest }), { cpuOf: sdkCpu });
          await remove(s3, key);
          return trial;
        },
      ]);

      log(`  download ${settings.anchorMib} MiB x ${settings.repetitions}, interleaved`);
      const sourceKey = `${BRIDGE_HOME}anchor/source.bin`;
      await worker.run({ op: 'upload', file, key: sourceKey, ...sdkBest });
      const downloads = await interleave(settings.repetitions, [
        () => timed(() => curlDownload(`${active.url}/anchor/source.bin`), { memoryOf: active.pid, cpuOf: bridgeCpu }),
        () => timed(() => worker.run({ op: 'download', key: sourceKey }), { cpuOf: sdkCpu }),
      ]);

      const mib = settings.anchorMib;
      const seconds = (values: readonly number[]): string => values.map((value) => value.toFixed(2)).join(', ');
      return {
        comparisons: [
          compare({
            id: 'anchor-upload',
            group: 'anchors (fauxqs)',
            title: `Upload ${mib} MiB`,
            mib,
            bridge: variant(`bridge, S3_PART_SIZE_MIB=${bridgePartMib} (curl STOR)`, uploads[0]!, mib),
            reference: variant(anchorName, uploads[1]!, mib),
            target: TARGET,
          }),
          compare({
            id: 'anchor-download',
            group: 'anchors (fauxqs)',
            title: `Download ${mib} MiB`,
            mib,
            bridge: variant('bridge (curl RETR)', downloads[0]!, mib),
            reference: variant('GetObject stream', downloads[1]!, mib),
            target: TARGET,
          }),
        ],
        notes: [
          `calibration on ${settings.anchorCalibrationMib} MiB, median of ${CALIBRATION_ROUNDS}, seconds: lib-storage ${sdkCandidates
            .map((candidate, index) => `q${candidate.queueSize}/p${candidate.partSizeMib}=${sdkSeconds[index]!.toFixed(2)}`)
            .join(' ')}; bridge ${PART_SIZES_MIB.map((part, index) => `p${part}=${bridgeSeconds[index]!.toFixed(2)}`).join(' ')}`,
          `upload seconds: bridge ${seconds(uploads[0]!.map((trial) => trial.seconds))}; lib-storage ${seconds(uploads[1]!.map((trial) => trial.seconds))}`,
        ],
      };
    } finally {
      await bridge?.stop();
      await worker.stop();
      await s3.stop();
    }
  },
};

function startAnchorBridge(context: BenchContext, s3: S3Endpoint, partSizeMib: number): Promise<BridgeProcess> {
  return startBridge({ files: context.files, endpoint: s3.endpoint, bucket: BUCKET, checksum: 'when_required', partSizeMib });
}

/** Median seconds of each candidate over CALIBRATION_ROUNDS interleaved rounds. */
async function calibrate(candidates: ReadonlyArray<() => Promise<number>>): Promise<number[]> {
  const trials = await interleave(
    CALIBRATION_ROUNDS,
    candidates.map((candidate) => async () => ({ seconds: await candidate() })),
  );
  return trials.map((runs) => median(runs.map((trial) => trial.seconds)));
}

function indexOfMin(values: readonly number[]): number {
  return values.reduce((best, value, index) => (value < values[best]! ? index : best), 0);
}

async function remove(s3: S3Endpoint, key: string): Promise<void> {
  await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
}
