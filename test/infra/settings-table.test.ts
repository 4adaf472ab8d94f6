import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { SETTING_NAMES, SETTINGS_PREFIX } from '../../lib/settings-schema.ts';
import { readSettingsBlock } from '../../lib/settings-table-markdown.ts';
import { REPOSITORY_ROOT } from './stack-fixture.ts';

describe('the README settings table', () => {
  test('is as bin/render-settings-table.ts renders it from the schema', () => {
    const result = spawnSync(process.execPath, ['bin/render-settings-table.ts', '--check'], {
      cwd: fileURLToPath(REPOSITORY_ROOT),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, `${result.stderr}${result.stdout}`);
  });

  test('has one row per setting, in the schema order', () => {
    const block = readSettingsBlock(readFileSync(new URL('README.md', REPOSITORY_ROOT), 'utf8'));
    const rows = [...block.matchAll(/^\| `(bridge:\w+)` \|/gm)].map((match) => match[1]);
    assert.deepEqual(rows, SETTING_NAMES.map((name) => SETTINGS_PREFIX + name));
  });
});
