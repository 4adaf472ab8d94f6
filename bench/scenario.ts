import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { CpuProfileSummary } from './cpu-profile.ts';
import type { Figure } from './figures.ts';
import type { Comparison } from './measure.ts';
import type { PeerAvailability } from './peers.ts';
import type { BridgeFiles } from './servers/bridge.ts';
import type { BenchSettings } from './settings.ts';
import { syntheticStream } from '../test/support/synthetic-data.ts';

/** What every scenario gets from the orchestrator. */
export interface BenchContext {
  readonly settings: BenchSettings;
  /** A temporary folder for this run (removed at the end). */
  readonly work: string;
  readonly files: BridgeFiles;
  readonly peers: PeerAvailability;
  log(line: string): void;
}

/** Peak RSS of the bridge in one scenario, against the bound it must stay within. */
export interface MemoryCheck {
  readonly id: string;
  readonly title: string;
  readonly seconds: number;
  readonly mibPerSecond?: number;
  readonly peakRssMib: number;
  readonly budgetMib: number;
  readonly overheadMib: number;
  readonly boundMib: number;
  readonly rule: string;
  readonly met: boolean;
  /** What was checked besides memory (sizes, hashes), and how it came out. */
  readonly verified: string;
  readonly notes: readonly string[];
}

export interface ListingCheck {
  readonly objects: number;
  /** Whether the bridge read the times clients set (a HeadObject per file not seen before). */
  readonly clientTimes?: boolean;
  readonly medianFirstByteMs: number;
  readonly medianSeconds: number;
  readonly peakRssMib: number;
}

/** What the bridge moves under one CPU quota. */
export interface TaskSizeRow {
  readonly cores: number;
  readonly uploadMibPerSecond: number;
  readonly downloadMibPerSecond: number;
  readonly tlsUploadMibPerSecond: number;
  readonly tlsDownloadMibPerSecond: number;
  /** Small files (4 KiB) stored per second over one session. */
  readonly smallFilesPerSecond: number;
  readonly uploadCpuSecondsPerGib: number;
  readonly downloadCpuSecondsPerGib: number;
}

export interface ScenarioResult {
  /** The figures with goals (issue 22), printed first. */
  readonly figures?: readonly Figure[];
  readonly comparisons?: readonly Comparison[];
  readonly memory?: readonly MemoryCheck[];
  readonly listings?: readonly ListingCheck[];
  readonly taskSizes?: readonly TaskSizeRow[];
  readonly profiles?: readonly CpuProfileSummary[];
  readonly notes?: readonly string[];
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Why it cannot run here, if it cannot (a missing peer). */
  unavailable?(context: BenchContext): string | undefined;
  run(context: BenchContext): Promise<ScenarioResult>;
}

export async function writeSyntheticFile(path: string, bytes: number, id = 0): Promise<void> {
  await pipeline(syntheticStream(bytes, id), createWriteStream(path));
}

/** `count` files of `bytes` each (different contents) in a new folder `dir`; their paths in name order. */
export async function writeSmallFiles(dir: string, count: number, bytes: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (let index = 1; index <= count; index += 1) {
    const path = join(dir, `f${String(index).padStart(6, '0')}.bin`);
    await writeSyntheticFile(path, bytes, 1000 + index);
    files.push(path);
  }
  return files;
}
