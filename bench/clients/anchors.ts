import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { stopChild } from '../processes.ts';
import { ROOT } from '../servers/bridge.ts';
import type { S3Credentials } from '../servers/s3-endpoints.ts';
import type { AnchorAnswer, AnchorCommand } from './anchor-worker.ts';

/** The orchestrator's side of anchor-worker.ts: one command at a time. */
export class AnchorWorker {
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  readonly #lines: Interface;
  readonly #pending: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = [];

  private constructor(child: ChildProcessByStdio<Writable, Readable, null>) {
    this.#child = child;
    this.#lines = createInterface({ input: child.stdout });
    this.#lines.on('line', (line) => this.#pending.shift()?.resolve(line));
    child.once('exit', (code) => {
      for (const waiter of this.#pending.splice(0)) waiter.reject(new Error(`anchor worker exited (${code})`));
    });
  }

  static start(store: { readonly endpoint: string; readonly bucket: string; readonly credentials: S3Credentials }): AnchorWorker {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'clients', 'anchor-worker.ts'), store.endpoint, store.bucket], {
      cwd: ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: store.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: store.credentials.secretAccessKey },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    return new AnchorWorker(child);
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** Runs one command; resolves with the seconds it took inside the worker. */
  async run(command: AnchorCommand): Promise<number> {
    const line = await new Promise<string>((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#child.stdin.write(`${JSON.stringify(command)}\n`);
    });
    const answer = JSON.parse(line) as AnchorAnswer;
    if (answer.error !== undefined || answer.seconds === undefined) throw new Error(`anchor ${command.op} failed: ${answer.error}`);
    return answer.seconds;
  }

  async stop(): Promise<void> {
    this.#child.stdin.end();
    await stopChild(this.#child);
  }
}
