import { pino, type Level, type Logger } from 'pino';

/**
 * Lets the metrics see every log event of info and above, whatever LOG_LEVEL prints:
 * the logger runs at info at least, and its hook hands each event's fields to the
 * subscriber before deciding whether to print the line. Metric lines themselves
 * (event "metrics") are always printed: they are how the figures reach CloudWatch.
 */
export class LogEventTap {
  #listener: ((fields: Record<string, unknown>) => void) | undefined;

  /** Starts handing events to `listener`; the returned function stops it. */
  subscribe(listener: (fields: Record<string, unknown>) => void): () => void {
    this.#listener = listener;
    return () => {
      if (this.#listener === listener) this.#listener = undefined;
    };
  }

  observe(fields: Record<string, unknown>): void {
    this.#listener?.(fields);
  }
}

/** The service's logger (JSON lines on stdout, or `destination`), tapped for metrics. */
export function tappedLogger(options: { level: Level | 'silent'; tap: LogEventTap; destination?: pino.DestinationStream }): Logger {
  const printed = pino.levels.values[options.level] ?? Number.POSITIVE_INFINITY;
  const { tap } = options;
  const logger = pino(
    {
      level: printed > pino.levels.values['info']! ? 'info' : options.level,
      base: { service: 'ftp-s3-bridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: {
        logMethod(args, method, level) {
          const [first] = args as unknown[];
          const fields = typeof first === 'object' && first !== null && !(first instanceof Error) ? (first as Record<string, unknown>) : undefined;
          if (fields !== undefined) tap.observe(fields);
          if (level >= printed || fields?.['event'] === 'metrics') method.apply(this, args);
        },
      },
    },
    options.destination,
  );
  return logger;
}
