import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PassivePortError } from '../../runtime/src/protocol/passive-ports.ts';
import { ReplyError } from '../../runtime/src/protocol/reply.ts';
import { replyForError } from '../../runtime/src/protocol/storage-replies.ts';
import { PathError } from '../../runtime/src/protocol/virtual-path.ts';
import { StorageError, type StorageErrorKind } from '../../runtime/src/storage/storage-error.ts';

/** What a secret-looking store message would reveal if a reply echoed it. */
const INTERNAL = 'SDK says NoSuchKey about bucket/prefix/key';

/**
 * Every kind of StorageError and the reply it becomes; `expected` false means the session
 * logs it as a command-error. A Record, so a new kind without a row fails the typecheck.
 */
const REPLIES: Record<StorageErrorKind, { readonly code: number; readonly text: string; readonly expected: boolean }> = {
  'not-found': { code: 550, text: 'No such file or folder.', expected: true },
  'already-exists': { code: 550, text: 'A file or folder with that name already exists.', expected: true },
  'not-empty': { code: 550, text: 'Folder is not empty.', expected: true },
  'invalid-name': { code: 553, text: 'File name not allowed.', expected: true },
  'invalid-offset': { code: 554, text: 'Restart offset is beyond the end of the file.', expected: true },
  // The one kind whose message is the reply: the store writes it for the client (the limit it hit).
  'too-many-objects': { code: 550, text: INTERNAL, expected: true },
  conflict: { code: 450, text: 'The file changed during the transfer (another upload?); nothing was stored. Try again.', expected: true },
  'too-large': { code: 552, text: 'File exceeds the largest file this server accepts.', expected: true },
  unsupported: { code: 502, text: "Not supported by this server's storage.", expected: true },
  'access-denied': { code: 550, text: 'Permission denied by storage.', expected: false },
  aborted: { code: 426, text: 'Connection closed; transfer aborted.', expected: true },
  transient: { code: 451, text: 'Storage is unavailable; nothing was changed. Try again later.', expected: false },
};

describe('StorageError kinds → replies', () => {
  for (const [kind, want] of Object.entries(REPLIES) as Array<[StorageErrorKind, (typeof REPLIES)[StorageErrorKind]]>) {
    test(`${kind}: ${want.code}${want.expected ? '' : ', logged as unexpected'}`, () => {
      const { reply, expected } = replyForError(new StorageError(kind, INTERNAL, { cause: new Error('the SDK error') }));
      assert.equal(reply.code, want.code);
      assert.deepEqual(reply.lines, [want.text]);
      assert.equal(expected, want.expected);
      if (kind !== 'too-many-objects') assert.doesNotMatch(reply.lines.join(' '), /SDK|bucket/, 'the store message stays in the log');
    });
  }
});

describe('other errors → replies', () => {
  test('a ReplyError is its own reply', () => {
    assert.deepEqual(replyForError(new ReplyError(501, 'Bad range.')), { reply: { code: 501, lines: ['Bad range.'] }, expected: true });
  });

  test('a PathError is 553 with its message', () => {
    const { reply, expected } = replyForError(new PathError('Path too long'));
    assert.deepEqual([reply.code, reply.lines, expected], [553, ['Path too long.'], true]);
  });

  test('a PassivePortError is 425', () => {
    const { reply, expected } = replyForError(new PassivePortError('no port free'));
    assert.deepEqual([reply.code, reply.lines, expected], [425, ["Can't open data connection."], true]);
  });

  test('anything else is 451 without detail, logged as unexpected', () => {
    const { reply, expected } = replyForError(new TypeError(INTERNAL));
    assert.deepEqual([reply.code, reply.lines, expected], [451, ['Local error in processing.'], false]);
  });
});
