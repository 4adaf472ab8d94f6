import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { test } from 'node:test';
import { REQUIRE_CLIENTS, RESULTS_DIR, RUN_ID } from '../support/interop-harness.ts';
import { collect, renderText, writeMatrix } from '../support/interop-matrix.ts';

/**
 * Runs last (files run in name order, one at a time): merges the results every
 * client file of this `node --test` run wrote, prints the compatibility matrix and
 * writes it to results/matrix.json and results/matrix.md. In CI (CI=true or
 * INTEROP_REQUIRE_CLIENTS=1) every client must have run and none may be missing.
 */
test('compatibility matrix (client × feature)', async () => {
  await mkdir(RESULTS_DIR, { recursive: true });
  const matrix = await collect(RUN_ID);
  const written = await writeMatrix(matrix);
  console.log(`\n${renderText(matrix)}\n\nwritten: ${written.json}\n         ${written.markdown}\n`);
  if (REQUIRE_CLIENTS) {
    const absent = matrix.clients.filter((client) => client.state !== 'ran');
    assert.deepEqual(absent.map((c) => `${c.client}: ${c.state}`), [], 'CI requires every client to be installed and to have run');
  }
});
