/**
 * Renders the firewall table as Markdown for docs/deploy.md, between the markers
 * `<!-- firewall-table:start -->` and `<!-- firewall-table:end -->`.
 */
import { firewallTable } from './firewall-rules.ts';
import type { FirewallPeer, PortRange } from './firewall-rules.ts';
import { readGeneratedBlock, replaceGeneratedBlock } from './generated-block.ts';
import type { BridgeSettings } from './settings.ts';

/** Names the block's markers. */
const FIREWALL_BLOCK = 'firewall-table';

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
    `Ports as deployed with the default settings (passive range ${settings.shardCount} shards × ${settings.passivePortsPerShard} ports); ` +
      'the stack derives every rule from the same table (`lib/firewall-rules.ts`) for your settings. ' +
      'Regenerate this block with `npm run docs`.',
    '',
    '| security group | direction | protocol | ports | peer | when | purpose |',
    '|---|---|---|---|---|---|---|',
    ...firewallTable(settings).map((row) =>
      `| ${row.group} | ${row.direction} | ${row.protocol.toUpperCase()} | ${portText(row.ports)} | ${PEER_TEXT[row.peer]} | ${row.when} | ${row.purpose.replaceAll('|', '\\|')} |`,
    ),
  ];
  return lines.join('\n');
}

/** The firewall block of a document (docs/deploy.md). */
export function readFirewallBlock(document: string): string {
  return readGeneratedBlock(document, FIREWALL_BLOCK);
}

/** The document with its firewall block replaced by `table`. */
export function replaceFirewallBlock(document: string, table: string): string {
  return replaceGeneratedBlock(document, FIREWALL_BLOCK, table);
}
