/**
 * Regenerates the Logs Insights queries in README.md ("### Read logs") from lib/log-queries.ts,
 * the table the stack saves them from. Usage: `npx node bin/render-log-queries.ts [--check]`
 * (--check exits 1 instead of writing when the README is out of date).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readLogQueriesBlock, renderLogQueries, replaceLogQueriesBlock } from '../lib/log-queries-markdown.ts';

const readmeUrl = new URL('../README.md', import.meta.url);
const readme = readFileSync(readmeUrl, 'utf8');
const text = renderLogQueries();

if (process.argv.includes('--check')) {
  if (readLogQueriesBlock(readme) !== text) {
    console.error('out of date: README.md Logs Insights queries; run npx node bin/render-log-queries.ts');
    process.exit(1);
  }
  console.log('README.md Logs Insights queries are up to date');
} else {
  const updated = replaceLogQueriesBlock(readme, text);
  if (updated !== readme) writeFileSync(readmeUrl, updated);
  console.log(updated === readme ? 'README.md Logs Insights queries already up to date' : 'README.md Logs Insights queries updated');
}
