/**
 * Regenerates what is rendered from lib/firewall-rules.ts with the default settings
 * (lib/settings-schema.ts): the firewall table in README.md and the partner page
 * docs/partner-network.md. Usage: `npx node bin/render-firewall-table.ts [--check]`
 * (--check exits 1 instead of writing when either is out of date).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFirewallBlock, renderFirewallTable, replaceFirewallBlock } from '../lib/firewall-table-markdown.ts';
import { PARTNER_PAGE, renderPartnerNetworkPage } from '../lib/partner-network-markdown.ts';
import { defaultSettings } from '../lib/settings.ts';

const root = new URL('../', import.meta.url);
const settings = defaultSettings();
const check = process.argv.includes('--check');

const readmeUrl = new URL('README.md', root);
const readme = readFileSync(readmeUrl, 'utf8');
const table = renderFirewallTable(settings);
const pageUrl = new URL(PARTNER_PAGE, root);
const page = renderPartnerNetworkPage(settings);
let committedPage: string | undefined;
try {
  committedPage = readFileSync(pageUrl, 'utf8');
} catch {
  committedPage = undefined;
}

if (check) {
  const stale = [
    ...(readFirewallBlock(readme) === table ? [] : ['README.md firewall table']),
    ...(committedPage === page ? [] : [PARTNER_PAGE]),
  ];
  if (stale.length > 0) {
    console.error(`out of date: ${stale.join(', ')}; run npx node bin/render-firewall-table.ts`);
    process.exit(1);
  }
  console.log(`README.md firewall table and ${PARTNER_PAGE} are up to date`);
} else {
  const updated = replaceFirewallBlock(readme, table);
  if (updated !== readme) writeFileSync(readmeUrl, updated);
  console.log(updated === readme ? 'README.md firewall table already up to date' : 'README.md firewall table updated');
  if (committedPage !== page) {
    mkdirSync(new URL('.', pageUrl), { recursive: true });
    writeFileSync(pageUrl, page);
  }
  console.log(committedPage === page ? `${PARTNER_PAGE} already up to date` : `${PARTNER_PAGE} written`);
}
