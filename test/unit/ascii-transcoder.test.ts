import assert from 'node:assert/strict';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { fromNetworkAscii, toNetworkAscii, WINDOW_BYTES } from '../../runtime/src/protocol/ascii-transcoder.ts';

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

/** The conversions written the obvious way, to compare against. */
const reference = {
  toNetwork: (text: string): string => text.replace(/(?<!\r)\n/g, '\r\n'),
  fromNetwork: (text: string): string => text.replace(/\r\n/g, '\n'),
};

test('random text of CR, LF and letters in random chunks converts like the reference', async () => {
  let seed = 7;
  const random = (below: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % below;
  };
  for (let round = 0; round < 30; round++) {
    const text = Array.from({ length: 200 + random(90_000) }, () => '\r\nab'[random(4)]).join('');
    const chunks: string[] = [];
    for (let start = 0; start < text.length; ) {
      const end = start + 1 + random(70_000);
      chunks.push(text.slice(start, end));
      start = end;
    }
    assert.equal(await run(toNetworkAscii(), chunks), reference.toNetwork(text), `round ${round}`);
    assert.equal(await run(fromNetworkAscii(), chunks), reference.fromNetwork(text), `round ${round}`);
  }
});

test('output chunks stay bounded, however large the input chunk and however dense its line ends', async () => {
  const sizes = async (transform: Transform, input: Buffer): Promise<number[]> => {
    // 'data' events, not read(): read() joins whatever is buffered into one chunk.
    const out: number[] = [];
    transform.on('data', (chunk: Buffer) => out.push(chunk.length));
    await pipeline(Readable.from([input]), transform);
    return out;
  };
  const toNetwork = await sizes(toNetworkAscii(), Buffer.alloc(1024 * 1024, '\n'));
  assert.equal(toNetwork.reduce((sum, size) => sum + size, 0), 2 * 1024 * 1024);
  assert.ok(Math.max(...toNetwork) <= 2 * WINDOW_BYTES, `largest chunk ${Math.max(...toNetwork)}`);
  const fromNetwork = await sizes(fromNetworkAscii(), Buffer.from('\r\n'.repeat(512 * 1024), 'latin1'));
  assert.equal(fromNetwork.reduce((sum, size) => sum + size, 0), 512 * 1024);
  assert.ok(Math.max(...fromNetwork) <= WINDOW_BYTES + 1, `largest chunk ${Math.max(...fromNetwork)}`);
});
