import { StorageError } from '../storage/storage-error.ts';
import { PassivePortError } from './passive-ports.ts';
import { reply, ReplyError, type Reply } from './reply.ts';
import { PathError } from './virtual-path.ts';
import { REPLIES } from './replies.ts';

/**
 * The one mapping from errors to replies. Storage messages are written for clients,
 * but the fixed texts here keep replies stable for scripts that match on them;
 * anything unexpected becomes a 451 without detail (the log has it).
 */
export function replyForError(error: unknown): { reply: Reply; expected: boolean } {
  if (error instanceof ReplyError) return { reply: error.reply, expected: true };
  if (error instanceof PathError) return { reply: reply(553, `${error.message}.`), expected: true };
  if (error instanceof PassivePortError) return { reply: REPLIES.cannotOpenDataConnection, expected: true };
  if (error instanceof StorageError) {
    switch (error.kind) {
      case 'not-found':
        return { reply: REPLIES.noSuchFileOrFolder, expected: true };
      case 'already-exists':
        return { reply: REPLIES.alreadyExists, expected: true };
      case 'not-empty':
        return { reply: reply(550, 'Folder is not empty.'), expected: true };
      case 'invalid-name':
        return { reply: reply(553, 'File name not allowed.'), expected: true };
      case 'invalid-offset':
        return { reply: REPLIES.offsetBeyondEnd, expected: true };
      case 'too-many-objects':
        return { reply: reply(550, error.message), expected: true };
      case 'conflict':
        return {
          reply: reply(450, 'The file changed during the transfer (another upload?); nothing was stored. Try again.'),
          expected: true,
        };
      case 'too-large':
        return { reply: reply(552, 'File exceeds the largest file this server accepts.'), expected: true };
      case 'unsupported':
        return { reply: reply(502, 'Not supported by this server\'s storage.'), expected: true };
      case 'access-denied':
        return { reply: reply(550, 'Permission denied by storage.'), expected: false };
      case 'aborted':
        return { reply: REPLIES.transferAborted, expected: true };
      case 'transient':
        return { reply: reply(451, 'Storage is unavailable; nothing was changed. Try again later.'), expected: false };
    }
  }
  return { reply: reply(451, 'Local error in processing.'), expected: false };
}
