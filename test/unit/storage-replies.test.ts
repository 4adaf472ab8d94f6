import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replyForError } from '../../runtime/src/protocol/storage-replies.ts';
import { StorageError } from '../../runtime/src/storage/storage-error.ts';

test('an upload past the largest file the budget allows is 552, an expected outcome', () => {
  const { reply, expected } = replyForError(new StorageError('too-large', 'File exceeds the largest file this server accepts'));
  assert.equal(reply.code, 552);
  assert.deepEqual(reply.lines, ['File exceeds the largest file this server accepts.']);
  assert.equal(expected, true);
});
