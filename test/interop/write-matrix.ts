import { mkdir } from 'node:fs/promises';
import { REQUIRE_CLIENTS, RESULTS_DIR } from '../support/interop-harness.ts';
import { collect, renderText, writeMatrix } from '../support/interop-matrix.ts';
import { reportedRunId } from '../support/run-id.ts';

/**
 * The report after the interoperability suite (test/interop/run.sh runs it, after the
 * suite, whether or not a test failed): merges the results every client file of the run
 * wrote, prints the compatibility matrix and writes it to results/matrix.json and
 * results/matrix.md. In CI (CI=true or INTEROP_REQUIRE_CLIENTS=1) every client must have
 * run and none may be missing, or it exits 1.
 */
await mkdir(RESULTS_DIR, { recursive: true });
const matrix = await collect(reportedRunId('write-matrix'));
const written = await writeMatrix(matrix);
console.log(`\n${renderText(matrix)}\n\nwritten: ${written.json}\n         ${written.markdown}\n`);
const absent = matrix.clients.filter((client) => client.state !== 'ran');
if (REQUIRE_CLIENTS && absent.length > 0) {
  console.error(`compatibility matrix: CI requires every client to be installed and to have run: ${absent.map((c) => `${c.client}: ${c.state}`).join(', ')}`);
  process.exitCode = 1;
}
