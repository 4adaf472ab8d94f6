import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  /** @default 30_000: generous for a loaded CI; what a test asserts is that it happens, not how fast. */
  readonly timeoutMs?: number;
  /** @default 100; shorter where the test must act while a short state lasts. */
  readonly intervalMs?: number;
}

/** Polls until `condition` holds, which may take a look at files, processes or S3; fails after the timeout. */
export async function waitUntil(what: string, condition: () => Promise<boolean> | boolean, options: WaitOptions = {}): Promise<void> {
  const { timeoutMs = 30_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(intervalMs);
  }
}
