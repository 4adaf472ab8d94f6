import assert from 'node:assert/strict';
import { Readable, type Transform } from 'node:stream';
import { test } from 'node:test';
import { fromNetworkAscii, toNetworkAscii } from '../../runtime/src/protocol/ascii-transcoder.ts';

async function run(transform: Transform, chunks: readonly string[]): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(chunks.map((text) => Buffer.from(text, 'latin1'))).pipe(transform)) out.push(chunk as Buffer);
  return Buffer.concat(out).toString('latin1');
}

/** Every way of cutting `text` into two chunks (the boundary cases are where state matters). */
function splits(text: string): string[][] {
  return Array.from({ length: text.length + 1 }, (_, index) => [text.slice(0, index), text.slice(index)]);
}

test('stored to network: LF becomes CRLF, existing CRLF and lone CR stay', async () => {
  const cases: Array<[string, string]> = [
    ['a\nb\n', 'a\r\nb\r\n'],
    ['a\r\nb', 'a\r\nb'],
    ['\n\n', '\r\n\r\n'],
    ['lone\rcr\n', 'lone\rcr\r\n'],
    ['', ''],
    ['no newline', 'no newline'],
  ];
  for (const [input, expected] of cases) {
    for (const chunks of splits(input)) assert.equal(await run(toNetworkAscii(), chunks), expected, JSON.stringify(chunks));
  }
});

test('network to stored: CRLF becomes LF, lone CR stays, also across chunk boundaries', async () => {
  const cases: Array<[string, string]> = [
    ['a\r\nb\r\n', 'a\nb\n'],
    ['a\rb', 'a\rb'],
    ['ends with cr\r', 'ends with cr\r'],
    ['\r\r\n', '\r\n'],
    ['\r\n\r\n', '\n\n'],
    ['', ''],
  ];
  for (const [input, expected] of cases) {
    for (const chunks of splits(input)) assert.equal(await run(fromNetworkAscii(), chunks), expected, JSON.stringify(chunks));
  }
});

test('a round trip of stored text is lossless', async () => {
  const text = 'line 1\nline 2\r\nbare\rcr\n\n';
  const network = await run(toNetworkAscii(), [text]);
  assert.equal(await run(fromNetworkAscii(), [network]), 'line 1\nline 2\nbare\rcr\n\n');
});
