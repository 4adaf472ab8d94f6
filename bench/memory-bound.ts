import { S3_MAX_PARTS, partSizeFor, uploadBufferLimit } from '../runtime/src/storage/part-size-plan.ts';
import { MIB } from './settings.ts';

/**
 * The memory a bridge may use while uploading: its upload buffer budget plus a fixed
 * overhead. Which budget applies depends on the bridge being measured:
 * - one that knows FTP_UPLOAD_BUFFER_MIB (its --help lists it) has one process-wide
 *   budget: the value the bench passed, else the default --help states;
 * - one that does not (main before that work) bounds each upload by itself:
 *   max(64 MiB, 2 parts) per upload (part-size-plan.ts uploadBufferLimit), so the
 *   budget is that times the number of simultaneous uploads.
 */
export interface UploadBudget {
  readonly budgetMib: number;
  readonly overheadMib: number;
  readonly boundMib: number;
  /** How the budget was worked out, for the report. */
  readonly rule: string;
}

export interface BridgeBufferSupport {
  /** The bridge lists FTP_UPLOAD_BUFFER_MIB in --help. */
  readonly known: boolean;
  readonly defaultMib: number | undefined;
}

export function uploadBudget(options: {
  readonly support: BridgeBufferSupport;
  /** FTP_UPLOAD_BUFFER_MIB the bench passes to this bridge, if any. */
  readonly configuredMib: number | undefined;
  readonly simultaneousUploads: number;
  /** Bytes of the largest upload (decides the largest part). */
  readonly largestUploadBytes: number;
  readonly overheadMib: number;
}): UploadBudget {
  const { support, configuredMib, overheadMib } = options;
  const largestPart = largestPartBytes(options.largestUploadBytes);
  const perUploadMib = uploadBufferLimit(largestPart) / MIB;
  let budgetMib: number;
  let rule: string;
  if (support.known && (configuredMib ?? support.defaultMib) !== undefined) {
    budgetMib = (configuredMib ?? support.defaultMib)!;
    rule =
      configuredMib !== undefined
        ? `FTP_UPLOAD_BUFFER_MIB=${configuredMib} (process-wide)`
        : `FTP_UPLOAD_BUFFER_MIB default ${budgetMib} MiB (process-wide)`;
  } else {
    budgetMib = perUploadMib * options.simultaneousUploads;
    const ignored = configuredMib !== undefined && !support.known ? `; FTP_UPLOAD_BUFFER_MIB=${configuredMib} passed but this bridge does not know it` : '';
    rule = `per upload: max(64 MiB, 2 x ${largestPart / MIB} MiB part) = ${perUploadMib} MiB x ${options.simultaneousUploads}${ignored}`;
  }
  return { budgetMib, overheadMib, boundMib: budgetMib + overheadMib, rule };
}

/** The part size the plan reaches for a stream of `bytes` (parts grow as the stream goes on). */
export function largestPartBytes(bytes: number): number {
  let remaining = bytes;
  let part = partSizeFor(1);
  for (let partNumber = 1; partNumber <= S3_MAX_PARTS && remaining > 0; partNumber += 1) {
    part = partSizeFor(partNumber);
    remaining -= part;
  }
  return part;
}
