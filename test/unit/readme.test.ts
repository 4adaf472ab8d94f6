import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configVariables } from '../../runtime/src/config.ts';
import { COMMANDS } from '../../runtime/src/protocol/command-table.ts';
import {
  DEFAULT_FIRST_PART_BYTES,
  GIB,
  MIB,
  largestPartBytes,
  largestStreamBytes,
} from '../../runtime/src/storage/part-size-plan.ts';

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

test('the README table of the largest file per buffer budget is what the part plan computes', () => {
  const rows = [...section('### Memory').matchAll(/^\| (\d+) \| (\d+) MiB \| ([\d.]+) GiB[^|]* \|$/gm)];
  assert.ok(rows.length >= 5, 'the Memory section has the table');
  for (const [row, budget, part, largest] of rows) {
    const partBytes = largestPartBytes(Number(budget) * MIB, DEFAULT_FIRST_PART_BYTES);
    assert.equal(partBytes, Number(part) * MIB, row);
    assert.equal((largestStreamBytes(DEFAULT_FIRST_PART_BYTES, partBytes) / GIB).toFixed(1), largest, row);
  }
});
