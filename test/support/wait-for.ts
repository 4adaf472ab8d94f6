import { setTimeout as sleep } from 'node:timers/promises';

/** Polls until `condition` holds, or fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, options: { readonly timeoutMs?: number; readonly what: string }): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what}`);
    await sleep(10);
  }
}
