import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A CPU quota for one process, as a Fargate task size gives it (0.25, 0.5, 1 vCPU):
 * a cgroup of its own with a bandwidth limit of `cores` per 100 ms period. cgroup v2
 * (cpu.max) where the unified hierarchy has the cpu controller; otherwise cgroup v1's
 * cpu controller (cpu.cfs_quota_us), as on hosts with the hybrid layout. Needs root
 * (writing under /sys/fs/cgroup); systemd-run would need a running systemd, which
 * containers and small VMs often lack, so the cgroup is made directly.
 */
const PERIOD_US = 100_000;
const V2_ROOT = '/sys/fs/cgroup';
const V1_CPU_ROOT = '/sys/fs/cgroup/cpu';

export interface CpuQuota {
  readonly cores: number;
  /** Moves a process (all its threads) into the quota. */
  enter(pid: number): Promise<void>;
  /** Removes the cgroup; the processes in it must have exited. */
  remove(): Promise<void>;
}

let created = 0;

/** Why CPU quotas cannot be made here, or undefined when they can. */
export async function cpuQuotaUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root to create a cgroup under /sys/fs/cgroup';
  if (await cgroupV2HasCpu()) return undefined;
  if (await exists(join(V1_CPU_ROOT, 'cpu.cfs_quota_us'))) return undefined;
  return 'no cgroup cpu controller: neither cgroup v2 with "cpu" in /sys/fs/cgroup/cgroup.controllers nor cgroup v1 at /sys/fs/cgroup/cpu';
}

export async function createCpuQuota(cores: number): Promise<CpuQuota> {
  const unavailable = await cpuQuotaUnavailable();
  if (unavailable !== undefined) throw new Error(`cannot limit the bridge's CPU: ${unavailable}`);
  const quotaUs = Math.round(cores * PERIOD_US);
  const name = `ftp-s3-bridge-bench-${process.pid}-${(created += 1)}`;
  const v2 = await cgroupV2HasCpu();
  const dir = join(v2 ? V2_ROOT : V1_CPU_ROOT, name);
  if (v2) await writeFile(join(V2_ROOT, 'cgroup.subtree_control'), '+cpu').catch(() => undefined);
  await mkdir(dir);
  try {
    if (v2) await writeFile(join(dir, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
    else {
      await writeFile(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
      await writeFile(join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
    }
  } catch (error) {
    await rmdir(dir).catch(() => undefined);
    throw new Error(`could not set a CPU quota of ${cores} cores in ${dir}: ${(error as Error).message}`);
  }
  return {
    cores,
    enter: (pid) => writeFile(join(dir, 'cgroup.procs'), String(pid)),
    remove: () => rmdir(dir),
  };
}

async function cgroupV2HasCpu(): Promise<boolean> {
  const controllers = await readFile(join(V2_ROOT, 'cgroup.controllers'), 'utf8').catch(() => '');
  return controllers.split(/\s+/).includes('cpu');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
