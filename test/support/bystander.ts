import { setTimeout as delay } from 'node:timers/promises';
import { RawFtp } from './raw-ftp.ts';
import { summarize, type LatencySummary } from './abuse-figures.ts';

/** How long one NOOP may take before the bystander counts the bridge as frozen. */
const NOOP_TIMEOUT_MS = 30_000;

/**
 * Another partner's logged-in session, from an address of its own, that sends NOOP
 * every `intervalMs` and times each reply: how the bridge serves everyone else
 * while one client attacks it.
 */
export class Bystander {
  readonly #ftp: RawFtp;
  readonly #latencies: number[] = [];
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();
  #failure: Error | undefined;

  private constructor(ftp: RawFtp) {
    this.#ftp = ftp;
  }

  static async start(
    port: number,
    options: { readonly localAddress?: string; readonly explicitTls?: boolean; readonly intervalMs?: number } = {},
  ): Promise<Bystander> {
    const login = options.explicitTls ? RawFtp.loginExplicitTls : RawFtp.login;
    const ftp = await login(port, 'user', 'pass', { localAddress: options.localAddress ?? '127.0.0.250' });
    const bystander = new Bystander(ftp);
    bystander.#loop = bystander.#watch(options.intervalMs ?? 100).catch((error: Error) => {
      bystander.#failure = error;
    });
    return bystander;
  }

  /** Stops, logs out, and summarizes the round trips (a NOOP not answered at all fails). */
  async stop(): Promise<LatencySummary> {
    this.#stopped = true;
    await this.#loop;
    await this.#ftp.close();
    if (this.#failure) throw this.#failure;
    return summarize(this.#latencies);
  }

  async #watch(intervalMs: number): Promise<void> {
    while (!this.#stopped) {
      const started = performance.now();
      this.#ftp.send('NOOP');
      const reply = await this.#ftp.read(NOOP_TIMEOUT_MS);
      if (reply.code !== 200) throw new Error(`the bystander's NOOP got: ${reply.lines.join(' | ')}`);
      this.#latencies.push(performance.now() - started);
      await delay(intervalMs);
    }
  }
}
