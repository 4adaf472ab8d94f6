/**
 * Regenerates the firewall table in README.md from lib/firewall-rules.ts with the
 * default settings of cdk.json. Usage: `npx node bin/render-firewall-table.ts [--check]`
 * (--check exits 1 instead of writing when the README is out of date).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { defaultSettingsFromCdkJson } from '../lib/cdk-json-settings.ts';
import { readFirewallBlock, renderFirewallTable, replaceFirewallBlock } from '../lib/firewall-table-markdown.ts';

const root = new URL('../', import.meta.url);
const readmeUrl = new URL('README.md', root);
const readme = readFileSync(readmeUrl, 'utf8');
const table = renderFirewallTable(defaultSettingsFromCdkJson(new URL('cdk.json', root)));

if (process.argv.includes('--check')) {
  if (readFirewallBlock(readme) !== table) {
    console.error('README.md firewall table is out of date: run npx node bin/render-firewall-table.ts');
    process.exit(1);
  }
  console.log('README.md firewall table is up to date');
} else {
  const updated = replaceFirewallBlock(readme, table);
  if (updated !== readme) writeFileSync(readmeUrl, updated);
  console.log(updated === readme ? 'README.md firewall table already up to date' : 'README.md firewall table updated');
}
