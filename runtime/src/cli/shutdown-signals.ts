import type { Logger } from 'pino';
import type { RunningBridge } from '../composition-root.ts';
import { withDeadline } from '../deadline.ts';

/** A forced exit waits this long for S3 to confirm the aborts of the transfers it cut off. */
const FORCED_EXIT_ABORT_WAIT_MS = 3000;

/**
 * The first SIGTERM or SIGINT stops gracefully. The next ends the grace period: the
 * transfers still running are aborted now, and the exit waits (briefly) for S3 to
 * confirm, then says how many it could not. A supervisor's IPC channel closing (the
 * local stack killed) stops gracefully too. Resolves with the exit status.
 */
export async function stopOnSignal(bridge: RunningBridge, logger: Logger): Promise<number> {
  return await new Promise<number>((resolve) => {
    let stopping: Promise<void> | undefined;
    let forcing = false;
    const stop = (): void => {
      // A forced exit resolves on its own, once it has logged.
      stopping = bridge.stop().then(() => {
        if (!forcing) resolve(0);
      });
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping === undefined) {
        logger.info({ event: 'signal', signal }, 'stopping gracefully; a second signal aborts running transfers');
        stop();
        return;
      }
      if (forcing) return;
      forcing = true;
      bridge.endGrace();
      void withDeadline(stopping, FORCED_EXIT_ABORT_WAIT_MS, () => undefined).then(() => {
        const notAborted = bridge.abortingTransfers;
        logger.warn(
          { event: 'forced-exit', signal, transfersNotAborted: notAborted },
          notAborted === 0
            ? 'forced exit: running transfers were aborted'
            : 'forced exit: some cut-off uploads may remain as multipart uploads (the bucket lifecycle rule removes them)',
        );
        resolve(130);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    if (process.channel) {
      // The channel alone must not keep the process alive once it has stopped.
      process.channel.unref();
      process.once('disconnect', () => {
        if (stopping !== undefined) return;
        logger.info({ event: 'parent-gone' }, 'the process that started the bridge is gone; stopping gracefully');
        stop();
      });
    }
  });
}

/**
 * Resolves once every log line written so far has reached stdout. The caller exits
 * right after: a line still queued behind a full pipe (the log collector reading
 * slowly) would otherwise come out after later ones, or not at all.
 */
export async function flushed(logger: Logger): Promise<void> {
  // Bounded: stdout gone for good must not keep the process from exiting.
  await withDeadline(new Promise<void>((resolve) => logger.flush(() => resolve())), 2000, () => undefined);
}
