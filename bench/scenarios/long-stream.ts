import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { round, timed } from '../measure.ts';
import { largestPartMib, uploadBudget } from '../memory-bound.ts';
import { guardAvailableMemory } from '../process-memory.ts';
import { run } from '../processes.ts';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.ts';
import { BRIDGE_HOME, ROOT, startBridge } from '../servers/bridge.ts';
import { BUCKET, discardStats, registerObject, startDiscardEndpoint } from '../servers/s3-endpoints.ts';
import { GIB, MIB } from '../settings.ts';

/**
 * One upload of unknown length, 50 GiB, through the discard endpoint: a generator
 * process writes synthetic bytes into `curl -T -`, so neither curl nor the bridge
 * knows the size up front and nothing touches the disk. The bridge runs with its
 * default budget (no FTP_UPLOAD_BUFFER_MIB). It must complete (the object's size in
 * S3 is the stream's) with peak RSS within the budget plus the fixed overhead; part
 * sizes grow on the way (8 MiB, doubling every 500 parts).
 */
export const longStreamScenario: Scenario = {
  id: 'long-stream',
  title: 'A long stream of unknown length (discard S3)',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { settings, log } = context;
    const bytes = Math.round(settings.longStreamGib * GIB);
    const discard = await startDiscardEndpoint();
    const stops: Array<() => Promise<void>> = [() => discard.stop()];
    try {
      await registerObject(discard, BRIDGE_HOME, 0);
      const bridge = await startBridge({
        files: context.files,
        endpoint: discard.endpoint,
        bucket: BUCKET,
        uploadBufferMib: settings.uploadBufferMib,
      });
      stops.unshift(() => bridge.stop());
      const budget = uploadBudget({ budgetMib: settings.uploadBufferMib, overheadMib: settings.rssOverheadMib });
      log(`  ${settings.longStreamGib} GiB from a generator through curl -T - (${budget.rule})`);
      const source = join(ROOT, 'bench', 'clients', 'synthetic-source.ts');
      const url = `${bridge.url}/long/stream.bin`;
      const guard = guardAvailableMemory(settings.minAvailableMib, () => void bridge.stop());
      const trial = await timed(
        () =>
          run('bash', ['-c', `set -o pipefail; "${process.execPath}" "${source}" ${bytes} | curl -sS --fail --ftp-create-dirs -T - "${url}"`], {
            timeoutMs: 3 * 3600_000,
          }),
        { memoryOf: bridge.pid, cpuOf: { bridge: bridge.pid, 'discard S3': discard.pid } },
      );
      guard.stop();
      const head = await discard.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${BRIDGE_HOME}long/stream.bin` }));
      const stats = await discardStats(discard);
      const complete = head.ContentLength === bytes;
      const peak = trial.peakRssMib ?? 0;
      return {
        memory: [
          {
            id: 'long-stream',
            title: `${settings.longStreamGib} GiB stream of unknown length`,
            seconds: round(trial.seconds),
            mibPerSecond: round(bytes / MIB / trial.seconds, 1),
            peakRssMib: round(peak, 0),
            budgetMib: budget.budgetMib,
            overheadMib: budget.overheadMib,
            boundMib: budget.boundMib,
            rule: budget.rule,
            met: complete && peak <= budget.boundMib,
            verified: complete ? `object of ${bytes} bytes in S3` : `object has ${head.ContentLength} bytes, expected ${bytes}`,
            notes: [
              `the bridge's RSS at start ${bridge.startRssMib} MiB`,
              `${stats.requests.UploadPart ?? 0} parts, the largest ${(stats.largestBodyBytes / MIB).toFixed(0)} MiB (the plan's largest: ${largestPartMib(settings.uploadBufferMib, 8)} MiB)`,
              `CPU cores used: ${JSON.stringify(trial.cores)}`,
            ],
          },
        ],
      };
    } finally {
      for (const stop of stops) await stop();
    }
  },
};
