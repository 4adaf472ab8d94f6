import { startBridge, type RunningBridge } from '../composition-root.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { readContainerMemoryLimit } from '../container-memory-limit.ts';
import { LogEventTap, tappedLogger } from '../metrics/log-event-tap.ts';
import { describeStartFailure } from '../start-failure.ts';
import { flushed, stopOnSignal } from './shutdown-signals.ts';

/**
 * The command line without arguments: runs the FTP/FTPS server configured by `env`
 * until a signal stops it; returns the exit status.
 */
export async function serve(env: NodeJS.ProcessEnv): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(env, { memoryLimitBytes: readContainerMemoryLimit() });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`ftp-s3-bridge: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  // The metrics see every event of info and above, whatever LOG_LEVEL prints (docs/metrics.md).
  const tap = new LogEventTap();
  const logger = tappedLogger({ level: config.logLevel, tap });
  let bridge: RunningBridge;
  try {
    bridge = await startBridge(config, { logger, tap });
  } catch (error) {
    const failure = describeStartFailure(error, config);
    // People read stderr; the log line is for machines, with a stack only when it helps.
    logger.fatal(
      { event: 'start-failed', ...(failure.unexpected ? { err: error } : { variable: failure.variable, problem: failure.message }) },
      'the bridge did not start',
    );
    process.stderr.write(`ftp-s3-bridge: ${failure.message}\n`);
    await flushed(logger);
    return failure.exitCode;
  }
  process.send?.({ event: 'listening', ...portsOf(bridge) });
  const code = await stopOnSignal(bridge, logger);
  await flushed(logger);
  return code;
}

function portsOf(bridge: RunningBridge): Record<string, unknown> {
  const { controlPort, implicitTlsPort, healthPort, passivePorts } = bridge;
  return { controlPort, implicitTlsPort, healthPort, passivePorts: [passivePorts[0], passivePorts.at(-1)] };
}
