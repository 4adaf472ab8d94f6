import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { configVariables } from '../../runtime/src/config.ts';
import { COMMANDS } from '../../runtime/src/protocol/command-table.ts';
import {
  DEFAULT_FIRST_PART_BYTES,
  GIB,
  MIB,
  largestPartBytes,
  largestStreamBytes,
} from '../../runtime/src/storage/s3/part-size-plan.ts';

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

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Every log call of the runtime (`logger.info(...)`, `this.log.warn(...)`,
 * `logger[level](...)`): the events its first argument names (string literals of its
 * `event` property, both sides of a conditional), or where it is when it names none. A
 * first argument that is a variable counts through the object literal it was declared with.
 */
function logCalls(): { events: Set<string>; withoutEvent: string[] } {
  const events = new Set<string>();
  const withoutEvent: string[] = [];
  const runtime = fileURLToPath(new URL('../../runtime/src', import.meta.url));
  for (const file of sourceFiles(runtime)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const declared = new Map<string, ts.Expression>();
    const collect = (node: ts.Node): void => {
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) declared.set(node.name.text, node.initializer);
      ts.forEachChild(node, collect);
    };
    collect(source);
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && isLogCall(node.expression)) {
        let fields: ts.Expression | undefined = node.arguments[0];
        if (fields && ts.isIdentifier(fields)) fields = declared.get(fields.text);
        const event = fields && ts.isObjectLiteralExpression(fields)
          ? fields.properties.find((property) => ts.isPropertyAssignment(property) && property.name.getText() === 'event')
          : undefined;
        if (event && ts.isPropertyAssignment(event)) {
          const literals = (expression: ts.Expression): void => {
            if (ts.isStringLiteral(expression)) events.add(expression.text);
            else if (ts.isConditionalExpression(expression)) [expression.whenTrue, expression.whenFalse].forEach(literals);
            else if (ts.isParenthesizedExpression(expression)) literals(expression.expression);
            else withoutEvent.push(`${file}: an event that is not a string literal: ${expression.getText()}`);
          };
          literals(event.initializer);
        } else {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart());
          withoutEvent.push(`${file.slice(runtime.length + 1)}:${line + 1}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { events, withoutEvent };
}

function isLogCall(callee: ts.Expression): boolean {
  const target = ts.isPropertyAccessExpression(callee) || ts.isElementAccessExpression(callee) ? callee.expression : undefined;
  if (target === undefined || !/\blog(ger)?$/i.test(target.getText().replace(/^this\.#?/, ''))) return false;
  return ts.isElementAccessExpression(callee) || LOG_LEVELS.has((callee as ts.PropertyAccessExpression).name.text);
}

test('every log line the runtime writes has an event, and the README Logs table names exactly those events', () => {
  const { events, withoutEvent } = logCalls();
  assert.deepEqual(withoutEvent, [], 'log calls without an event field');
  assert.ok(events.size > 30, `found the log calls (${events.size} events)`);
  const table = section('### Logs');
  const documented = new Set(
    [...table.matchAll(/^\| (`[a-z-]+`(?: \/ `[a-z-]+`)*) \|/gm)].flatMap(([, names]) => [...names!.matchAll(/`([a-z-]+)`/g)].map(([, name]) => name!)),
  );
  assert.deepEqual([...events].filter((event) => !documented.has(event)).sort(), [], 'events the code logs that README does not document');
  assert.deepEqual([...documented].filter((event) => !events.has(event)).sort(), [], 'events README documents that the code never logs');
});
