import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODES, RESULTS_DIR, type CaseResult, type ClientResults, type Mode, type Status } from './interop-harness.ts';

/** The clients the issue names, in the order the matrix shows them. */
export const EXPECTED_CLIENTS = ['curl', 'lftp', 'rclone', 'ftplib', 'commons-net', 'wget', 'ncftp', 'tnftp'] as const;

export interface Matrix {
  readonly generatedAt: string;
  readonly runId: string;
  readonly clients: ReadonlyArray<{ client: string; version: string | null; state: 'ran' | 'missing' | 'not run'; writtenAt?: string }>;
  readonly cases: readonly CaseResult[];
  readonly totals: Record<Status, number>;
}

/** Merges results/<client>.json written by the test files of run `runId`. */
export async function collect(runId: string): Promise<Matrix> {
  const files = (await readdir(RESULTS_DIR).catch(() => [] as string[])).filter((name) => name.endsWith('.json') && name !== 'matrix.json');
  const byClient = new Map<string, ClientResults>();
  for (const name of files) {
    const record = JSON.parse(await readFile(join(RESULTS_DIR, name), 'utf8')) as ClientResults;
    if (record.runId === runId) byClient.set(record.client, record);
  }
  const names = [...EXPECTED_CLIENTS, ...[...byClient.keys()].filter((name) => !(EXPECTED_CLIENTS as readonly string[]).includes(name))];
  const clients = names.map((client) => {
    const record = byClient.get(client);
    if (!record) return { client, version: null, state: 'not run' as const };
    const missing = record.cases.length > 0 && record.cases.every((c) => c.status === 'missing');
    return { client, version: record.version, state: missing ? ('missing' as const) : ('ran' as const), writtenAt: record.writtenAt };
  });
  const cases = names.flatMap((client) => byClient.get(client)?.cases ?? []);
  const totals: Record<Status, number> = { pass: 0, fail: 0, missing: 0 };
  for (const c of cases) totals[c.status]++;
  return { generatedAt: new Date().toISOString(), runId, clients, cases, totals };
}

/** Text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

const MARK: Record<Status, string> = { pass: '✅ pass', fail: '❌ FAIL', missing: '⛔ missing' };

export function renderMarkdown(matrix: Matrix): string {
  const out: string[] = [];
  out.push('# FTP client compatibility matrix', '');
  out.push(`Generated ${matrix.generatedAt} by \`npm run test:interop\`: ${matrix.totals.pass} pass, ${matrix.totals.fail} fail, ${matrix.totals.missing} missing.`, '');
  out.push('| Client | Version | State |', '|---|---|---|');
  for (const client of matrix.clients) out.push(`| ${client.client} | ${cell(client.version ?? '—')} | ${client.state} |`);
  out.push('', `| Client | Feature | ${MODES.join(' | ')} |`, `|---|---|${MODES.map(() => '---').join('|')}|`);
  const rows = new Map<string, Map<Mode, CaseResult>>();
  for (const c of matrix.cases) {
    const key = `${c.client}\u0000${c.feature}`;
    if (!rows.has(key)) rows.set(key, new Map());
    rows.get(key)!.set(c.mode, c);
  }
  for (const [key, cells] of rows) {
    const [client, feature] = key.split('\u0000') as [string, string];
    const row = MODES.map((mode) => {
      const cell = cells.get(mode);
      return cell ? MARK[cell.status] : '—';
    });
    out.push(`| ${client} | ${cell(feature)} | ${row.join(' | ')} |`);
  }
  out.push('', '— : not applicable (the client has no such mode).');
  const failures = matrix.cases.filter((c) => c.status === 'fail');
  if (failures.length > 0) {
    out.push('', '## Failures', '');
    for (const c of failures) {
      out.push(`- **${c.client} · ${c.feature} · ${c.mode}**: ${(c.error ?? '').split('\n').slice(0, 3).join(' ').slice(0, 300)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** A compact plain-text table for the console. */
export function renderText(matrix: Matrix): string {
  const short: Record<Status, string> = { pass: 'pass', fail: 'FAIL', missing: 'missing' };
  const rows: string[][] = [['client', 'feature', ...MODES]];
  const grouped = new Map<string, Map<Mode, CaseResult>>();
  for (const c of matrix.cases) {
    const key = `${c.client}\u0000${c.feature}`;
    if (!grouped.has(key)) grouped.set(key, new Map());
    grouped.get(key)!.set(c.mode, c);
  }
  for (const [key, cells] of grouped) {
    const [client, feature] = key.split('\u0000') as [string, string];
    rows.push([client, feature.length > 60 ? `${feature.slice(0, 57)}...` : feature, ...MODES.map((mode) => (cells.get(mode) ? short[cells.get(mode)!.status] : '-'))]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...row[column]!].length)));
  const lines = rows.map((row) => row.map((cell, column) => cell + ' '.repeat(widths[column]! - [...cell].length)).join('  '));
  lines.splice(1, 0, widths.map((width) => '-'.repeat(width)).join('  '));
  const versions = matrix.clients.map((c) => `  ${c.client}: ${c.state === 'ran' ? c.version : c.state.toUpperCase()}`);
  return [
    'FTP client compatibility matrix',
    ...versions,
    '',
    ...lines,
    '',
    `${matrix.totals.pass} pass, ${matrix.totals.fail} fail, ${matrix.totals.missing} missing`,
  ].join('\n');
}

export async function writeMatrix(matrix: Matrix): Promise<{ json: string; markdown: string }> {
  const json = join(RESULTS_DIR, 'matrix.json');
  const markdown = join(RESULTS_DIR, 'matrix.md');
  await writeFile(json, `${JSON.stringify(matrix, null, 2)}\n`);
  await writeFile(markdown, renderMarkdown(matrix));
  return { json, markdown };
}
