import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHILD_USER,
  memoryMiB,
  resetPeakMemory,
  settledRss,
  startChildBridge,
  type ChildBridge,
  type ChildBridgeUser,
} from './child-bridge.ts';
import { startTestS3, type TestS3 } from './s3-server.ts';
import { Bystander } from './bystander.ts';
import { round, type LatencySummary } from './abuse-figures.ts';

/**
 * The bridge an abuse case attacks: the built entry point in a child process (so
 * its RSS is its own), against fauxqs, with the bystander's user (`user`/`pass`)
 * and whatever users the case adds.
 */
export interface AbuseBridge {
  readonly s3: TestS3;
  readonly child: ChildBridge;
  /** Stops the bridge (SIGKILL if still running), fauxqs and the temporary folder. */
  stop(): Promise<void>;
}

export async function startAbuseBridge(
  options: { readonly env?: Record<string, string>; readonly users?: readonly ChildBridgeUser[]; readonly tls?: boolean } = {},
): Promise<AbuseBridge> {
  const s3 = await startTestS3();
  const dir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-abuse-'));
  try {
    const child = await startChildBridge({
      s3,
      dir,
      users: [CHILD_USER, ...(options.users ?? [])],
      ...(options.env ? { env: options.env } : {}),
      ...(options.tls ? { tls: true } : {}),
    });
    return {
      s3,
      child,
      async stop() {
        child.kill();
        await s3.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** What was seen while an attack ran. */
export interface AttackPhase {
  readonly rssMiB: { readonly before: number; readonly peak: number };
  readonly bystanderMs: LatencySummary;
}

/**
 * Measures one attack: the bridge's settled RSS before it, its peak while it runs
 * (VmHWM, restarted at the beginning), and a bystander's NOOP round trips. `end()`
 * closes the phase; `settle()` then reads the RSS once the attackers have left.
 */
export class AttackWatch {
  readonly #pid: number;
  readonly #before: number;
  readonly #bystander: Bystander;

  private constructor(pid: number, before: number, bystander: Bystander) {
    this.#pid = pid;
    this.#before = before;
    this.#bystander = bystander;
  }

  /** `explicitTls`: the bystander logs in over AUTH TLS (for a bridge with FTP_TLS_MODE=required). */
  static async start(child: ChildBridge, options: { readonly explicitTls?: boolean } = {}): Promise<AttackWatch> {
    const bystander = await Bystander.start(child.port, options);
    const before = await settledRss(child.pid);
    await resetPeakMemory(child.pid);
    return new AttackWatch(child.pid, before, bystander);
  }

  async end(): Promise<AttackPhase> {
    const peak = await memoryMiB(this.#pid, 'VmHWM');
    const bystanderMs = await this.#bystander.stop();
    return { rssMiB: { before: round(this.#before), peak: round(peak) }, bystanderMs };
  }

  async settle(): Promise<number> {
    return round(await settledRss(this.#pid));
  }
}
