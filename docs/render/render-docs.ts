/**
 * Renders the reference parts of the documentation from the code (generated-docs.ts lists
 * them). Usage: `npm run docs` writes them; `npm run docs:check` exits 1, naming each part
 * out of date, instead of writing. Either exits 1 with the reason when a part cannot be
 * rendered (a log event without its row in log-events.ts).
 */
import { staleParts, writeGeneratedParts } from './generated-docs.ts';

function run(check: boolean): number {
  if (check) {
    const stale = staleParts();
    if (stale.length > 0) {
      console.error(`out of date: ${stale.join(', ')}; run npm run docs`);
      return 1;
    }
    console.log('every generated part of the documentation is up to date');
    return 0;
  }
  const changed = writeGeneratedParts();
  console.log(changed.length > 0 ? `written: ${changed.join(', ')}` : 'every generated part of the documentation was up to date');
  return 0;
}

try {
  process.exitCode = run(process.argv.includes('--check'));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
