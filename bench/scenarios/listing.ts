import { RawFtp } from '../../test/helpers/raw-ftp.ts';
import { median, round } from '../measure.ts';
import { PeakMemory } from '../process-memory.ts';
import type { BenchContext, ListingCheck, Scenario, ScenarioResult } from '../scenario.ts';
import { BRIDGE_HOME, BRIDGE_PASSWORD, BRIDGE_USER, startBridge, type BridgeProcess } from '../servers/bridge.ts';
import { BUCKET, registerFolder, registerObject, startDiscardEndpoint } from '../servers/s3-endpoints.ts';

/**
 * LIST of a folder of 100,000 objects beside one of 10,000, through the bridge in
 * front of the discard endpoint (which pages through synthetic keys, 1,000 a page,
 * without storing them): time to the first byte of the listing, total time, and the
 * bridge's peak RSS, which must not grow with the object count (the bridge streams
 * page by page).
 */
const FLAT_MARGIN_MIB = 32;

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
      return {
        listings,
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
): Promise<{ firstByteMs: number; seconds: number; peakMib: number }> {
  const ftp = await RawFtp.login(bridge.port, BRIDGE_USER, BRIDGE_PASSWORD);
  try {
    const memory = await PeakMemory.start(bridge.pid);
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
    if (lines !== expectedLines) throw new Error(`LIST ${path} gave ${lines} lines, expected ${expectedLines}`);
    return {
      firstByteMs: Number((firstByte ?? ended) - started) / 1e6,
      seconds: Number(ended - started) / 1e9,
      peakMib,
    };
  } finally {
    await ftp.close();
  }
}
