import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SETTING_NAMES, SETTINGS_PREFIX } from '../../lib/settings-schema.ts';
import { readSettingsBlock, renderSettingsTable } from '../../lib/settings-table-markdown.ts';
import { REPOSITORY_ROOT } from './stack-fixture.ts';

describe('the settings table of docs/deploy.md', () => {
  const block = readSettingsBlock(readFileSync(new URL('docs/deploy.md', REPOSITORY_ROOT), 'utf8'));

  test('is as npm run docs renders it from the schema', () => {
    assert.equal(block, renderSettingsTable(), 'docs/deploy.md is out of date: run npm run docs');
  });

  test('has one row per setting, in the schema order', () => {
    const rows = [...block.matchAll(/^\| `(bridge:\w+)` \|/gm)].map((match) => match[1]);
    assert.deepEqual(rows, SETTING_NAMES.map((name) => SETTINGS_PREFIX + name));
  });
});
