/**
 * `promise`, or what `onTimeout()` gives once `timeoutMs` have passed, or a rejection
 * with the signal's reason once `signal` aborts, whichever comes first. The timer and
 * the abort listener are removed either way, so nothing is left waiting afterwards.
 */
export async function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => T | Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((resolve, reject) => {
        timer = setTimeout(() => resolve(onTimeout()), timeoutMs);
        onAbort = () => reject(signal?.reason);
        if (signal?.aborted === true) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}
