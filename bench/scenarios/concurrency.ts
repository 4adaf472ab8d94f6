import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { LoadRequest, LoadResult } from '../clients/load-client.ts';
import { round } from '../measure.ts';
import { uploadBudget } from '../memory-bound.ts';
import { PeakMemory, guardAvailableMemory } from '../process-memory.ts';
import type { BenchContext, MemoryCheck, Scenario, ScenarioResult } from '../scenario.ts';
import { BRIDGE_HOME, BRIDGE_PASSWORD, BRIDGE_USER, ROOT, startBridge } from '../servers/bridge.ts';
import { BUCKET, startFauxqs, type S3Endpoint } from '../servers/s3-endpoints.ts';
import { MIB } from '../settings.ts';

/**
 * Many transfers at once through one bridge: 100 simultaneous 64 MiB uploads, then
 * 100 simultaneous downloads of the same objects (fauxqs keeps them). The bridge's
 * peak RSS must stay within its upload buffer budget plus a fixed overhead, and
 * every object must come back with the size and SHA-256 it went up with (and have
 * that size in S3).
 *
 * FTP_UPLOAD_BUFFER_MIB, when set for the bench, is passed to the bridge and is the
 * budget the peak is held against. fauxqs keeps every part of an upload in memory
 * until it completes, and reads a whole object into memory to serve it, so this
 * scenario needs a few GiB of the machine: it stops if available memory runs low.
 */
export const concurrencyScenario: Scenario = {
  id: 'concurrency',
  title: 'Concurrency: simultaneous uploads and downloads (fauxqs)',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { settings, work, log } = context;
    const count = settings.concurrentTransfers;
    const bytes = settings.concurrentMib * MIB;
    const budget = uploadBudget({ budgetMib: settings.uploadBufferMib, overheadMib: settings.rssOverheadMib });
    const s3 = await startFauxqs(work);
    try {
      const phase = { context, s3, count, bytes, folder: '/load' };
      log(`  ${count} simultaneous uploads of ${settings.concurrentMib} MiB (${budget.rule})`);
      const up = await runPhase({ ...phase, op: 'upload' });
      const sizesInS3 = await Promise.all(
        up.result.objects.map(async (object) => {
          const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${BRIDGE_HOME}${object.name.slice(1)}` }));
          return head.ContentLength === bytes;
        }),
      );
      log(`  ${count} simultaneous downloads`);
      const down = await runPhase({ ...phase, op: 'download' });

      const sent = new Map(up.result.objects.map((object) => [object.name, object]));
      const matching = down.result.objects.filter((object) => {
        const original = sent.get(object.name);
        return original !== undefined && original.bytes === bytes && object.bytes === bytes && original.sha256 === object.sha256;
      }).length;
      const inS3 = sizesInS3.filter(Boolean).length;
      const totalMib = (count * bytes) / MIB;
      const check = (name: 'uploads' | 'downloads', outcome: PhaseOutcome, verifiedCount: number, verified: string): MemoryCheck => ({
        id: `concurrency-${name}`,
        title: `${count} simultaneous ${settings.concurrentMib} MiB ${name}`,
        seconds: round(outcome.result.seconds),
        mibPerSecond: round(totalMib / outcome.result.seconds, 1),
        peakRssMib: round(outcome.peakMib, 0),
        budgetMib: budget.budgetMib,
        overheadMib: budget.overheadMib,
        boundMib: budget.boundMib,
        rule: budget.rule,
        met: outcome.peakMib <= budget.boundMib && outcome.result.failures.length === 0 && verifiedCount === count,
        verified,
        notes: [
          `the bridge's RSS at start ${outcome.startRssMib} MiB`,
          `fauxqs peak RSS ${outcome.fauxqsPeakMib.toFixed(0)} MiB; the machine's lowest available memory ${outcome.lowestAvailableMib.toFixed(0)} MiB`,
          ...(outcome.result.failures.length > 0 ? [`${outcome.result.failures.length} transfers failed`] : []),
          ...outcome.result.failures.slice(0, 3),
        ],
      });
      return {
        memory: [
          check('uploads', up, inS3, `${inS3}/${count} in S3 with the right size`),
          check('downloads', down, matching, `${matching}/${count} came back with the size and SHA-256 sent`),
        ],
      };
    } finally {
      await s3.stop();
    }
  },
};

interface PhaseOutcome {
  readonly result: LoadResult;
  readonly peakMib: number;
  readonly fauxqsPeakMib: number;
  readonly lowestAvailableMib: number;
  /** The bridge's RSS once started, before the phase. */
  readonly startRssMib: number;
}

/**
 * One phase (all uploads, or all downloads) through a bridge of its own: memory a
 * process once took is seldom given back, so a phase's peak is only its own in a
 * fresh process.
 */
async function runPhase(options: {
  readonly context: BenchContext;
  readonly s3: S3Endpoint;
  readonly op: 'upload' | 'download';
  readonly count: number;
  readonly bytes: number;
  readonly folder: string;
}): Promise<PhaseOutcome> {
  const { context, s3, op, count, bytes, folder } = options;
  const bridge = await startBridge({
    files: context.files,
    endpoint: s3.endpoint,
    bucket: BUCKET,
    checksum: 'when_required',
    passivePorts: count + 20,
    uploadBufferMib: context.settings.uploadBufferMib,
  });
  try {
    const request: LoadRequest = { port: bridge.port, user: BRIDGE_USER, password: BRIDGE_PASSWORD, op, count, bytes, folder };
    const memory = await PeakMemory.start(bridge.pid);
    const fauxqsMemory = await PeakMemory.start(s3.pid);
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'clients', 'load-client.ts'), JSON.stringify(request)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    let lowMemory: number | undefined;
    const guard = guardAvailableMemory(context.settings.minAvailableMib, (available) => {
      lowMemory = available;
      child.kill('SIGTERM');
    });
    const [code] = (await once(child, 'close')) as [number | null];
    guard.stop();
    const peakMib = await memory.stop();
    const fauxqsPeakMib = await fauxqsMemory.stop();
    if (lowMemory !== undefined) {
      throw new Error(
        `stopped: the machine had only ${lowMemory.toFixed(0)} MiB available (bridge at ${peakMib.toFixed(0)} MiB, fauxqs at ${fauxqsPeakMib.toFixed(0)} MiB)`,
      );
    }
    if (code !== 0) throw new Error(`load client (${op}) exited with ${code}`);
    return { result: JSON.parse(stdout) as LoadResult, peakMib, fauxqsPeakMib, lowestAvailableMib: guard.lowest(), startRssMib: bridge.startRssMib };
  } finally {
    await bridge.stop();
  }
}
