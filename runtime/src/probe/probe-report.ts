import type { FailureKind } from './probe-error.ts';
import type { ControlSecurity } from './probe-target.ts';
import type { TlsReport } from './tls-inspection.ts';

/** The steps, in the order a client (and the probe) goes through them. */
export type StepName =
  | 'connect'
  | 'tls'
  | 'banner'
  | 'auth-tls'
  | 'certificate'
  | 'feat'
  | 'login'
  | 'protection'
  | 'pwd'
  | 'cwd'
  | 'epsv'
  | 'epsv-connect'
  | 'epsv-list'
  | 'pasv'
  | 'pasv-connect'
  | 'pasv-list'
  | 'type'
  | 'stor'
  | 'size'
  | 'retr'
  | 'dele'
  | 'active'
  | 'active-list'
  | 'quit';

/** `warning`: passed, with something to look at; `skipped`: the server does not offer it. */
export type StepOutcome = 'ok' | 'warning' | 'skipped' | 'failed';

export type DetailValue = string | number | boolean | null | readonly string[];

export interface ProbeStep {
  readonly step: StepName;
  readonly outcome: StepOutcome;
  /** Milliseconds, rounded. */
  readonly ms: number;
  readonly summary: string;
  readonly details: Readonly<Record<string, DetailValue>>;
  /** Warnings and findings, one sentence each. */
  readonly notes: readonly string[];
}

export interface ProbeFailure {
  readonly step: StepName;
  readonly kind: FailureKind;
  readonly message: string;
  /** What to change, first the firewall rule when one is at fault. */
  readonly advice: readonly string[];
}

/** The whole result; `--json` prints exactly this. */
export interface ProbeReport {
  readonly tool: 'ftp-s3-bridge probe';
  readonly target: {
    readonly url: string;
    readonly host: string;
    readonly port: number;
    readonly security: ControlSecurity;
    readonly username: string;
  };
  readonly timeoutMs: number;
  readonly ok: boolean;
  readonly ms: number;
  readonly steps: readonly ProbeStep[];
  readonly tls: TlsReport | null;
  readonly failure: ProbeFailure | null;
}

const SECURITY_TEXT: Record<ControlSecurity, string> = {
  plain: 'plain FTP',
  'explicit-tls': 'explicit FTPS (AUTH TLS)',
  'implicit-tls': 'implicit FTPS',
};

const OUTCOME_TEXT: Record<StepOutcome, string> = { ok: 'ok', warning: 'warn', skipped: 'skip', failed: 'FAIL' };

/** The report for people: one line per step, then the verdict and, on a failure, what to change. */
export function renderReport(report: ProbeReport): string {
  const lines = [`probe ${report.target.url} (${SECURITY_TEXT[report.target.security]}; ${report.timeoutMs / 1000} s per step)`];
  const nameWidth = Math.max(...report.steps.map((step) => step.step.length), 8);
  for (const step of report.steps) {
    const ms = `${step.ms} ms`.padStart(8);
    lines.push(`  ${OUTCOME_TEXT[step.outcome].padEnd(4)}  ${step.step.padEnd(nameWidth)} ${ms}  ${step.summary}`);
    for (const note of step.notes) lines.push(`  ${' '.repeat(4 + 2 + nameWidth + 1 + 8)}  ${note}`);
  }
  const warnings = report.steps.filter((step) => step.outcome === 'warning').length;
  if (report.failure) {
    lines.push(`FAILED at ${report.failure.step} (${report.failure.kind}) after ${report.ms} ms`);
    for (const advice of report.failure.advice) lines.push(`  - ${advice}`);
  } else {
    const steps = `${report.steps.length} steps in ${report.ms} ms`;
    lines.push(warnings > 0 ? `PASSED with ${warnings} warning${warnings > 1 ? 's' : ''}: ${steps}` : `PASSED: ${steps}`);
  }
  return `${lines.join('\n')}\n`;
}
