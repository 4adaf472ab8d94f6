/**
 * Renders the settings reference (docs/deploy.md, "Settings") from the settings table in
 * settings-schema.ts, between the markers `<!-- settings-table:start -->` and
 * `<!-- settings-table:end -->`.
 */
import { readGeneratedBlock, replaceGeneratedBlock } from './generated-block.ts';
import { SETTING_NAMES, SETTINGS, SETTINGS_PREFIX } from './settings-schema.ts';

const SETTINGS_BLOCK = 'settings-table';

export function renderSettingsTable(): string {
  return [
    'Context keys and their defaults, rendered from `lib/settings-schema.ts` (the one place defaults live; ' +
      '`lib/settings-rules.ts` holds the rules between settings). Regenerate this block with `npm run docs`.',
    '',
    '| setting | default | meaning |',
    '|---|---|---|',
    ...SETTING_NAMES.map((name) => `| \`${SETTINGS_PREFIX}${name}\` | ${SETTINGS[name].defaultText} | ${SETTINGS[name].meaning.replaceAll('|', '\\|')} |`),
  ].join('\n');
}

/** The settings block of a document (docs/deploy.md). */
export function readSettingsBlock(document: string): string {
  return readGeneratedBlock(document, SETTINGS_BLOCK);
}

/** The document with its settings block replaced by `table`. */
export function replaceSettingsBlock(document: string, table: string): string {
  return replaceGeneratedBlock(document, SETTINGS_BLOCK, table);
}
