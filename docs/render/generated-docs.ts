/**
 * Every part of the documentation that is rendered from the code, and where it goes: a
 * block between `<!-- NAME:start -->` and `<!-- NAME:end -->` of a page, or a whole page.
 * `npm run docs` writes them all; `npm run docs:check` (and test/unit/docs.test.ts) fails
 * when one is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderFirewallTable } from '../../lib/firewall-table-markdown.ts';
import { readGeneratedBlock, replaceGeneratedBlock } from '../../lib/generated-block.ts';
import { renderLogQueries } from '../../lib/log-queries-markdown.ts';
import { PARTNER_PAGE, renderPartnerNetworkPage } from '../../lib/partner-network-markdown.ts';
import { defaultSettings } from '../../lib/settings.ts';
import { renderSettingsTable } from '../../lib/settings-table-markdown.ts';
import { renderCommandTable } from './command-reference.ts';
import { renderConfigurationTable } from './config-reference.ts';
import { renderLargestFileTable } from './largest-file-table.ts';
import { renderLogEventTable } from './log-events.ts';

export interface GeneratedPart {
  /** The page, relative to the repository root. */
  readonly file: string;
  /** The block's marker name; absent: the whole page is rendered. */
  readonly block?: string;
  readonly render: () => string;
}

export const GENERATED_PARTS: readonly GeneratedPart[] = [
  { file: 'docs/configuration.md', block: 'config-table', render: renderConfigurationTable },
  { file: 'docs/commands.md', block: 'command-table', render: renderCommandTable },
  { file: 'docs/operations.md', block: 'log-events', render: renderLogEventTable },
  { file: 'docs/operations.md', block: 'log-queries', render: renderLogQueries },
  { file: 'docs/operations.md', block: 'largest-file', render: renderLargestFileTable },
  { file: 'docs/deploy.md', block: 'settings-table', render: renderSettingsTable },
  { file: 'docs/deploy.md', block: 'firewall-table', render: () => renderFirewallTable(defaultSettings()) },
  { file: PARTNER_PAGE, render: () => renderPartnerNetworkPage(defaultSettings()) },
];

const ROOT = new URL('../../', import.meta.url);

function read(file: string): string {
  try {
    return readFileSync(new URL(file, ROOT), 'utf8');
  } catch {
    return '';
  }
}

/** What the part shows today in its page (the block's text, or the whole page). */
export function committedText(part: GeneratedPart): string {
  const page = read(part.file);
  return part.block === undefined ? page : readGeneratedBlock(page, part.block);
}

/** The parts whose page does not show what the code renders, as `file (block)`. */
export function staleParts(): string[] {
  return GENERATED_PARTS.filter((part) => committedText(part) !== part.render()).map(
    (part) => (part.block === undefined ? part.file : `${part.file} (${part.block})`),
  );
}

/** Renders every part into its page; returns the pages it changed. */
export function writeGeneratedParts(): string[] {
  const changed = new Set<string>();
  for (const part of GENERATED_PARTS) {
    const page = read(part.file);
    const updated = part.block === undefined ? part.render() : replaceGeneratedBlock(page, part.block, part.render());
    if (updated !== page) {
      writeFileSync(new URL(part.file, ROOT), updated);
      changed.add(part.file);
    }
  }
  return [...changed];
}
