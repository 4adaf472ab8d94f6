import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandLineReader, parseCommand } from '../../runtime/src/protocol/command-line-reader.ts';

const lines = (reader: CommandLineReader, ...chunks: string[]) =>
  chunks.flatMap((chunk) => reader.push(Buffer.from(chunk, 'latin1'))).map((line) => (line.kind === 'line' ? line.text : '<too-long>'));

test('CRLF, LF or a lone CR end a line; empty lines are dropped; lines may span chunks', () => {
  const reader = new CommandLineReader();
  assert.deepEqual(lines(reader, 'USER a\r\nPA', 'SS b\r\n\r\nNOOP\nABOR\r', 'SYST\r\n'), ['USER a', 'PASS b', 'NOOP', 'ABOR', 'SYST']);
});

test('Telnet IAC sequences are removed (IP and DM before ABOR)', () => {
  const reader = new CommandLineReader();
  const chunk = Buffer.concat([Buffer.from([0xff, 0xf4, 0xff]), Buffer.from([0xf2]), Buffer.from('ABOR\r\n')]);
  assert.deepEqual(reader.push(chunk), [{ kind: 'line', text: 'ABOR' }]);
});

test('UTF-8 is decoded, also when a character is split across chunks', () => {
  const reader = new CommandLineReader();
  const bytes = Buffer.from('CWD ünïcode\r\n');
  const first = reader.push(bytes.subarray(0, 6));
  assert.deepEqual([...first, ...reader.push(bytes.subarray(6))], [{ kind: 'line', text: 'CWD ünïcode' }]);
});

test('an over-long line is reported once and skipped, holding no more than the limit', () => {
  const reader = new CommandLineReader(16);
  assert.deepEqual(lines(reader, 'NOOP ' + 'x'.repeat(40), 'y'.repeat(1000), '\r\nPWD\r\n'), ['<too-long>', 'PWD']);
  assert.deepEqual(lines(reader, 'x'.repeat(16) + '\r\n'), ['x'.repeat(16)], 'exactly the limit is fine');
});

test('parseCommand upper-cases the verb and keeps the argument as written', () => {
  assert.deepEqual(parseCommand('retr  two  spaces.txt'), { verb: 'RETR', argument: ' two  spaces.txt' });
  assert.deepEqual(parseCommand('noop'), { verb: 'NOOP', argument: '' });
});
