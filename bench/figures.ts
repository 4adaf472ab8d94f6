import type { Comparison, Variant } from './measure.ts';

/**
 * The figures issue 22 sets goals for, each beside its goal, printed first: a ratio of
 * interleaved runs, a time, or CPU-seconds per GiB of the bridge process (/proc, user +
 * system, so the load of other processes does not count). A figure with no goal is
 * reported for the record (CPU per byte is what a Fargate task pays for).
 */
export interface Figure {
  readonly id: string;
  readonly title: string;
  readonly value: number;
  /** The value as printed: "0.81x", "17.9 ms", "3.20 CPU-s/GiB". */
  readonly text: string;
  readonly goal?: { readonly text: string; readonly met: boolean };
  /** What was compared, in a few words. */
  readonly measuredAs: string;
}

/** A comparison's ratio (reference median seconds / bridge median seconds) against a minimum. */
export function ratioFigure(id: string, title: string, comparison: Comparison, goal?: { readonly min: number; readonly text: string }): Figure {
  return {
    id,
    title,
    value: comparison.ratio,
    text: `${comparison.ratio.toFixed(2)}x`,
    ...(goal === undefined ? {} : { goal: { text: goal.text, met: comparison.ratio >= goal.min } }),
    measuredAs: `${comparison.bridge.name} vs ${comparison.reference.name}, ${comparison.title}`,
  };
}

/** CPU-seconds the bridge process spent per GiB moved, median of the variant's trials. */
export function cpuFigure(id: string, title: string, variant: Variant): Figure | undefined {
  const value = variant.cpuSecondsPerGib?.['bridge'];
  if (value === undefined) return undefined;
  return { id, title, value, text: `${value.toFixed(2)} CPU-s/GiB`, measuredAs: `${variant.name} (${variant.mibPerSecond ?? '?'} MiB/s)` };
}

/** A time in milliseconds against a maximum. */
export function millisecondsFigure(id: string, title: string, ms: number, goal: { readonly max: number; readonly text: string }, measuredAs: string): Figure {
  return { id, title, value: ms, text: `${ms.toFixed(1)} ms`, goal: { text: goal.text, met: ms <= goal.max }, measuredAs };
}
