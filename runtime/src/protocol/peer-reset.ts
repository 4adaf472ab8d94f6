import type { Socket } from 'node:net';

/**
 * Whether a data connection's client reset it, asked of the kernel when the stream ends.
 *
 * On Node 20 and 22 (libuv before 1.52) a reset that arrives with the last bytes is
 * reported as a clean end of stream: libuv takes POLLHUP after a short read for EOF and
 * never reads the ECONNRESET the kernel holds. A zero-byte write reaches the kernel and
 * fails on a reset socket, and succeeds on one the client only half-closed; it is sent
 * the moment the end is reported, while the socket is still open (data sockets are
 * half-open) and before anything of ours is written or shut down.
 */
const answers = new WeakMap<Socket, Promise<boolean>>();

/** Arms `tcp`: when its peer ends it, the kernel is asked at once whether it was reset. Call before any other 'end' listener. */
export function askKernelAtEnd(tcp: Socket): void {
  tcp.once('end', () => answers.set(tcp, writesZeroBytes(tcp)));
}

/** True when `tcp` ended (its peer's FIN) and was neither reset then nor has failed since. */
export async function endedWithoutReset(tcp: Socket): Promise<boolean> {
  const answer = answers.get(tcp);
  return answer !== undefined && (await answer) && !tcp.errored;
}

async function writesZeroBytes(tcp: Socket): Promise<boolean> {
  if (tcp.destroyed || tcp.errored || !tcp.writable) return false;
  return await new Promise<boolean>((resolve) => {
    const onError = (): void => resolve(false);
    tcp.once('error', onError);
    tcp.write(Buffer.alloc(0), (error) => {
      tcp.off('error', onError);
      resolve(error == null);
    });
  });
}
