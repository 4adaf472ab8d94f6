import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandLineReader, parseCommand, type CommandLine } from '../../runtime/src/protocol/command-line-reader.ts';

function drain(reader: CommandLineReader, chunk: Uint8Array): CommandLine[] {
  reader.push(chunk);
  const out: CommandLine[] = [];
  for (let line = reader.next(); line !== undefined; line = reader.next()) out.push(line);
  assert.equal(reader.pending, false);
  return out;
}

const lines = (reader: CommandLineReader, ...chunks: string[]) =>
  chunks.flatMap((chunk) => drain(reader, Buffer.from(chunk, 'latin1'))).map((line) => (line.kind === 'line' ? line.text : '<too-long>'));

test('CRLF, LF or a lone CR end a line; empty lines are dropped; lines may span chunks', () => {
  const reader = new CommandLineReader();
  assert.deepEqual(lines(reader, 'USER a\r\nPA', 'SS b\r\n\r\nNOOP\nABOR\r', 'SYST\r\n'), ['USER a', 'PASS b', 'NOOP', 'ABOR', 'SYST']);
});

test('Telnet IAC sequences are removed (IP and DM before ABOR)', () => {
  const reader = new CommandLineReader();
  const chunk = Buffer.concat([Buffer.from([0xff, 0xf4, 0xff]), Buffer.from([0xf2]), Buffer.from('ABOR\r\n')]);
  assert.deepEqual(drain(reader, chunk), [{ kind: 'line', text: 'ABOR' }]);
});

test('UTF-8 is decoded, also when a character is split across chunks', () => {
  const reader = new CommandLineReader();
  const bytes = Buffer.from('CWD ünïcode\r\n');
  const first = drain(reader, bytes.subarray(0, 6));
  assert.deepEqual([...first, ...drain(reader, bytes.subarray(6))], [{ kind: 'line', text: 'CWD ünïcode' }]);
});

test('an over-long line is reported once and skipped, holding no more than the limit', () => {
  const reader = new CommandLineReader(16);
  assert.deepEqual(lines(reader, 'NOOP ' + 'x'.repeat(40), 'y'.repeat(1000), '\r\nPWD\r\n'), ['<too-long>', 'PWD']);
  assert.deepEqual(lines(reader, 'x'.repeat(16) + '\r\n'), ['x'.repeat(16)], 'exactly the limit is fine');
});

test('lines are pulled one at a time: the rest of a chunk waits unread', () => {
  const reader = new CommandLineReader();
  reader.push(Buffer.from('NOOP\r\nPWD\r\nSY'));
  assert.deepEqual(reader.next(), { kind: 'line', text: 'NOOP' });
  assert.equal(reader.pending, true);
  assert.throws(() => reader.push(Buffer.from('x')), /still being read/);
  assert.deepEqual(reader.next(), { kind: 'line', text: 'PWD' });
  assert.equal(reader.next(), undefined, 'a partial line is not a line');
  assert.equal(reader.pending, false);
  assert.deepEqual(drain(reader, Buffer.from('ST\r\n')), [{ kind: 'line', text: 'SYST' }]);
});

test('clear() forgets unread lines and a partial line (nothing before a TLS handshake survives it)', () => {
  const reader = new CommandLineReader();
  reader.push(Buffer.from('AUTH TLS\r\nUSER bob\r\nPASS pw\r\nPAR'));
  assert.deepEqual(reader.next(), { kind: 'line', text: 'AUTH TLS' });
  reader.clear();
  assert.equal(reader.pending, false);
  assert.equal(reader.next(), undefined);
  assert.deepEqual(drain(reader, Buffer.from('TIAL\r\nPWD\r\n')), [
    { kind: 'line', text: 'TIAL' },
    { kind: 'line', text: 'PWD' },
  ]);
});

test('parseCommand upper-cases the verb and keeps the argument as written', () => {
  assert.deepEqual(parseCommand('retr  two  spaces.txt'), { verb: 'RETR', argument: ' two  spaces.txt' });
  assert.deepEqual(parseCommand('noop'), { verb: 'NOOP', argument: '' });
});
