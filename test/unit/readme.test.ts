import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configVariables } from '../../runtime/src/config.ts';
import { COMMANDS } from '../../runtime/src/protocol/command-table.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function section(heading: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  assert.notEqual(start, -1, `README has ${heading}`);
  const next = README.indexOf('\n## ', start + heading.length + 1);
  return README.slice(start, next === -1 ? undefined : next);
}

test('the README configuration table has every variable, with the default --help shows', () => {
  const table = section('## Configuration');
  for (const variable of configVariables()) {
    const row = `| \`${variable.name}\` | ${variable.defaultText.replace(/\|/g, '\\|')} |`;
    assert.ok(table.includes(row), `README row for ${variable.name}: ${row}`);
  }
});

test('the README lists every command of the command table', () => {
  const commands = section('## Supported commands');
  for (const verb of COMMANDS.keys()) assert.match(commands, new RegExp(`\`${verb}\``), `README mentions ${verb}`);
});
