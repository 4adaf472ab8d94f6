import { runProbeCommand } from '../../runtime/src/probe/probe-command.ts';
import { renderReport, type ProbeReport, type StepName } from '../../runtime/src/probe/probe-report.ts';

/** One in-process run of `ftp-s3-bridge probe`: exit status, the JSON report, and the text a person would see. */
export interface ProbeRun {
  readonly status: number;
  readonly report: ProbeReport;
  readonly text: string;
  readonly stderr: string;
}

export async function probe(args: readonly string[], options: { env?: Record<string, string>; stdinPassword?: string } = {}): Promise<ProbeRun> {
  let stdout = '';
  let stderr = '';
  const status = await runProbeCommand([...args, '--json'], {
    program: 'node runtime/dist/main.js',
    env: options.env ?? {},
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    readPassword: async () => {
      if (options.stdinPassword === undefined) throw new Error('the probe read standard input, which this test does not give');
      return options.stdinPassword;
    },
  });
  if (stdout === '') throw new Error(`the probe printed nothing (status ${status}): ${stderr}`);
  const report = JSON.parse(stdout) as ProbeReport;
  return { status, report, text: renderReport(report), stderr };
}

/** The outcome of every step, in order: what most assertions compare. */
export function outcomes(run: ProbeRun): string[] {
  return run.report.steps.map((step) => `${step.step} ${step.outcome}`);
}

export function stepOf(run: ProbeRun, name: StepName) {
  const step = run.report.steps.find((candidate) => candidate.step === name);
  if (!step) throw new Error(`no step ${name} in:\n${run.text}`);
  return step;
}

/** Steps of a passing run without options, plain FTP. */
export const PLAIN_STEPS = ['connect', 'banner', 'feat', 'login', 'pwd', 'epsv', 'epsv-connect', 'epsv-list', 'pasv', 'pasv-connect', 'pasv-list', 'quit'];
