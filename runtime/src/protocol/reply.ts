/**
 * FTP reply formatting (RFC 959 section 4.2). Texts are single-line-safe: CR and LF
 * inside a text (a file name, say) are replaced, so a reply can never be split or
 * forged by data. Multi-line replies prefix inner lines with a space so no inner
 * line can look like the closing "ddd " line.
 */
export interface Reply {
  readonly code: number;
  /** One line, or several for a multi-line reply (first and last line carry the code). */
  readonly lines: readonly string[];
}

export function reply(code: number, ...lines: string[]): Reply {
  return { code, lines: lines.length > 0 ? lines : [''] };
}

export function formatReply({ code, lines }: Reply): string {
  const safe = lines.map(oneLine);
  if (safe.length === 1) return `${code} ${safe[0]}\r\n`;
  const first = `${code}-${safe[0]}\r\n`;
  const inner = safe.slice(1, -1).map((line) => ` ${line}\r\n`).join('');
  return `${first}${inner}${code} ${safe[safe.length - 1]}\r\n`;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, ' ');
}

/** RFC 959 appendix II: a double quote inside a 257 path is written twice. */
export function quotePath(path: string): string {
  return `"${path.replace(/"/g, '""')}"`;
}

/** Thrown by handlers to answer with a specific reply; the dispatcher writes it. */
export class ReplyError extends Error {
  readonly reply: Reply;

  /** `new ReplyError(550, 'text')`, or with a named reply: `new ReplyError(REPLIES.noSuchFile)`. */
  constructor(code: number | Reply, text?: string) {
    const value = typeof code === 'number' ? reply(code, text ?? '') : code;
    super(value.lines.join(' '));
    this.name = 'ReplyError';
    this.reply = value;
  }
}
