import { join } from 'node:path';
import { createCpuQuota, cpuQuotaUnavailable, type CpuQuota } from '../cpu-quota.ts';
import { curlDownload, curlUpload } from '../curl.ts';
import { uploadFiles } from '../ftp-session.ts';
import { interleave, median, round, timed, variant, type Trial } from '../measure.ts';
import { writeSmallFiles, writeSyntheticFile, type BenchContext, type Scenario, type ScenarioResult, type TaskSizeRow } from '../scenario.ts';
import { BRIDGE_HOME, BRIDGE_PASSWORD, BRIDGE_USER, startBridge, type BridgeProcess } from '../servers/bridge.ts';
import { BUCKET, registerObject, startDiscardEndpoint } from '../servers/s3-endpoints.ts';
import { MIB } from '../settings.ts';

/**
 * What a partner gets from each Fargate task size: the bridge under a CPU quota of
 * 0.25, 0.5 and 1 core (a cgroup each, see cpu-quota.ts), in front of the discard
 * endpoint, so that the quota and not S3 is the limit. Upload and download, plain and
 * PROT P, and 4 KiB files over one session; the three bridges run side by side and
 * their trials are interleaved. curl and the endpoint run outside the quota, as the
 * partner's client and S3 do.
 */
const QUOTAS = [0.25, 0.5, 1];
const SMALL_FILES = 100;

export const taskSizesScenario: Scenario = {
  id: 'task-sizes',
  title: 'Task sizes: the bridge under a CPU quota of 0.25, 0.5 and 1 core (discard S3)',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const unavailable = await cpuQuotaUnavailable();
    if (unavailable !== undefined) throw new Error(`CPU quotas are not available on this machine: ${unavailable}`);
    const { settings, work, log } = context;
    const mib = settings.taskSizeMib;
    const repetitions = Math.min(settings.repetitions, 3);
    const discard = await startDiscardEndpoint();
    const stops: Array<() => Promise<void>> = [() => discard.stop()];
    try {
      await registerObject(discard, BRIDGE_HOME, 0);
      await registerObject(discard, `${BRIDGE_HOME}task/source.bin`, mib * MIB);
      const file = join(work, 'task-size.bin');
      await writeSyntheticFile(file, mib * MIB, 5);
      const smallFiles = await writeSmallFiles(join(work, 'task-small'), SMALL_FILES, 4096);
      const bridges: BridgeProcess[] = [];
      for (const cores of QUOTAS) {
        const quota: CpuQuota = await createCpuQuota(cores);
        stops.unshift(() => quota.remove());
        const bridge = await startBridge({ files: context.files, endpoint: discard.endpoint, bucket: BUCKET, onSpawn: (pid) => quota.enter(pid) });
        stops.unshift(() => bridge.stop());
        bridges.push(bridge);
      }
      const measured = (bridge: BridgeProcess, work: () => Promise<unknown>): Promise<Trial> => timed(work, { cpuOf: { bridge: bridge.pid } });
      const runners = (work: (bridge: BridgeProcess, round: number) => Promise<unknown>) =>
        bridges.map((bridge) => (round: number) => measured(bridge, () => work(bridge, round)));
      log(`  ${mib} MiB up and down, plain and PROT P, and ${SMALL_FILES} files of 4 KiB, x ${repetitions}, under ${QUOTAS.join(' / ')} cores`);
      const results = {
        upload: await interleave(repetitions, runners((bridge, round) => curlUpload(`${bridge.url}/task/up-${round}.bin`, file))),
        download: await interleave(repetitions, runners((bridge) => curlDownload(`${bridge.url}/task/source.bin`))),
        tlsUpload: await interleave(
          repetitions,
          runners((bridge, round) => curlUpload(`${bridge.url}/task/tls-${round}.bin`, file, { tls: true })),
        ),
        tlsDownload: await interleave(repetitions, runners((bridge) => curlDownload(`${bridge.url}/task/source.bin`, { tls: true }))),
        small: await interleave(
          repetitions,
          runners((bridge, round) =>
            uploadFiles({ port: bridge.port, user: BRIDGE_USER, password: BRIDGE_PASSWORD }, `/task/small-${round}`, smallFiles),
          ),
        ),
      };
      const taskSizes: TaskSizeRow[] = QUOTAS.map((cores, index) => {
        const speed = (trials: Trial[][]): number => variant('', trials[index]!, mib).mibPerSecond ?? 0;
        const cpu = (trials: Trial[][]): number => variant('', trials[index]!, mib).cpuSecondsPerGib?.['bridge'] ?? 0;
        return {
          cores,
          uploadMibPerSecond: speed(results.upload),
          downloadMibPerSecond: speed(results.download),
          tlsUploadMibPerSecond: speed(results.tlsUpload),
          tlsDownloadMibPerSecond: speed(results.tlsDownload),
          smallFilesPerSecond: round(SMALL_FILES / median(results.small[index]!.map((trial) => trial.seconds)), 1),
          uploadCpuSecondsPerGib: cpu(results.upload),
          downloadCpuSecondsPerGib: cpu(results.download),
        };
      });
      const used = QUOTAS.map((cores, index) => `${cores}: ${median(results.upload[index]!.map((trial) => trial.cores?.['bridge'] ?? 0)).toFixed(2)}`);
      return { taskSizes, notes: [`cores the bridge used while uploading, by quota: ${used.join(', ')}`] };
    } finally {
      for (const stop of stops) await stop();
    }
  },
};
