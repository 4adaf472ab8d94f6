import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { AnchorWorker } from '../clients/anchors.ts';
import { curlDownload, curlUpload, httpDownload, httpUpload } from '../curl.ts';
import { ratioFigure } from '../figures.ts';
import { compare, interleave, median, timed, variant, type Comparison, type Variant } from '../measure.ts';
import { startJsonService } from '../processes.ts';
import { writeSyntheticFile, type BenchContext, type Scenario, type ScenarioResult } from '../scenario.ts';
import { BRIDGE_HOME, ROOT, startBridge, type BridgeProcess } from '../servers/bridge.ts';
import {
  BENCH_CREDENTIALS,
  BUCKET,
  createExternalBucket,
  externalS3,
  startFauxqs,
  type S3Credentials,
} from '../servers/s3-endpoints.ts';
import { MIB } from '../settings.ts';

/**
 * The bridge against what an application would do with the AWS SDK itself: the same
 * bytes (one file) to the same S3 endpoint with @aws-sdk/lib-storage's Upload, and a
 * plain GetObject stream; and against the minimal relay (clients/relay-server.ts: a
 * one-file Node HTTP server piping GetObject into the response, and a PUT relayed into
 * lib-storage's Upload), driven by curl as the bridge is, so the comparison is hop for
 * hop. Each side runs with its best settings on this machine, found first on a
 * smaller file: lib-storage's queueSize and partSize (the relay's too), the bridge's
 * S3_PART_SIZE_MIB (its part concurrency is fixed at 4). Target: at least 0.9 of each.
 *
 * Against fauxqs, and against an external S3 (Ceph RGW) when TEST_S3_ENDPOINT names
 * one: fauxqs is itself the bottleneck of several scenarios.
 */
const QUEUE_SIZES = [2, 4, 8];
/** fauxqs takes no request body above 11 MiB. */
const PART_SIZES_MIB = [5, 8, 10];
const CALIBRATION_ROUNDS = 2;
const TARGET = { minRatio: 0.9, text: '>= 0.9 of the anchor' };

/** The S3 the anchors run against, with what the bench may measure of it. */
interface AnchorStore {
  readonly name: string;
  readonly endpoint: string;
  readonly bucket: string;
  readonly credentials: S3Credentials;
  readonly client: S3Client;
  /** Its process, when it runs on this machine (for CPU). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export const anchorsScenario: Scenario = {
  id: 'anchors',
  title: 'Bridge vs lib-storage Upload / GetObject and the minimal relay (fauxqs)',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const s3 = await startFauxqs(context.work);
    return await runAnchors(context, { ...s3, name: 'fauxqs', bucket: BUCKET, credentials: BENCH_CREDENTIALS });
  },
};

export const rgwAnchorsScenario: Scenario = {
  id: 'anchors-rgw',
  title: 'Bridge vs lib-storage Upload / GetObject and the minimal relay (external S3, TEST_S3_ENDPOINT)',
  unavailable: () =>
    externalS3(process.env) === undefined ? 'no TEST_S3_ENDPOINT: start Ceph RGW with `source <(test/s3/rgw.sh start)` first (README, Benchmarks)' : undefined,
  async run(context: BenchContext): Promise<ScenarioResult> {
    const external = externalS3(process.env)!;
    const bucket = await createExternalBucket(external);
    return await runAnchors(context, {
      name: external.name,
      endpoint: external.endpoint,
      bucket: bucket.bucket,
      credentials: external.credentials,
      client: bucket.client,
      pid: undefined,
      stop: () => bucket.remove(),
    });
  },
};

async function runAnchors(context: BenchContext, store: AnchorStore): Promise<ScenarioResult> {
  const { settings, work, log } = context;
  const worker = AnchorWorker.start(store);
  const relay = await startJsonService<{ port: number }>(process.execPath, [join(ROOT, 'bench', 'clients', 'relay-server.ts'), store.endpoint, store.bucket], {
    cwd: ROOT,
    env: { ...process.env, AWS_ACCESS_KEY_ID: store.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: store.credentials.secretAccessKey },
  });
  const relayUrl = `http://127.0.0.1:${relay.info.port}`;
  let bridge: BridgeProcess | undefined;
  const remove = (key: string): Promise<unknown> => store.client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key }));
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
        await remove(key);
        return seconds;
      }),
    );
    const sdkBest = sdkCandidates[indexOfMin(sdkSeconds)]!;
    const bridgeSeconds = await calibrate(
      PART_SIZES_MIB.map((partSizeMib) => async () => {
        const candidate = await startAnchorBridge(context, store, partSizeMib);
        try {
          const trial = await timed(() => curlUpload(`${candidate.url}/anchor/calibration.bin`, calibrationFile));
          await remove(`${BRIDGE_HOME}anchor/calibration.bin`);
          return trial.seconds;
        } finally {
          await candidate.stop();
        }
      }),
    );
    const bridgePartMib = PART_SIZES_MIB[indexOfMin(bridgeSeconds)]!;
    log(`  best: lib-storage queueSize ${sdkBest.queueSize}, partSize ${sdkBest.partSizeMib} MiB; bridge S3_PART_SIZE_MIB=${bridgePartMib}`);

    const active = await startAnchorBridge(context, store, bridgePartMib);
    bridge = active;
    const withStore = (cpu: Record<string, number>): Record<string, number> => (store.pid === undefined ? cpu : { ...cpu, [store.name]: store.pid });
    const bridgeCpu = withStore({ bridge: active.pid });
    const sdkCpu = withStore({ 'lib-storage': worker.pid });
    const relayCpu = withStore({ relay: relay.pid });
    const relayQuery = `queueSize=${sdkBest.queueSize}&partSizeMib=${sdkBest.partSizeMib}`;

    log(`  upload ${settings.anchorMib} MiB x ${settings.repetitions}: bridge, lib-storage, relay, interleaved`);
    const uploads = await interleave(settings.repetitions, [
      async (round) => {
        const trial = await timed(() => curlUpload(`${active.url}/anchor/bridge-${round}.bin`, file), { memoryOf: active.pid, cpuOf: bridgeCpu });
        await remove(`${BRIDGE_HOME}anchor/bridge-${round}.bin`);
        return trial;
      },
      async (round) => {
        const key = `${BRIDGE_HOME}anchor/sdk-${round}.bin`;
        const trial = await timed(() => worker.run({ op: 'upload', file, key, ...sdkBest }), { cpuOf: sdkCpu });
        await remove(key);
        return trial;
      },
      async (round) => {
        const key = `${BRIDGE_HOME}anchor/relay-${round}.bin`;
        const trial = await timed(() => httpUpload(`${relayUrl}/${key}?${relayQuery}`, file), { cpuOf: relayCpu });
        await remove(key);
        return trial;
      },
    ]);

    log(`  download ${settings.anchorMib} MiB x ${settings.repetitions}: bridge, GetObject, relay, interleaved`);
    const sourceKey = `${BRIDGE_HOME}anchor/source.bin`;
    await worker.run({ op: 'upload', file, key: sourceKey, ...sdkBest });
    const downloads = await interleave(settings.repetitions, [
      () => timed(() => curlDownload(`${active.url}/anchor/source.bin`), { memoryOf: active.pid, cpuOf: bridgeCpu }),
      () => timed(() => worker.run({ op: 'download', key: sourceKey }), { cpuOf: sdkCpu }),
      () => timed(() => httpDownload(`${relayUrl}/${sourceKey}`), { cpuOf: relayCpu }),
    ]);

    const mib = settings.anchorMib;
    const group = `anchors (${store.name})`;
    const bridgeUpload = variant(`bridge, S3_PART_SIZE_MIB=${bridgePartMib} (curl STOR)`, uploads[0]!, mib);
    const bridgeDownload = variant('bridge (curl RETR)', downloads[0]!, mib);
    const against = (id: string, title: string, bridgeSide: Variant, reference: Variant): Comparison =>
      compare({ id: `${id}-${store.name}`, group, title, mib, bridge: bridgeSide, reference, target: TARGET });
    const sdkName = `lib-storage Upload (queueSize ${sdkBest.queueSize}, partSize ${sdkBest.partSizeMib} MiB)`;
    const comparisons = [
      against('anchor-upload', `Upload ${mib} MiB`, bridgeUpload, variant(sdkName, uploads[1]!, mib)),
      against('anchor-download', `Download ${mib} MiB`, bridgeDownload, variant('GetObject stream', downloads[1]!, mib)),
      against('relay-upload', `Upload ${mib} MiB`, bridgeUpload, variant('minimal relay (curl PUT into lib-storage Upload)', uploads[2]!, mib)),
      against('relay-download', `Download ${mib} MiB`, bridgeDownload, variant('minimal relay (curl GET of a piped GetObject)', downloads[2]!, mib)),
    ] as const;
    const goal = { min: TARGET.minRatio, text: '>= 0.9x' };
    const [sdkUp, sdkDown, relayUp, relayDown] = comparisons;
    const seconds = (values: readonly number[]): string => values.map((value) => value.toFixed(2)).join(', ');
    return {
      figures: [
        ratioFigure(`anchor-upload-${store.name}`, `upload vs lib-storage Upload (${store.name})`, sdkUp, goal),
        ratioFigure(`anchor-download-${store.name}`, `download vs GetObject stream (${store.name})`, sdkDown, goal),
        ratioFigure(`relay-upload-${store.name}`, `upload vs the minimal relay (${store.name})`, relayUp, goal),
        ratioFigure(`relay-download-${store.name}`, `download vs the minimal relay (${store.name})`, relayDown, goal),
      ],
      comparisons,
      notes: [
        `calibration on ${settings.anchorCalibrationMib} MiB, median of ${CALIBRATION_ROUNDS}, seconds: lib-storage ${sdkCandidates
          .map((candidate, index) => `q${candidate.queueSize}/p${candidate.partSizeMib}=${sdkSeconds[index]!.toFixed(2)}`)
          .join(' ')}; bridge ${PART_SIZES_MIB.map((part, index) => `p${part}=${bridgeSeconds[index]!.toFixed(2)}`).join(' ')}`,
        `upload seconds: bridge ${seconds(uploads[0]!.map((trial) => trial.seconds))}; lib-storage ${seconds(uploads[1]!.map((trial) => trial.seconds))}; relay ${seconds(uploads[2]!.map((trial) => trial.seconds))}`,
      ],
    };
  } finally {
    await bridge?.stop();
    await relay.stop();
    await worker.stop();
    await store.stop();
  }
}

function startAnchorBridge(context: BenchContext, store: AnchorStore, partSizeMib: number): Promise<BridgeProcess> {
  return startBridge({
    files: context.files,
    endpoint: store.endpoint,
    bucket: store.bucket,
    credentials: store.credentials,
    checksum: 'when_required',
    partSizeMib,
  });
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
