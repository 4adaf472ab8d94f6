/**
 * Regenerates the settings table in README.md ("### Settings") from lib/settings-schema.ts.
 * Usage: `npx node bin/render-settings-table.ts [--check]` (--check exits 1 instead of
 * writing when the table is out of date; test/infra/settings-table.test.ts runs it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readSettingsBlock, renderSettingsTable, replaceSettingsBlock } from '../lib/settings-table-markdown.ts';

const readmeUrl = new URL('../README.md', import.meta.url);
const readme = readFileSync(readmeUrl, 'utf8');
const table = renderSettingsTable();

if (process.argv.includes('--check')) {
  if (readSettingsBlock(readme) !== table) {
    console.error('out of date: README.md settings table; run npx node bin/render-settings-table.ts');
    process.exit(1);
  }
  console.log('README.md settings table is up to date');
} else {
  const updated = replaceSettingsBlock(readme, table);
  if (updated !== readme) writeFileSync(readmeUrl, updated);
  console.log(updated === readme ? 'README.md settings table already up to date' : 'README.md settings table updated');
}
