/**
 * Renders the saved Logs Insights queries (lib/log-queries.ts) for docs/operations.md,
 * between the markers `<!-- log-queries:start -->` and `<!-- log-queries:end -->`.
 */
import { readGeneratedBlock, replaceGeneratedBlock } from './generated-block.ts';
import { LOG_QUERIES, queryText } from './log-queries.ts';

const BLOCK = 'log-queries';

export function renderLogQueries(): string {
  return ['```', LOG_QUERIES.map((query) => `# ${query.title} (saved as <stack>/${query.name})\n${queryText(query)}`).join('\n\n'), '```'].join('\n');
}

export function readLogQueriesBlock(document: string): string {
  return readGeneratedBlock(document, BLOCK);
}

export function replaceLogQueriesBlock(document: string, text: string): string {
  return replaceGeneratedBlock(document, BLOCK, text);
}
