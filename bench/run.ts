/**
 * `npm run bench`: the bridge measured against its anchors, side by side, in one run.
 *
 * - anchors: lib-storage Upload, a GetObject stream and the minimal relay, same bytes,
 *   same S3 (fauxqs, and Ceph RGW when TEST_S3_ENDPOINT names one);
 * - classic peer: vsftpd over an rclone FUSE mount of the same bucket;
 * - ceiling: the bridge in front of a discard S3 endpoint, beside vsftpd on local
 *   disk, with TLS beside plain, and a CPU profile of the bridge;
 * - task sizes: the bridge under CPU quotas of 0.25, 0.5 and 1 core (Fargate sizes);
 * - memory: 100 simultaneous uploads and downloads, a 50 GiB stream of unknown
 *   length, LISTs of 10,000 and 100,000 objects.
 *
 * Every figure is a ratio of runs interleaved on this machine, medians of several
 * repetitions. Prints tables, writes bench/results/bench.json and chart.svg.
 * BENCH_QUICK=1 scales everything down; BENCH_ONLY=id,id runs some scenarios only.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drawChart } from './chart.ts';
import type { CpuProfileSummary } from './cpu-profile.ts';
import { describeMachine, machineLine } from './machine.ts';
import type { Figure } from './figures.ts';
import type { Comparison } from './measure.ts';
import { ensurePeers } from './peers.ts';
import { formatTables, type BenchReport } from './report.ts';
import type { BenchContext, ListingCheck, MemoryCheck, Scenario, TaskSizeRow } from './scenario.ts';
import { anchorsScenario, rgwAnchorsScenario } from './scenarios/anchors.ts';
import { ceilingScenario } from './scenarios/ceiling.ts';
import { classicPeerScenario } from './scenarios/classic-peer.ts';
import { concurrencyScenario } from './scenarios/concurrency.ts';
import { listingScenario } from './scenarios/listing.ts';
import { longStreamScenario } from './scenarios/long-stream.ts';
import { taskSizesScenario } from './scenarios/task-sizes.ts';
import { ROOT, prepareBridgeFiles } from './servers/bridge.ts';
import { loadSettings } from './settings.ts';

const SCENARIOS: readonly Scenario[] = [
  anchorsScenario,
  rgwAnchorsScenario,
  classicPeerScenario,
  ceilingScenario,
  taskSizesScenario,
  concurrencyScenario,
  longStreamScenario,
  listingScenario,
];

async function main(): Promise<number> {
  const startedAt = Date.now();
  const settings = loadSettings(process.env);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const machine = await describeMachine();
  log(`bench${settings.quick ? ' (quick)' : ''} on ${machineLine(machine)}`);
  const peers = await ensurePeers(log);
  for (const note of peers.notes) log(`  note: ${note}`);
  log(`  upload buffer budget in the memory scenarios: FTP_UPLOAD_BUFFER_MIB=${settings.uploadBufferMib}`);

  const work = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-bench-'));
  const figures: Figure[] = [];
  const comparisons: Comparison[] = [];
  const taskSizes: TaskSizeRow[] = [];
  const memory: MemoryCheck[] = [];
  const listings: ListingCheck[] = [];
  const profiles: CpuProfileSummary[] = [];
  const notes: Record<string, string[]> = {};
  let failed = false;
  try {
    const context: BenchContext = { settings, work, files: await prepareBridgeFiles(work), peers, log };
    for (const scenario of SCENARIOS) {
      if (settings.only !== undefined && !settings.only.has(scenario.id)) continue;
      const unavailable = scenario.unavailable?.(context);
      if (unavailable !== undefined) {
        log(`${scenario.title}: skipped (${unavailable})`);
        notes[scenario.id] = [`skipped: ${unavailable}`];
        continue;
      }
      log(`${scenario.title}`);
      const started = Date.now();
      try {
        const result = await scenario.run(context);
        figures.push(...(result.figures ?? []));
        comparisons.push(...(result.comparisons ?? []));
        taskSizes.push(...(result.taskSizes ?? []));
        memory.push(...(result.memory ?? []));
        listings.push(...(result.listings ?? []));
        profiles.push(...(result.profiles ?? []));
        notes[scenario.id] = [...(result.notes ?? [])];
      } catch (error) {
        failed = true;
        log(`  FAILED: ${(error as Error).stack ?? String(error)}`);
        notes[scenario.id] = [`failed: ${(error as Error).message}`];
      }
      log(`  (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  } finally {
    // A FUSE mount left behind would make this fail; the results are still written.
    await rm(work, { recursive: true, force: true }).catch((error: unknown) => log(`could not remove ${work}: ${String(error)}`));
  }

  const { only, ...rest } = settings;
  const report: BenchReport = {
    date: new Date().toISOString(),
    quick: settings.quick,
    minutes: Math.round((Date.now() - startedAt) / 600) / 100,
    machine,
    settings: { ...rest, ...(only === undefined ? {} : { only: [...only] }) },
    figures,
    comparisons,
    taskSizes,
    memory,
    listings,
    profiles,
    notes,
  };
  const results = join(ROOT, 'bench', 'results');
  await mkdir(results, { recursive: true });
  await writeFile(join(results, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(results, 'chart.svg'), drawChart(report));
  process.stdout.write(`\n${formatTables(report)}\n`);
  for (const [scenario, lines] of Object.entries(notes)) for (const line of lines) process.stdout.write(`\n${scenario}: ${line}`);
  process.stdout.write(`\n\nwrote bench/results/bench.json and bench/results/chart.svg (${report.minutes} min)\n`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
