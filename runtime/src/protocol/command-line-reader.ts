/**
 * Splits the control stream into command lines without unbounded buffering.
 *
 * - CRLF ends a line; so does a lone LF, and a lone CR: Python's ftplib sends ABOR
 *   with MSG_OOB, and Linux removes that urgent byte (the LF) from the stream.
 *   Empty lines are dropped.
 * - Telnet IAC sequences (e.g. IP/DM before ABOR) are removed; 0xFF never occurs in
 *   UTF-8, so nothing else is lost.
 * - A line longer than `maxLineBytes` is discarded up to its end and reported once
 *   as `tooLong`, holding at most `maxLineBytes` in memory.
 */
export type CommandLine = { readonly kind: 'line'; readonly text: string } | { readonly kind: 'too-long' };

const CR = 0x0d;
const LF = 0x0a;
const IAC = 0xff;

export class CommandLineReader {
  readonly #maxLineBytes: number;
  readonly #decoder = new TextDecoder('utf-8');
  #buffer: Buffer;
  #length = 0;
  #discarding = false;
  #pendingIac = 0; // bytes of an IAC sequence still to skip

  constructor(maxLineBytes = 4096) {
    this.#maxLineBytes = maxLineBytes;
    this.#buffer = Buffer.alloc(maxLineBytes);
  }

  push(chunk: Uint8Array): CommandLine[] {
    const lines: CommandLine[] = [];
    for (const byte of chunk) {
      if (this.#pendingIac > 0) {
        this.#pendingIac -= 1;
        continue;
      }
      if (byte === IAC) {
        this.#pendingIac = 1;
        continue;
      }
      if (byte === CR || byte === LF) {
        this.#endLine(lines);
        continue;
      }
      if (this.#discarding) continue;
      if (this.#length === this.#maxLineBytes) {
        this.#discarding = true;
        this.#length = 0;
        lines.push({ kind: 'too-long' });
        continue;
      }
      this.#buffer[this.#length++] = byte;
    }
    return lines;
  }

  #endLine(lines: CommandLine[]): void {
    if (this.#discarding) {
      this.#discarding = false;
      return;
    }
    if (this.#length === 0) return;
    const text = this.#decoder.decode(this.#buffer.subarray(0, this.#length));
    this.#length = 0;
    lines.push({ kind: 'line', text });
  }
}

/** "RETR  some file" → verb "RETR", argument "some file" (one space separates; the rest is kept). */
export function parseCommand(text: string): { verb: string; argument: string } {
  const space = text.indexOf(' ');
  if (space === -1) return { verb: text.toUpperCase(), argument: '' };
  return { verb: text.slice(0, space).toUpperCase(), argument: text.slice(space + 1) };
}
