import { largestPartBytes, MIB } from '../runtime/src/storage/s3/part-size-plan.ts';

/**
 * The memory a bridge may use while uploading: its process-wide upload buffer budget
 * (FTP_UPLOAD_BUFFER_MIB, which the bench always sets) plus a fixed overhead for the
 * process itself, its sessions and garbage not yet collected.
 */
export interface UploadBudget {
  readonly budgetMib: number;
  readonly overheadMib: number;
  readonly boundMib: number;
  /** How the budget was worked out, for the report. */
  readonly rule: string;
}

export function uploadBudget(options: { readonly budgetMib: number; readonly overheadMib: number }): UploadBudget {
  const { budgetMib, overheadMib } = options;
  return {
    budgetMib,
    overheadMib,
    boundMib: budgetMib + overheadMib,
    rule: `FTP_UPLOAD_BUFFER_MIB=${budgetMib} (process-wide) + ${overheadMib} MiB`,
  };
}

/** The largest part a stream reaches under a budget of `budgetMib` with parts starting at `firstPartMib`. */
export function largestPartMib(budgetMib: number, firstPartMib: number): number {
  return largestPartBytes(budgetMib * MIB, firstPartMib * MIB) / MIB;
}
