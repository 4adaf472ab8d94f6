import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { RUN_ID } from './run-id.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The figures each abuse case records, one JSON file per case under results/
 * (git-ignored), and the table test/abuse/write-figures.ts makes of them after a run.
 */
export const RESULTS_DIR = fileURLToPath(new URL('../abuse/results', import.meta.url));

export interface LatencySummary {
  readonly samples: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export interface CaseFigures {
  /** The case number, with a letter when a case has several parts: '3b'. */
  readonly case: string;
  readonly title: string;
  /** Client connections the attack opened, by what the bridge did with them. */
  readonly connections?: { readonly accepted?: number; readonly refused?: number; readonly held?: number };
  /** The bridge's resident memory: settled before the attack, its peak during it, settled after the attackers left. */
  readonly rssMiB: { readonly before: number; readonly peak: number; readonly after?: number };
  /** A logged-in bystander's NOOP round trips while the attack ran. */
  readonly bystanderMs: LatencySummary;
  /** Case-specific figures (login times, how long sockets were held, ...). */
  readonly notes?: Readonly<Record<string, string | number>>;
}

interface Recorded extends CaseFigures {
  readonly runId: string;
}

/** Nearest-rank percentiles of `values` (milliseconds), rounded to 0.1. */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (fraction: number): number => {
    if (sorted.length === 0) return Number.NaN;
    return round(sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!);
  };
  return { samples: sorted.length, p50: rank(0.5), p95: rank(0.95), max: rank(1) };
}

export function round(value: number): number {
  return Math.round(value * 10) / 10;
}

export async function recordCase(figures: CaseFigures): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const record: Recorded = { runId: RUN_ID, ...figures };
  await writeFile(join(RESULTS_DIR, `case-${figures.case}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

/** Every case recorded by run `runId`, in case order. */
export async function collectCases(runId: string): Promise<CaseFigures[]> {
  const names = (await readdir(RESULTS_DIR).catch(() => [] as string[])).filter((name) => /^case-.+\.json$/.test(name));
  const records = await Promise.all(names.map(async (name) => JSON.parse(await readFile(join(RESULTS_DIR, name), 'utf8')) as Recorded));
  return records
    .filter((record) => record.runId === runId)
    .map(({ runId: _run, ...figures }) => figures)
    .sort((a, b) => a.case.localeCompare(b.case, 'en', { numeric: true }));
}

/** One row per case, columns padded: what the suite prints at the end. */
export function renderTable(cases: readonly CaseFigures[]): string {
  const text = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? '-' : String(Math.round(value)));
  const rows = [
    ['case', 'attack', 'accepted', 'refused', 'held', 'RSS MiB before/peak/after', 'bystander NOOP ms p50/p95/max', 'other figures'],
    ...cases.map((c) => [
      c.case,
      c.title,
      text(c.connections?.accepted),
      text(c.connections?.refused),
      text(c.connections?.held),
      `${text(c.rssMiB.before)}/${text(c.rssMiB.peak)}/${text(c.rssMiB.after)}`,
      `${c.bystanderMs.p50}/${c.bystanderMs.p95}/${c.bystanderMs.max}`,
      Object.entries(c.notes ?? {})
        .map(([key, value]) => `${key} ${value}`)
        .join(', '),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ').trimEnd()).join('\n');
}
