import { adviceFor, type RuleContext } from './probe-advice.ts';
import { ProbeError } from './probe-error.ts';
import type { DetailValue, ProbeFailure, ProbeStep, StepName } from './probe-report.ts';
import type { ProbeTarget } from './probe-target.ts';

/** Ends the walk after a failed step (the step and the failure are already recorded). */
export class StopProbe extends Error {}

/** What a step hands back: its one-line summary, details for --json, and its value. */
export interface StepResult<T> {
  readonly summary: string;
  readonly details?: Record<string, DetailValue>;
  readonly value: T;
  readonly outcome?: 'skipped';
}

/** Collects what a running step learns besides its result. */
export class StepContext {
  readonly notes: string[] = [];
  warned = false;
  /** The firewall rule the step needs; its sentence leads the advice for a network failure. */
  rule: RuleContext | undefined;
  /** What the step found out about the cause, put before the rule in the advice (a wrong PASV address, say). */
  readonly findings: string[] = [];
  /** Further advice, after the rule. */
  readonly advice: string[] = [];

  note(text: string): void {
    this.notes.push(text);
  }

  warn(text: string): void {
    this.warned = true;
    this.notes.push(`warning: ${text}`);
  }
}

/**
 * The record of a walk: each step with its duration, and the first failure with its
 * advice. A step that throws a ProbeError is recorded as failed and ends the walk
 * (StopProbe); any other error is a bug and propagates.
 */
export class StepRecorder {
  readonly steps: ProbeStep[] = [];
  #failure: ProbeFailure | undefined;
  readonly #target: ProbeTarget;

  constructor(target: ProbeTarget) {
    this.#target = target;
  }

  get failure(): ProbeFailure | undefined {
    return this.#failure;
  }

  async run<T>(name: StepName, work: (step: StepContext) => Promise<StepResult<T>>): Promise<T> {
    const started = performance.now();
    const context = new StepContext();
    try {
      const result = await work(context);
      this.record({
        step: name,
        outcome: result.outcome ?? (context.warned ? 'warning' : 'ok'),
        ms: Math.round(performance.now() - started),
        summary: result.summary,
        details: result.details ?? {},
        notes: context.notes,
      });
      return result.value;
    } catch (error) {
      if (!(error instanceof ProbeError)) throw error;
      this.record({ step: name, outcome: 'failed', ms: Math.round(performance.now() - started), summary: error.message, details: {}, notes: context.notes });
      this.#failure = {
        step: name,
        kind: error.kind,
        message: error.message,
        advice: [...context.findings, ...error.advice, ...adviceFor(error, { rule: context.rule, target: this.#target }), ...context.advice],
      };
      throw new StopProbe();
    }
  }

  record(step: ProbeStep): void {
    this.steps.push(step);
  }

  /** Adds a last line to the failure's advice (what became of the --write file, say). */
  addAdvice(text: string): void {
    if (this.#failure) this.#failure = { ...this.#failure, advice: [...this.#failure.advice, text] };
  }
}
