import { setTimeout as delay } from 'node:timers/promises';

/** Polls (every 100 ms) until `condition` holds, which may take a look at files or processes; fails after `ms`. */
export async function waitUntil(what: string, condition: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}
