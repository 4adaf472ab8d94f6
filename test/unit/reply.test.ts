import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReply, quotePath, reply } from '../../runtime/src/protocol/reply.ts';

test('single and multi-line replies (RFC 959 4.2)', () => {
  assert.equal(formatReply(reply(200, 'OK.')), '200 OK.\r\n');
  assert.equal(formatReply(reply(211, 'Features:', 'SIZE', '123 looks like a code', 'End')), '211-Features:\r\n SIZE\r\n 123 looks like a code\r\n211 End\r\n');
});

test('CR and LF inside a text cannot split or forge a reply', () => {
  assert.equal(formatReply(reply(550, 'bad\r\n230 name')), '550 bad  230 name\r\n');
});

test('257 paths double their quotes', () => {
  assert.equal(quotePath('/say "hi"'), '"/say ""hi"""');
});
