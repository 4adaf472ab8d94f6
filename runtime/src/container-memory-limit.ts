import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';

/** cgroup v2 first, then v1; paths below the cgroup mount. */
const LIMIT_FILES = ['memory.max', join('memory', 'memory.limit_in_bytes')];

/**
 * The memory limit of the container this process runs in, as its cgroup shows it
 * (v2 memory.max, else v1 memory.limit_in_bytes), or undefined when none is visible:
 * no such file, "max" (v2 for no limit), or a value larger than the machine's memory
 * (v1 shows no limit as about 2^63), which limits nothing.
 *
 * Read once at start by the composition root, which hands it to loadConfig.
 */
export function readContainerMemoryLimit(
  options: { readonly cgroupRoot?: string; readonly physicalBytes?: number } = {},
): number | undefined {
  const root = options.cgroupRoot ?? '/sys/fs/cgroup';
  const physical = options.physicalBytes ?? totalmem();
  for (const file of LIMIT_FILES) {
    let text: string;
    try {
      text = readFileSync(join(root, file), 'utf8').trim();
    } catch {
      continue; // this cgroup version is not mounted here
    }
    if (!/^\d+$/.test(text)) return undefined;
    const bytes = Number(text);
    return bytes > 0 && bytes <= physical ? bytes : undefined;
  }
  return undefined;
}
