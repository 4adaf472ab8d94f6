import type { Socket } from 'node:net';
import { setImmediate as nextIteration, setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { TlsCloseNotify } from '../tls-policy.ts';
import { endedWithoutReset } from './peer-reset.ts';
import { ReplyError } from './reply.ts';
import { endedWithoutCloseNotify, isRelayed, transportOf } from './tls-data-connection.ts';

/** How long an upload whose end TCP decides waits for a vanished client's control connection to close. */
const CONTROL_CLOSE_GRACE_MS = 40;

/**
 * The one decision on whether an upload's data connection ended as a whole file, taken
 * after its last byte was read and before the store commits. A whole file is one whose
 * data connection ended cleanly: under PROT P with the client's close_notify (an
 * authenticated end), or, plain or with `closeNotify` optional, with a TCP FIN that the
 * kernel says was not a reset (peer-reset.ts: Node 20 and 22 report some resets as a
 * clean end); and whose control connection is still there (`signal` not aborted: a
 * client that dies closes both): where only TCP decides, after a short grace
 * (CONTROL_CLOSE_GRACE_MS), since nothing else tells a killed client from a finished one.
 */
export async function confirmWholeUpload(
  data: Socket,
  options: { readonly signal: AbortSignal; readonly closeNotify: TlsCloseNotify; readonly log: Logger },
): Promise<void> {
  const { signal, closeNotify, log } = options;
  const tcp = transportOf(data);
  // Only a download's TLS runs natively (tls-data-connection.ts), and there the end of the stream cannot be judged.
  if (tcp !== data && !isRelayed(data)) throw new Error('An upload ran on a data connection whose end cannot be judged');
  const withoutCloseNotify = endedWithoutCloseNotify(data);
  if (withoutCloseNotify && closeNotify === 'required') {
    throw new ReplyError(426, 'Data connection closed without a TLS close_notify; transfer not committed.');
  }
  // A close_notify ends the data whatever TCP does next; without one, only a FIN does.
  const tcpDecides = tcp === data || withoutCloseNotify;
  if (tcpDecides && !(await endedWithoutReset(tcp))) {
    throw new ReplyError(426, 'Data connection reset by the client; transfer not committed.');
  }
  // One turn of the event loop's I/O phase: a control connection closed (or reset)
  // together with the data connection has been read by now, and aborted `signal`.
  await nextIteration();
  await nextIteration();
  // Where TCP decides, a finished client and a killed one look the same on the data
  // connection (a FIN after the last byte): only the killed one's control connection
  // closes too, and on a loaded host its FIN has been seen to arrive up to ~20 ms after
  // the data connection's. Stream mode has no other end-of-file signal, so a plain (or
  // close_notify-optional) upload waits a little for it; PROT P with close_notify does not.
  if (tcpDecides && !signal.aborted) await delay(CONTROL_CLOSE_GRACE_MS, undefined, { signal }).catch(() => undefined);
  if (signal.aborted) throw signal.reason;
  if (withoutCloseNotify) {
    log.info(
      { event: 'tls-close-notify-missing', outcome: 'committed' },
      'a PROT P upload ended with a FIN but no TLS close_notify: committed (tlsCloseNotify optional)',
    );
  }
}
