import { pino, type Level, type Logger } from 'pino';
import { tappedLogger, type LogEventTap } from '../../runtime/src/metrics/log-event-tap.ts';

/** A real pino logger whose JSON lines are kept in memory for assertions. */
export interface CapturedLogger {
  readonly logger: Logger;
  /** Every line logged so far, parsed (grows as the logger writes). */
  readonly lines: Array<Record<string, unknown>>;
  /** Every line logged so far as written, to check that something never appears. */
  readonly raw: string[];
  /** All lines as one text. */
  text(): string;
}

/**
 * @param level the lowest level kept; the bridge's tests log at debug, as LOG_LEVEL=debug would.
 * @param tap where the logger also hands its events for metrics, as the bridge's own logger does.
 */
export function captureLogger(level: Level = 'trace', tap?: LogEventTap): CapturedLogger {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const destination = {
    write: (line: string) => {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
  const logger = tap === undefined ? pino({ level }, destination) : tappedLogger({ level, tap, destination });
  return { logger, lines, raw, text: () => raw.join('') };
}
