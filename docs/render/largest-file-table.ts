/**
 * The table of the largest file each upload buffer budget allows (docs/operations.md,
 * "Memory"), computed by the part plan the uploader follows
 * (runtime/src/storage/s3/part-size-plan.ts).
 */
import {
  DEFAULT_FIRST_PART_BYTES,
  GIB,
  MIB,
  largestPartBytes,
  largestStreamBytes,
} from '../../runtime/src/storage/s3/part-size-plan.ts';

const BUDGETS_MIB = [32, 64, 128, 256, 512, 1024, 2048, 4096];
/** S3's largest object. */
const S3_LARGEST_OBJECT = 5 * 1024 * GIB;

export function renderLargestFileTable(): string {
  return [
    `With the default first part of ${DEFAULT_FIRST_PART_BYTES / MIB} MiB (\`S3_PART_SIZE_MIB\`), computed by ` +
      '`runtime/src/storage/s3/part-size-plan.ts`; regenerate with `npm run docs`.',
    '',
    '| `FTP_UPLOAD_BUFFER_MIB` | largest part | largest file |',
    '|---|---|---|',
    ...BUDGETS_MIB.map((budget) => {
      const part = largestPartBytes(budget * MIB, DEFAULT_FIRST_PART_BYTES);
      const largest = largestStreamBytes(DEFAULT_FIRST_PART_BYTES, part);
      return `| ${budget} | ${part / MIB} MiB | ${(largest / GIB).toFixed(1)} GiB${largest >= S3_LARGEST_OBJECT ? " (S3's limit)" : ''} |`;
    }),
  ].join('\n');
}
