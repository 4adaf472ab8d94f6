import type { CpuProfileSummary } from './cpu-profile.ts';
import type { Figure } from './figures.ts';
import type { MachineDescription } from './machine.ts';
import type { Comparison } from './measure.ts';
import type { ListingCheck, MemoryCheck, TaskSizeRow } from './scenario.ts';
import type { BenchSettings } from './settings.ts';

/** Everything one run measured: written as bench/results/bench.json, drawn by chart.ts. */
export interface BenchReport {
  readonly date: string;
  readonly quick: boolean;
  readonly minutes: number;
  readonly machine: MachineDescription;
  readonly settings: Omit<BenchSettings, 'only'> & { readonly only?: readonly string[] };
  readonly figures: readonly Figure[];
  readonly comparisons: readonly Comparison[];
  /** Throughput under each CPU quota (the Fargate task sizes). */
  readonly taskSizes: readonly TaskSizeRow[];
  readonly memory: readonly MemoryCheck[];
  readonly listings: readonly ListingCheck[];
  readonly profiles: readonly CpuProfileSummary[];
  /** Per scenario: notes, or why it was skipped or failed. */
  readonly notes: Readonly<Record<string, readonly string[]>>;
}

/** The tables printed at the end of a run (and pasted into README). */
export function formatTables(report: BenchReport): string {
  const sections: string[] = [];
  if (report.figures.length > 0) {
    sections.push(
      table(
        ['figure', 'today', 'goal', 'met', 'measured as'],
        report.figures.map((figure) => [
          figure.title,
          figure.text,
          figure.goal?.text ?? '-',
          figure.goal === undefined ? '-' : figure.goal.met ? 'yes' : 'NO',
          figure.measuredAs,
        ]),
      ),
    );
  }
  if (report.taskSizes.length > 0) {
    sections.push(
      table(
        ['CPU quota (cores)', 'upload', 'download', 'upload PROT P', 'download PROT P', '4 KiB files, one session', 'CPU-s/GiB up / down'],
        report.taskSizes.map((row) => [
          String(row.cores),
          `${row.uploadMibPerSecond.toFixed(0)} MiB/s`,
          `${row.downloadMibPerSecond.toFixed(0)} MiB/s`,
          `${row.tlsUploadMibPerSecond.toFixed(0)} MiB/s`,
          `${row.tlsDownloadMibPerSecond.toFixed(0)} MiB/s`,
          `${row.smallFilesPerSecond.toFixed(0)} /s`,
          `${row.uploadCpuSecondsPerGib.toFixed(2)} / ${row.downloadCpuSecondsPerGib.toFixed(2)}`,
        ]),
      ),
    );
  }
  if (report.comparisons.length > 0) {
    sections.push(
      table(
        ['comparison', 'bridge', 'reference', 'bridge / reference', 'target', 'met', 'bridge peak RSS'],
        report.comparisons.map((comparison) => [
          `${comparison.group}: ${comparison.title}`,
          speed(comparison.bridge.mibPerSecond, comparison.bridge.medianSeconds),
          `${speed(comparison.reference.mibPerSecond, comparison.reference.medianSeconds)} ${comparison.reference.name}`,
          `${comparison.ratio.toFixed(2)}x`,
          comparison.target?.text ?? '-',
          comparison.met === undefined ? '-' : comparison.met ? 'yes' : 'NO',
          comparison.bridge.peakRssMib === undefined ? '-' : `${comparison.bridge.peakRssMib} MiB`,
        ]),
      ),
    );
  }
  if (report.memory.length > 0) {
    sections.push(
      table(
        ['memory scenario', 'time', 'throughput', 'bridge peak RSS', 'bound (budget + overhead)', 'met', 'verified'],
        report.memory.map((check) => [
          check.title,
          `${check.seconds.toFixed(1)} s`,
          check.mibPerSecond === undefined ? '-' : `${check.mibPerSecond.toFixed(0)} MiB/s`,
          `${check.peakRssMib.toFixed(0)} MiB`,
          `${check.boundMib.toFixed(0)} MiB (${check.budgetMib.toFixed(0)} + ${check.overheadMib.toFixed(0)})`,
          check.met ? 'yes' : 'NO',
          check.verified,
        ]),
      ),
    );
  }
  if (report.listings.length > 0) {
    sections.push(
      table(
        ['LIST objects', 'client-set times', 'first byte', 'total', 'bridge peak RSS'],
        report.listings.map((listing) => [
          String(listing.objects),
          listing.clientTimes === undefined ? '-' : listing.clientTimes ? 'on, first listing' : 'off',
          `${listing.medianFirstByteMs.toFixed(0)} ms`,
          `${listing.medianSeconds.toFixed(2)} s`,
          `${listing.peakRssMib.toFixed(0)} MiB`,
        ]),
      ),
    );
  }
  for (const profile of report.profiles) {
    sections.push(
      `${profile.title}: main thread busy ${profile.busyPercent}% of ${profile.seconds} s\n` +
        table(
          ['area', 'share of busy time'],
          profile.byArea.map((entry) => [entry.name, `${entry.percent}%`]),
        ) +
        '\n' +
        table(
          ['function (self time)', 'share', 'mostly called from'],
          profile.topFunctions.slice(0, 10).map((entry) => [entry.name, `${entry.percent}%`, entry.calledFrom ?? '']),
        ),
    );
  }
  return sections.join('\n\n');
}

function speed(mibPerSecond: number | undefined, seconds: number): string {
  return mibPerSecond === undefined ? `${seconds.toFixed(2)} s` : `${mibPerSecond.toFixed(1)} MiB/s`;
}

/** A Markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (cell: string): string => cell.replaceAll('|', '\\|');
  const line = (cells: readonly string[]): string => `| ${cells.map(escape).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
