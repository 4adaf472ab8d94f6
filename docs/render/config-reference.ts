/**
 * The configuration reference (docs/configuration.md): one row per environment variable,
 * from the runtime's own table (runtime/src/config.ts), the one `--help` prints.
 */
import { configVariables } from '../../runtime/src/config.ts';
import { tableCell } from './markdown.ts';

export function renderConfigurationTable(): string {
  return [
    'Rendered from `runtime/src/config.ts` (the table `--help` prints); regenerate with `npm run docs`.',
    '',
    '| variable | default | meaning |',
    '|---|---|---|',
    ...configVariables().map((variable) => `| \`${variable.name}\` | ${tableCell(variable.defaultText)} | ${tableCell(variable.description)} |`),
  ].join('\n');
}
