import { StringDecoder } from 'node:string_decoder';
import { ProbeError } from './probe-error.ts';

export interface FtpReply {
  readonly code: number;
  /** Every line, without line ends. */
  readonly lines: readonly string[];
  /** The last line after "ddd ". */
  readonly text: string;
}

/**
 * Bytes of a control connection in, complete replies out (RFC 959 multi-line aware). A
 * line that is not a reply becomes a ProbeError that quotes it, which is how an SSH or
 * HTTP server on the port shows up; so does text past `maxReplyChars` without a
 * complete reply (`overflowed` then says to drop the connection). The probe's control
 * connection reads with it, and so does the tests' raw FTP client.
 */
export class ReplyReader {
  readonly #maxReplyChars: number;
  #decoder = new StringDecoder('utf8');
  #buffer = '';
  #pending: string[] = [];
  #overflowed = false;

  constructor(options: { readonly maxReplyChars: number }) {
    this.#maxReplyChars = options.maxReplyChars;
  }

  /** Text that arrived but is not part of a complete reply yet (for messages). */
  get unread(): string {
    return [...this.#pending.map((line) => `${line}\r\n`), this.#buffer].join('');
  }

  /** Too much text arrived without completing a reply; the reader dropped it. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** Feeds a chunk; returns the replies (and non-replies) it completed, in order. */
  push(chunk: Buffer): Array<FtpReply | ProbeError> {
    const out: Array<FtpReply | ProbeError> = [];
    this.#buffer += this.#decoder.write(chunk);
    for (let end = this.#buffer.indexOf('\n'); end !== -1; end = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, end).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(end + 1);
      this.#onLine(line, out);
    }
    if (this.#buffer.length + this.#pending.join('').length > this.#maxReplyChars) {
      out.push(new ProbeError('protocol', `the server sent more than ${this.#maxReplyChars} characters without completing a reply`));
      this.#buffer = '';
      this.#pending = [];
      this.#overflowed = true;
    }
    return out;
  }

  /** The connection continues as TLS: bytes decode afresh. */
  restart(): void {
    this.#decoder = new StringDecoder('utf8');
  }

  #onLine(line: string, out: Array<FtpReply | ProbeError>): void {
    const pending = this.#pending;
    if (pending.length === 0) {
      if (!/^\d{3}[ -]/.test(line) && !/^\d{3}$/.test(line)) {
        out.push(new ProbeError('protocol', `not an FTP reply: ${JSON.stringify(line.slice(0, 80))}`));
        return;
      }
      if (line[3] === '-') pending.push(line);
      else out.push({ code: Number(line.slice(0, 3)), lines: [line], text: line.slice(4) });
      return;
    }
    pending.push(line);
    // A multi-line reply ends with its code and a space (RFC 959 4.2).
    if (line.startsWith(`${pending[0]!.slice(0, 3)} `)) {
      out.push({ code: Number(line.slice(0, 3)), lines: [...pending], text: line.slice(4) });
      this.#pending = [];
    }
  }
}
