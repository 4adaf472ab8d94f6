import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Documentation pages other branches of this round add (partners, limits, resumable
 * uploads, metrics, events, certificates, deploys, benchmarks). While one is missing here,
 * a link to it or a mention of it passes; once it is in, it is checked like any other file.
 * Empty this list when they are merged.
 */
const PAGES_ON_OTHER_BRANCHES: readonly string[] = [
  'docs/partners.md',
  'docs/partner-limits.md',
  'docs/resumable-uploads.md',
  'docs/metrics.md',
  'docs/audit-and-events.md',
  'docs/certificates.md',
  'docs/deploys.md',
  'docs/benchmarks.md',
];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Whether `path` (from the repository root, or a bare file name) is such a page, still missing. */
export function isPageOnAnotherBranch(path: string): boolean {
  const page = PAGES_ON_OTHER_BRANCHES.find((candidate) => candidate === path || basename(candidate) === path);
  return page !== undefined && !existsSync(`${ROOT}/${page}`);
}
