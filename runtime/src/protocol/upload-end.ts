import type { Socket } from 'node:net';
import { setImmediate as nextIteration } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { TlsCloseNotify } from '../tls-policy.ts';
import { ReplyError } from './reply.ts';
import { endedWithoutCloseNotify, transportOf } from './tls-data-connection.ts';

/**
 * The one decision on whether an upload's data connection ended as a whole file, taken
 * after its last byte was read and before the store commits. A whole file is one whose
 * data connection ended cleanly (a TCP FIN; under PROT P after the client's close_notify,
 * unless `closeNotify` is optional), was not reset, and whose control connection is
 * still there (`signal` not aborted: a client that dies closes both).
 *
 * A reset is not always reported as one: on Node 20 and 22 (libuv before 1.52) a RST
 * that arrives with the last bytes is reported as a clean end of stream (libuv takes
 * POLLHUP after a short read for EOF and never reads the ECONNRESET). The kernel still
 * holds that error, so the TCP socket is asked directly: a write of zero bytes fails
 * on a reset connection and succeeds on one the client only half-closed. No fixed wait.
 */
export async function confirmWholeUpload(
  data: Socket,
  options: { readonly signal: AbortSignal; readonly closeNotify: TlsCloseNotify; readonly log: Logger },
): Promise<void> {
  const { signal, closeNotify, log } = options;
  const tcp = transportOf(data);
  if (endedWithoutCloseNotify(data)) {
    if (closeNotify === 'required') {
      throw new ReplyError(426, 'Data connection closed without a TLS close_notify; transfer not committed.');
    }
  }
  if (!(await stillConnected(tcp))) {
    throw new ReplyError(426, 'Data connection reset by the client; transfer not committed.');
  }
  // One turn of the event loop's I/O phase: a control connection closed (or reset)
  // together with the data connection has been read by now, and aborted `signal`.
  await nextIteration();
  await nextIteration();
  if (signal.aborted) throw signal.reason;
  if (endedWithoutCloseNotify(data)) {
    log.info(
      { event: 'tls-close-notify-missing', outcome: 'committed' },
      'a PROT P upload ended with a FIN but no TLS close_notify: committed (tlsCloseNotify optional)',
    );
  }
}

/** Whether `tcp` is neither reset nor errored: a zero-byte write reaches the kernel, which reports a pending reset. */
async function stillConnected(tcp: Socket): Promise<boolean> {
  if (tcp.destroyed || tcp.errored || tcp.readableAborted || !tcp.writable) return false;
  return await new Promise<boolean>((resolve) => {
    const onError = (): void => resolve(false);
    tcp.once('error', onError);
    tcp.write(Buffer.alloc(0), (error) => {
      tcp.off('error', onError);
      resolve(error == null && !tcp.destroyed);
    });
  });
}
