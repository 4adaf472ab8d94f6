import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogEventTap, tappedLogger } from '../../runtime/src/metrics/log-event-tap.ts';

function capture(level: 'warn' | 'debug') {
  const tap = new LogEventTap();
  const observed: unknown[] = [];
  const printed: unknown[] = [];
  tap.subscribe((fields) => observed.push(fields['event']));
  const logger = tappedLogger({ level, tap, destination: { write: (line: string) => printed.push((JSON.parse(line) as { event: unknown }).event) } });
  return { logger, observed, printed };
}

test('the metrics see every event of info and above, whatever LOG_LEVEL prints; metric lines are always printed', () => {
  const { logger, observed, printed } = capture('warn');
  logger.debug({ event: 'command' });
  logger.info({ event: 'transfer' });
  logger.child({ session: 'a1' }).info({ event: 'login' });
  logger.warn({ event: 'lockout' });
  logger.info({ event: 'metrics' });
  assert.deepEqual(observed, ['transfer', 'login', 'lockout', 'metrics']);
  assert.deepEqual(printed, ['lockout', 'metrics']);
});

test('LOG_LEVEL=debug prints (and the metrics see) debug lines too', () => {
  const { logger, observed, printed } = capture('debug');
  logger.debug({ event: 'command' });
  logger.info({ event: 'transfer' });
  assert.deepEqual(observed, ['command', 'transfer']);
  assert.deepEqual(printed, ['command', 'transfer']);
});

test('a stopped subscription sees nothing more', () => {
  const tap = new LogEventTap();
  const seen: unknown[] = [];
  const stop = tap.subscribe((fields) => seen.push(fields['event']));
  tap.observe({ event: 'a' });
  stop();
  tap.observe({ event: 'b' });
  assert.deepEqual(seen, ['a']);
});
