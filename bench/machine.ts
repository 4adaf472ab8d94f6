import { readFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';

/** What the figures were measured on: they mean little without it. */
export interface MachineDescription {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGib: number;
  readonly node: string;
  readonly os: string;
  readonly kernel: string;
  /** 1-minute load average when the run started: the machine is shared. */
  readonly loadAtStart: number;
}

export async function describeMachine(): Promise<MachineDescription> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? process.platform;
  const processors = cpus();
  return {
    cores: processors.length,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    memoryGib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: pretty,
    kernel: release(),
    loadAtStart: Math.round(loadavg()[0]! * 100) / 100,
  };
}

export function machineLine(machine: MachineDescription): string {
  return `${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGib} GiB, Node ${machine.node}, ${machine.os} (Linux ${machine.kernel})`;
}
