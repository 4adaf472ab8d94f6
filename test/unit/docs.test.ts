import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../runtime/src/protocol/command-table.ts';
import { configVariables } from '../../runtime/src/config.ts';
import { committedText, GENERATED_PARTS } from '../../docs/render/generated-docs.ts';
import { loggedEvents } from '../../docs/render/log-event-scan.ts';
import { LOG_EVENTS } from '../../docs/render/log-events.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('every generated part of the docs is what the code renders today (npm run docs:check)', () => {
  const result = spawnSync(process.execPath, ['docs/render/render-docs.ts', '--check'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, `${result.stderr}${result.stdout}`);
});

test('the generated references name every configuration variable and every command', () => {
  const text = (block: string): string => committedText(GENERATED_PARTS.find((part) => part.block === block)!);
  for (const variable of configVariables()) assert.match(text('config-table'), new RegExp(`^\\| \`${variable.name}\` \\|`, 'm'));
  for (const verb of COMMANDS.keys()) assert.match(text('command-table'), new RegExp(`^\\| \`${verb}\` \\|`, 'm'));
});

test('every log line the runtime writes has an event, and the log-event table describes exactly those, at their levels', () => {
  const { events, withoutEvent } = loggedEvents();
  assert.deepEqual(withoutEvent, [], 'log calls without an event field');
  assert.ok(events.size > 30, `found the log calls (${events.size} events)`);
  const described = new Map(LOG_EVENTS.flatMap((row) => row.events.map((event) => [event, row] as const)));
  assert.deepEqual(
    [...events.keys()].filter((event) => !described.has(event)).sort(),
    [],
    'events the code logs that docs/render/log-events.ts does not describe (add a row, then npm run docs)',
  );
  assert.deepEqual([...described.keys()].filter((event) => !events.has(event)).sort(), [], 'events described that the code never logs');
  for (const [event, levels] of events) {
    const documented: string[] = described.get(event)!.level.match(/[a-z]+/g) ?? [];
    for (const level of levels) assert.ok(documented.includes(level), `${event} is logged at ${level}; its row says "${described.get(event)!.level}"`);
  }
});

/** The anchors GitHub makes for a page's headings. */
function anchors(markdown: string): Set<string> {
  const result = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = heading!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

/** The repository's files: tracked, or new and not ignored (.local/, cdk.out/ and the like are not). */
function repositoryFiles(): Set<string> {
  const listed = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  return new Set(listed.stdout.split('\0').filter((path) => path !== '' && existsSync(join(ROOT, path))));
}

test('every relative link of a Markdown document points at a file of the repository, and at a heading of it', () => {
  const problems: string[] = [];
  const files = repositoryFiles();
  const documents = [...files].filter((path) => path.endsWith('.md') && !path.startsWith('bench/results/')).map((path) => join(ROOT, path));
  const inRepository = (path: string): boolean => files.has(path) || [...files].some((file) => file.startsWith(`${path.replace(/\/$/, '')}/`));
  for (const file of documents) {
    const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const resolved = path === '' ? file : join(dirname(file), decodeURIComponent(path));
      const inRoot = relative(ROOT, resolved);
      const where = `${relative(ROOT, file)} → ${target}`;
      if (inRoot.startsWith('..') || !inRepository(inRoot)) {
        problems.push(`${where}: no such file in the repository`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith('.md') && !anchors(readFileSync(resolved, 'utf8')).has(anchor)) {
        problems.push(`${where}: no such heading`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
