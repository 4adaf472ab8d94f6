import { pino, type Logger } from 'pino';

/** A real pino logger whose JSON lines are kept in memory for assertions. */
export interface CapturedLogger {
  readonly logger: Logger;
  /** Every line logged so far, parsed. */
  readonly entries: Array<Record<string, unknown>>;
  /** All lines as raw text, to check that something never appears. */
  text(): string;
}

export function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return {
    logger,
    get entries() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    text: () => lines.join(''),
  };
}
