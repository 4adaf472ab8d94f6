import { RawFtp } from '../../test/support/raw-ftp.ts';
import type { Figure } from '../figures.ts';
import { median, round } from '../measure.ts';
import { PeakMemory, cpuSeconds } from '../process-memory.ts';
import type { BenchContext, ListingCheck, Scenario, ScenarioResult } from '../scenario.ts';
import { BRIDGE_HOME, BRIDGE_PASSWORD, BRIDGE_USER, startBridge, type BridgeProcess } from '../servers/bridge.ts';
import { BUCKET, registerFolder, registerObject, startDiscardEndpoint } from '../servers/s3-endpoints.ts';

/**
 * LIST of a folder of 100,000 objects beside one of 10,000, through the bridge in
 * front of the discard endpoint (which pages through synthetic keys, 1,000 a page,
 * without storing them): time to the first byte of the listing, total time, and the
 * bridge's peak RSS, which must not grow with the object count (the bridge streams
 * page by page).
 *
 * Then first listings with client-set times (FTP_LIST_CLIENT_TIMES on, the default:
 * a HeadObject per file version the bridge has not seen; the discard endpoint answers
 * each with an x-amz-meta-mtime) beside the same folder size listed by a bridge with
 * them off, of 5,000 and of 100,000 objects, interleaved. Every trial lists a folder
 * neither bridge has seen, so each is a first listing. Goal: at most 1.5 times the
 * listing without client-set times.
 */
const FLAT_MARGIN_MIB = 32;
const FIRST_LISTING_GOAL = 1.5;

export const listingScenario: Scenario = {
  id: 'listing',
  title: 'LIST of many objects (discard S3)',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { settings, log } = context;
    const discard = await startDiscardEndpoint();
    const stops: Array<() => Promise<void>> = [() => discard.stop()];
    try {
      const sizes = [settings.listSmallObjects, settings.listLargeObjects];
      await registerObject(discard, BRIDGE_HOME, 0);
      for (const size of sizes) await registerFolder(discard, `${BRIDGE_HOME}list-${size}/`, size);
      const bridge = await startBridge({ files: context.files, endpoint: discard.endpoint, bucket: BUCKET });
      stops.unshift(() => bridge.stop());
      log(`  LIST of ${sizes.join(' and ')} objects x ${settings.repetitions}, interleaved`);
      const trials = new Map<number, Array<{ firstByteMs: number; seconds: number; peakMib: number }>>(sizes.map((size) => [size, []]));
      for (let round = 0; round < settings.repetitions; round += 1) {
        for (const size of sizes) trials.get(size)!.push(await timedList(bridge, `/list-${size}`, size));
      }
      const listings: ListingCheck[] = sizes.map((size) => {
        const runs = trials.get(size)!;
        return {
          objects: size,
          medianFirstByteMs: round(median(runs.map((entry) => entry.firstByteMs)), 1),
          medianSeconds: round(median(runs.map((entry) => entry.seconds)), 3),
          peakRssMib: round(Math.max(...runs.map((entry) => entry.peakMib)), 0),
        };
      });
      const [small, large] = listings as [ListingCheck, ListingCheck];
      const growth = large.peakRssMib - small.peakRssMib;

      const quiet = await startBridge({ files: context.files, endpoint: discard.endpoint, bucket: BUCKET, env: { FTP_LIST_CLIENT_TIMES: 'off' } });
      stops.unshift(() => quiet.stop());
      const firstSizes = [settings.listFirstObjects, settings.listLargeObjects];
      const repetitions = Math.min(settings.repetitions, 3);
      const figures: Figure[] = [];
      const firstListings: ListingCheck[] = [];
      for (const size of firstSizes) {
        log(`  first LIST of ${size} objects x ${repetitions}, client-set times on and off, interleaved`);
        const runs = { on: [] as Array<Awaited<ReturnType<typeof timedList>>>, off: [] as Array<Awaited<ReturnType<typeof timedList>>> };
        for (let round = 0; round < repetitions; round += 1) {
          for (const [side, target] of [['on', bridge], ['off', quiet]] as const) {
            const folder = `first-${size}-${round}-${side}`;
            await registerFolder(discard, `${BRIDGE_HOME}${folder}/`, size);
            runs[side].push(await timedList(target, `/${folder}`, size));
          }
        }
        const summary = (side: 'on' | 'off'): ListingCheck => ({
          objects: size,
          clientTimes: side === 'on',
          medianFirstByteMs: round(median(runs[side].map((entry) => entry.firstByteMs)), 1),
          medianSeconds: round(median(runs[side].map((entry) => entry.seconds)), 3),
          peakRssMib: round(Math.max(...runs[side].map((entry) => entry.peakMib)), 0),
        });
        const on = summary('on');
        const off = summary('off');
        firstListings.push(on, off);
        const times = round(on.medianSeconds / off.medianSeconds, 2);
        const cpuMs = (side: 'on' | 'off'): number => (median(runs[side].map((entry) => entry.cpuSeconds)) * 1000) / size;
        figures.push({
          id: `first-list-${size}`,
          title: `first LIST of ${size} objects with client-set times`,
          value: times,
          text: `${on.medianSeconds.toFixed(2)} s (${off.medianSeconds.toFixed(2)} s without): ${times.toFixed(2)}x`,
          goal: { text: `<= ${FIRST_LISTING_GOAL}x of without`, met: times <= FIRST_LISTING_GOAL },
          measuredAs:
            `discard S3, a HeadObject per file, median of ${repetitions}; bridge CPU ${cpuMs('on').toFixed(2)} ms per file ` +
            `(${cpuMs('off').toFixed(2)} without); peak RSS ${on.peakRssMib} MiB`,
        });
      }
      return {
        figures,
        listings: [...listings, ...firstListings],
        notes: [
          `peak RSS ${small.peakRssMib} MiB at ${small.objects} objects, ${large.peakRssMib} MiB at ${large.objects}: ` +
            `${growth <= FLAT_MARGIN_MIB ? 'flat' : 'NOT flat'} (grew ${growth} MiB; allowed ${FLAT_MARGIN_MIB})`,
        ],
      };
    } finally {
      for (const stop of stops) await stop();
    }
  },
};

/** One LIST over a raw FTP connection: the first data byte is timed from the moment LIST is sent. */
async function timedList(
  bridge: BridgeProcess,
  path: string,
  expectedLines: number,
): Promise<{ firstByteMs: number; seconds: number; peakMib: number; cpuSeconds: number }> {
  const ftp = await RawFtp.login(bridge.port, BRIDGE_USER, BRIDGE_PASSWORD);
  try {
    const memory = await PeakMemory.start(bridge.pid);
    const cpuBefore = await cpuSeconds(bridge.pid);
    const data = await ftp.passive();
    const started = process.hrtime.bigint();
    let firstByte: bigint | undefined;
    let lines = 0;
    const received = new Promise<void>((resolve, reject) => {
      data.on('data', (chunk: Buffer) => {
        firstByte ??= process.hrtime.bigint();
        for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, index + 1)) lines += 1;
      });
      data.once('end', resolve);
      data.once('error', reject);
    });
    ftp.send(`LIST ${path}`);
    await ftp.expect(150);
    await received;
    await ftp.expect(226);
    const ended = process.hrtime.bigint();
    const peakMib = await memory.stop();
    const cpu = (await cpuSeconds(bridge.pid)) - cpuBefore;
    if (lines !== expectedLines) throw new Error(`LIST ${path} gave ${lines} lines, expected ${expectedLines}`);
    return {
      firstByteMs: Number((firstByte ?? ended) - started) / 1e6,
      seconds: Number(ended - started) / 1e9,
      peakMib,
      cpuSeconds: cpu,
    };
  } finally {
    await ftp.close();
  }
}
