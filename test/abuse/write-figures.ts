import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectCases, renderTable, RESULTS_DIR } from '../support/abuse-figures.ts';
import { reportedRunId } from '../support/run-id.ts';

/**
 * The report after the abuse suite (test/abuse/run.sh runs it, after the suite, whether
 * or not a test failed): prints one table of what every case of the run recorded, writes
 * it to results/figures.json, and exits 1 when a numbered case recorded nothing.
 */

/**
 * The numbered cases of both hardening rounds (1-10 from the first, r2-1 to r2-11 from
 * the second): each must have been replayed by this run.
 */
const CASES = [
  ...['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'],
  ...['r2-1', 'r2-2', 'r2-3', 'r2-4', 'r2-5', 'r2-6', 'r2-7', 'r2-8', 'r2-9', 'r2-10', 'r2-11'],
  // Found by the round's own red-team pass: folder renames and read-backs per user.
  ...['r2-x1', 'r2-x2'],
];

const LEGEND = `accepted / refused / held: the attack's connections or attempts that the bridge served (for an attack
that must not succeed, such as an injected login or a stolen transfer: that succeeded), that it turned away,
and that it still held at the end. RSS: settled before the attack, its peak during it, settled after.
`;

const cases = await collectCases(reportedRunId('write-figures'));
await mkdir(RESULTS_DIR, { recursive: true });
const written = join(RESULTS_DIR, 'figures.json');
await writeFile(written, `${JSON.stringify({ generatedAt: new Date().toISOString(), cases }, null, 2)}\n`);
console.log(`\n${renderTable(cases)}\n\n${LEGEND}\nwritten: ${written}\n`);
const replayed = new Set(cases.map((c) => c.case.replace(/[a-z]+$/, '')));
const missing = CASES.filter((number) => !replayed.has(number));
if (missing.length > 0) {
  console.error(`abuse figures: no figures from case ${missing.join(', ')}: every numbered case of both hardening rounds must record its figures`);
  process.exitCode = 1;
}
