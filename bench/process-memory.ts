import { readFile, writeFile } from 'node:fs/promises';

/**
 * Memory and CPU of processes on this machine, from /proc. Peak RSS is the kernel's
 * VmHWM (reset per measurement through clear_refs, which needs root or the same
 * user), checked against 20 ms samples of VmRSS in case the reset is refused.
 */
const MIB_PER_KIB = 1 / 1024;
const CLOCK_TICKS_PER_SECOND = 100;

export interface MemoryReading {
  readonly rssMib: number;
  readonly peakMib: number;
}

export async function readMemory(pid: number): Promise<MemoryReading> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const field = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * MIB_PER_KIB;
  return { rssMib: field('VmRSS'), peakMib: field('VmHWM') };
}

/** Makes VmHWM start again from the current RSS. */
export async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => undefined);
}

/** Peak RSS of one process over a stretch of time. */
export class PeakMemory {
  readonly #pid: number;
  #sampled = 0;
  readonly #timer: NodeJS.Timeout;

  private constructor(pid: number) {
    this.#pid = pid;
    this.#timer = setInterval(() => {
      void readMemory(pid).then((reading) => (this.#sampled = Math.max(this.#sampled, reading.rssMib)));
    }, 20);
  }

  static async start(pid: number): Promise<PeakMemory> {
    await resetPeak(pid);
    return new PeakMemory(pid);
  }

  /** The peak since start, in MiB. */
  async stop(): Promise<number> {
    clearInterval(this.#timer);
    const reading = await readMemory(this.#pid);
    return Math.max(this.#sampled, reading.peakMib, reading.rssMib);
  }
}

/** User + system CPU seconds a process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may contain spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / CLOCK_TICKS_PER_SECOND;
}

export async function availableMib(): Promise<number> {
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  return Number(/MemAvailable:\s+(\d+) kB/.exec(meminfo)?.[1] ?? 0) * MIB_PER_KIB;
}

/**
 * Calls `onLow` once if the machine's available memory drops below `minMib` (the
 * machine is shared: a scenario must stop before it pushes others into the OOM killer).
 */
export function guardAvailableMemory(minMib: number, onLow: (availableMib: number) => void): { stop(): void; lowest(): number } {
  let lowest = Number.POSITIVE_INFINITY;
  let fired = false;
  const timer = setInterval(() => {
    void availableMib().then((available) => {
      lowest = Math.min(lowest, available);
      if (!fired && available < minMib) {
        fired = true;
        onLow(available);
      }
    });
  }, 200);
  return {
    stop: () => clearInterval(timer),
    lowest: () => lowest,
  };
}
