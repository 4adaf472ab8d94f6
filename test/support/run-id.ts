/**
 * Identifies one run of a suite whose test files record results (abuse figures, the
 * interop matrix): each record carries it, and the report script that runs after the
 * suite reads only this run's records. The suite's run.sh sets TEST_RUN_ID for both;
 * a test file run on its own falls back to its runner's process id.
 */
export const RUN_ID = process.env.TEST_RUN_ID ?? String(process.ppid);

/** The run a report script reports on: TEST_RUN_ID, which the suite's run.sh sets. */
export function reportedRunId(script: string): string {
  const id = process.env.TEST_RUN_ID;
  if (id === undefined || id === '') {
    process.stderr.write(`${script}: TEST_RUN_ID is not set: run it through its suite's run.sh (npm run test:abuse, npm run test:interop)\n`);
    process.exit(2);
  }
  return id;
}
