/**
 * Splits the control stream into command lines without unbounded buffering.
 *
 * - CRLF ends a line; so does a lone LF, and a lone CR: Python's ftplib sends ABOR
 *   with MSG_OOB, and Linux removes that urgent byte (the LF) from the stream.
 *   Empty lines are dropped.
 * - Telnet IAC sequences (e.g. IP/DM before ABOR) are removed; 0xFF never occurs in
 *   UTF-8, so nothing else is lost.
 * - A line longer than `maxLineBytes` is discarded up to its end and reported once
 *   as `too-long`, holding at most `maxLineBytes` in memory.
 *
 * Lines are pulled one at a time (`next()`), so a caller that stops pulling (its
 * command queue is full) holds at most the one chunk it pushed, not every line in it.
 */
export type CommandLine = { readonly kind: 'line'; readonly text: string } | { readonly kind: 'too-long' };

const CR = 0x0d;
const LF = 0x0a;
const IAC = 0xff;
const EMPTY = Buffer.alloc(0);

export class CommandLineReader {
  readonly #maxLineBytes: number;
  readonly #decoder = new TextDecoder('utf-8');
  readonly #line: Buffer;
  #length = 0;
  #discarding = false;
  #pendingIac = 0; // bytes of an IAC sequence still to skip
  /** The pushed chunk and how far into it next() has read. */
  #chunk: Uint8Array = EMPTY;
  #offset = 0;

  constructor(maxLineBytes = 4096) {
    this.#maxLineBytes = maxLineBytes;
    this.#line = Buffer.alloc(maxLineBytes);
  }

  /** Bytes of the last pushed chunk that next() has not read yet. */
  get pending(): boolean {
    return this.#offset < this.#chunk.length;
  }

  /** Hands over a chunk; only once the previous one is fully read (`pending` is false). */
  push(chunk: Uint8Array): void {
    if (this.pending) throw new Error('CommandLineReader: the previous chunk is still being read');
    this.#chunk = chunk;
    this.#offset = 0;
  }

  /** The next complete line of what was pushed, or undefined when more bytes are needed. */
  next(): CommandLine | undefined {
    const chunk = this.#chunk;
    while (this.#offset < chunk.length) {
      const byte = chunk[this.#offset++]!;
      if (this.#pendingIac > 0) {
        this.#pendingIac -= 1;
        continue;
      }
      if (byte === IAC) {
        this.#pendingIac = 1;
        continue;
      }
      if (byte === CR || byte === LF) {
        const line = this.#endLine();
        if (line) return line;
        continue;
      }
      if (this.#discarding) continue;
      if (this.#length === this.#maxLineBytes) {
        this.#discarding = true;
        this.#length = 0;
        return { kind: 'too-long' };
      }
      this.#line[this.#length++] = byte;
    }
    return undefined;
  }

  /**
   * Forgets everything received so far, read or not: after AUTH TLS nothing that
   * arrived before the handshake may be taken as a command (CVE-2011-0411).
   */
  clear(): void {
    this.#chunk = EMPTY;
    this.#offset = 0;
    this.#length = 0;
    this.#discarding = false;
    this.#pendingIac = 0;
  }

  #endLine(): CommandLine | undefined {
    if (this.#discarding) {
      this.#discarding = false;
      return undefined;
    }
    if (this.#length === 0) return undefined;
    const text = this.#decoder.decode(this.#line.subarray(0, this.#length));
    this.#length = 0;
    return { kind: 'line', text };
  }
}

/** "RETR  some file" → verb "RETR", argument "some file" (one space separates; the rest is kept). */
export function parseCommand(text: string): { verb: string; argument: string } {
  const space = text.indexOf(' ');
  if (space === -1) return { verb: text.toUpperCase(), argument: '' };
  return { verb: text.slice(0, space).toUpperCase(), argument: text.slice(space + 1) };
}
