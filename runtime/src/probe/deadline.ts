/**
 * `promise`, or `onTimeout()` once `timeoutMs` have passed, whichever comes first.
 * The timer is cleared either way, so nothing is left waiting when the probe ends.
 */
export async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => T | Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout()), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}
