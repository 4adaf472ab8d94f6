import { PeakMemory, cpuSeconds } from './process-memory.ts';

/**
 * Timing on a shared, noisy machine: every comparison runs its variants interleaved
 * (A, B, A, B...) so that a burst of load elsewhere hits both, and reports medians.
 */
export interface Trial {
  readonly seconds: number;
  /** Peak RSS of the watched process (the bridge) during the trial. */
  readonly peakRssMib?: number;
  /** Average CPU cores each named process used during the trial. */
  readonly cores?: Readonly<Record<string, number>>;
  /** CPU-seconds (user + system, from /proc) each named process spent during the trial. */
  readonly cpuSeconds?: Readonly<Record<string, number>>;
}

export interface TimedOptions {
  /** Peak RSS of this process (the bridge) is recorded. */
  readonly memoryOf?: number;
  /** CPU use of these processes is recorded, by name. */
  readonly cpuOf?: Readonly<Record<string, number>>;
}

/** Times `work`, and optionally the memory and CPU of other processes meanwhile. */
export async function timed(work: () => Promise<unknown>, options: TimedOptions = {}): Promise<Trial> {
  const memory = options.memoryOf === undefined ? undefined : await PeakMemory.start(options.memoryOf);
  const cpuPids = Object.entries(options.cpuOf ?? {});
  const cpuBefore = await Promise.all(cpuPids.map(([, pid]) => cpuSeconds(pid)));
  const started = process.hrtime.bigint();
  try {
    await work();
  } catch (error) {
    await memory?.stop();
    throw error;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuAfter = await Promise.all(cpuPids.map(([, pid]) => cpuSeconds(pid)));
  const spent = cpuPids.map(([name], index) => [name, cpuAfter[index]! - cpuBefore[index]!] as const);
  const cores = Object.fromEntries(spent.map(([name, cpu]) => [name, round(cpu / seconds)]));
  return {
    seconds,
    ...(memory === undefined ? {} : { peakRssMib: await memory.stop() }),
    ...(cpuPids.length === 0 ? {} : { cores, cpuSeconds: Object.fromEntries(spent.map(([name, cpu]) => [name, round(cpu, 3)])) }),
  };
}

/**
 * Runs `repetitions` rounds; each round runs every runner once, in order, with
 * `between` (cleanup, not timed) after each. Returns the trials of each runner.
 */
export async function interleave(
  repetitions: number,
  runners: ReadonlyArray<(round: number) => Promise<Trial>>,
  between?: () => Promise<void>,
): Promise<Trial[][]> {
  const trials: Trial[][] = runners.map(() => []);
  for (let round = 0; round < repetitions; round += 1) {
    for (const [index, runner] of runners.entries()) {
      trials[index]!.push(await runner(round));
      await between?.();
    }
  }
  return trials;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export interface Variant {
  readonly name: string;
  readonly seconds: readonly number[];
  readonly medianSeconds: number;
  /** Payload MiB / median seconds, when the comparison moves a payload. */
  readonly mibPerSecond?: number;
  readonly peakRssMib?: number;
  /** Median CPU cores each watched process used. */
  readonly cores?: Readonly<Record<string, number>>;
  /** Median CPU-seconds each watched process spent per GiB of payload. */
  readonly cpuSecondsPerGib?: Readonly<Record<string, number>>;
}

export interface Comparison {
  readonly id: string;
  readonly group: string;
  readonly title: string;
  /** Payload per trial, for throughput. */
  readonly mib?: number;
  readonly bridge: Variant;
  readonly reference: Variant;
  /** How many times faster the bridge is: reference median seconds / bridge median seconds. */
  readonly ratio: number;
  /** The bridge must reach at least this ratio (1 = as fast; above 1 = faster). */
  readonly target?: { readonly minRatio: number; readonly strictlyFaster?: boolean; readonly text: string };
  readonly met?: boolean;
  readonly notes: readonly string[];
}

export function variant(name: string, trials: readonly Trial[], mib?: number): Variant {
  const seconds = trials.map((trial) => round(trial.seconds, 3));
  const medianSeconds = round(median(seconds), 3);
  const peaks = trials.map((trial) => trial.peakRssMib).filter((peak): peak is number => peak !== undefined);
  const names = [...new Set(trials.flatMap((trial) => Object.keys(trial.cores ?? {})))];
  const cores = Object.fromEntries(names.map((process) => [process, round(median(trials.map((trial) => trial.cores?.[process] ?? 0)))]));
  const perGib = (process: string): number => round(median(trials.map((trial) => trial.cpuSeconds?.[process] ?? 0)) / (mib! / 1024));
  const cpuNames = mib === undefined ? [] : [...new Set(trials.flatMap((trial) => Object.keys(trial.cpuSeconds ?? {})))];
  return {
    name,
    seconds,
    medianSeconds,
    ...(mib === undefined ? {} : { mibPerSecond: round(mib / medianSeconds, 1) }),
    ...(peaks.length > 0 ? { peakRssMib: round(Math.max(...peaks), 0) } : {}),
    ...(names.length > 0 ? { cores } : {}),
    ...(cpuNames.length > 0 ? { cpuSecondsPerGib: Object.fromEntries(cpuNames.map((process) => [process, perGib(process)])) } : {}),
  };
}

export function compare(
  options: Omit<Comparison, 'ratio' | 'met' | 'notes'> & { readonly notes?: readonly string[] },
): Comparison {
  const ratio = round(options.reference.medianSeconds / options.bridge.medianSeconds, 3);
  const met =
    options.target === undefined
      ? undefined
      : options.target.strictlyFaster === true
        ? ratio > options.target.minRatio
        : ratio >= options.target.minRatio;
  return { ...options, ratio, ...(met === undefined ? {} : { met }), notes: options.notes ?? [] };
}
