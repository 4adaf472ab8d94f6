import type { Socket } from 'node:net';

/**
 * Ends a data connection on which nothing has moved for `idleMs`: no byte received,
 * and no write the kernel finished (bytesWritten less writableLength: what was
 * handed over and completed). Checked a few times per period, so it ends within a
 * quarter of a period (at most a second) after `idleMs`.
 *
 * Not socket.setTimeout: Node suppresses a timeout when a write queued before it
 * has moved meanwhile and starts the period again, so a client that stopped reading
 * a download right after the last write moved was only ended after twice the time.
 */
export function endWhenIdle(socket: Socket, idleMs: number): void {
  const moved = (): number => socket.bytesRead + socket.bytesWritten - socket.writableLength;
  let last = moved();
  let lastMoveAt = Date.now();
  const timer = setInterval(() => {
    const now = moved();
    if (now !== last) {
      last = now;
      lastMoveAt = Date.now();
    } else if (Date.now() - lastMoveAt >= idleMs) {
      clearInterval(timer);
      socket.destroy(new Error('Data connection idle timeout'));
    }
  }, Math.min(1000, Math.max(10, idleMs / 4)));
  timer.unref();
  socket.once('close', () => clearInterval(timer));
}
