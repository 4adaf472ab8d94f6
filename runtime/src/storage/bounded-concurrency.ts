/**
 * Runs `work` on every item, at most `concurrency` at a time, in the items' order.
 * After the first failure, or once `stopped()` says so, no further item starts;
 * resolves or rejects (with the first failure) only once every started item has
 * settled, so a caller cleaning up after a failure (aborting a multipart upload,
 * deleting copies) knows that nothing is still running.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
  stopped: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed && !stopped()) {
      const index = next;
      next += 1;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  const rejected = results.find((result) => result.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
}
