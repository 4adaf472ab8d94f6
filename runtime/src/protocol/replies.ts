import type { SessionEndReason } from '../auth/user.ts';
import { reply, type Reply } from './reply.ts';

/**
 * The replies given from more than one place, by name, so each has one text:
 * scripts match on them, and the mapping of storage errors (storage-replies.ts)
 * and the handlers must say the same thing for the same situation.
 */
export const REPLIES = {
  noSuchFileOrFolder: reply(550, 'No such file or folder.'),
  noSuchFile: reply(550, 'No such file.'),
  alreadyExists: reply(550, 'A file or folder with that name already exists.'),
  permissionDenied: reply(550, 'Permission denied.'),
  loginFirst: reply(530, 'Please log in with USER and PASS.'),
  offsetBeyondEnd: reply(554, 'Restart offset is beyond the end of the file.'),
  transferAborted: reply(426, 'Connection closed; transfer aborted.'),
  // What a partner sees on every session a deploy or a scale-in ends (docs/deploys.md).
  shuttingDown: reply(421, 'Service restarting (deploy or maintenance); please reconnect.'),
  cannotOpenDataConnection: reply(425, "Can't open data connection."),
  epsvAllInEffect: reply(503, 'EPSV ALL is in effect; use EPSV.'),
  loginsBusy: reply(421, 'Too many logins are being checked; try again shortly.'),
} as const satisfies Record<string, Reply>;

/** 522 for EPSV/EPRT naming a network protocol the control connection does not use. */
export function protocolNotSupported(protocol: '1' | '2'): Reply {
  return reply(522, `Network protocol not supported, use (${protocol}).`);
}

/** 421 for a session a users reload ended: the client is told why, so its operator can act. */
export function sessionEndReply(reason: SessionEndReason): Reply {
  switch (reason) {
    case 'removed':
      return reply(421, 'Your account was removed; closing control connection.');
    case 'password-changed':
      return reply(421, 'Your password was changed; log in again.');
    case 'address-not-allowed':
      return reply(421, 'Your account no longer allows your address; closing control connection.');
    case 'disabled':
      return reply(421, 'Your account was disabled; closing control connection.');
    case 'expired':
      return reply(421, 'Your account has expired; closing control connection.');
    case 'home-changed':
      return reply(421, 'Your home folder was changed; log in again.');
  }
}
