/**
 * Renders the firewall table as Markdown for the README, between the markers
 * `<!-- firewall-table:start -->` and `<!-- firewall-table:end -->`.
 */
import { firewallTable } from './firewall-rules.ts';
import type { FirewallPeer, PortRange } from './firewall-rules.ts';
import type { BridgeSettings } from './settings.ts';

export const FIREWALL_TABLE_START = '<!-- firewall-table:start -->';
export const FIREWALL_TABLE_END = '<!-- firewall-table:end -->';

const PEER_TEXT: Record<FirewallPeer, string> = {
  'allowed-clients': 'allowed client networks (`bridge:allowedCidrs`)',
  'load-balancer': 'load balancer security group',
  task: 'task security group',
  's3-prefix-list': 'S3 prefix list (`com.amazonaws.<region>.s3`)',
  'interface-endpoints': 'interface endpoints security group',
  anywhere: '0.0.0.0/0',
};

function portText(ports: PortRange): string {
  return ports.from === ports.to ? `${ports.from}` : `${ports.from}-${ports.to}`;
}

/** The whole table (every row, with the condition that includes it), ports resolved against `settings`. */
export function renderFirewallTable(settings: BridgeSettings): string {
  const lines = [
    `Ports as deployed with the defaults in \`cdk.json\` (passive range ${settings.shardCount} shards × ${settings.passivePortsPerShard} ports); ` +
      'the stack derives every rule from the same table (`lib/firewall-rules.ts`) for your settings. ' +
      'Regenerate this block with `npx node bin/render-firewall-table.ts`.',
    '',
    '| security group | direction | protocol | ports | peer | when | purpose |',
    '|---|---|---|---|---|---|---|',
    ...firewallTable(settings).map((row) =>
      `| ${row.group} | ${row.direction} | ${row.protocol.toUpperCase()} | ${portText(row.ports)} | ${PEER_TEXT[row.peer]} | ${row.when} | ${row.purpose.replaceAll('|', '\\|')} |`,
    ),
  ];
  return lines.join('\n');
}

function markerPositions(document: string): { start: number; end: number } {
  const start = document.indexOf(FIREWALL_TABLE_START);
  const end = document.indexOf(FIREWALL_TABLE_END);
  if (start < 0 || end < 0 || end < start) {
    throw new Error(`the document needs the markers ${FIREWALL_TABLE_START} and ${FIREWALL_TABLE_END}, in that order`);
  }
  return { start: start + FIREWALL_TABLE_START.length, end };
}

/** The text between the markers, without surrounding blank lines. */
export function readFirewallBlock(document: string): string {
  const { start, end } = markerPositions(document);
  return document.slice(start, end).trim();
}

/** The document with the text between the markers replaced by `table`. */
export function replaceFirewallBlock(document: string, table: string): string {
  const { start, end } = markerPositions(document);
  return `${document.slice(0, start)}\n${table}\n${document.slice(end)}`;
}
